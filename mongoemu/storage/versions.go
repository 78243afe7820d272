package storage

import (
	"bytes"
	"sort"
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Versions lets a read see the majority-committed snapshot instead of the newest local writes.
//
// mongod reads WiredTiger's history at the committed snapshot's timestamp
// (RecoveryUnit::ReadSource::kMajorityCommitted, db/read_concern_mongod.cpp); bbolt keeps only
// the newest value. So Versions keeps, in memory, the value every document had before each
// write made after the published snapshot: a document's value at snapshot S is the "before" of
// its earliest write with ts > S, or its stored value if it has none. Writes at or below every
// snapshot still in use are forgotten, so the history holds only what a majority has not
// acknowledged yet.
//
// After a restart, a rollback or an initial sync the history is gone while the data may hold
// writes the majority never had, so Reset sets a floor: no snapshot exists until the published
// one reaches it (mongod drops its committed snapshots then too, and majority reads wait for a
// new one: ReplicationCoordinatorImpl::_dropAllSnapshots_inlock, waitUntilSnapshotCommitted).
// That is stricter than mongod (which can read its recovered stable timestamp) and never kinder.
//
// Collection creates and drops are not versioned: a majority read sees them at once.
//
// All methods are safe for concurrent use; mu is a leaf lock (nothing is called under it).
type Versions struct {
	mu        sync.Mutex
	committed bson.Timestamp
	floor     bson.Timestamp
	pins      map[bson.Timestamp]int
	docs      map[string]map[string][]version // ns -> document key -> writes, ts ascending
	spans     []span                          // transactions of several oplog entries, not yet committed
	changed   chan struct{}                   // closed and replaced when a snapshot changes
}

// span is one transaction's oplog timestamps (a batch applied by a secondary, an insertMany).
// Its writes are all stamped with last, so no snapshot may fall inside it: SetCommitted rounds a
// timestamp in [first, last) down to just before first (mongod commits a batch's documents at
// their own timestamps; here the snapshot is older, never newer).
type span struct{ first, last bson.Timestamp }

type version struct {
	ts     bson.Timestamp
	before []byte // nil: the document did not exist
}

// change is one document write in a Tx, remembered until the Tx's oplog timestamp is known.
type change struct {
	ns     string
	key    []byte
	before []byte
}

// NewVersions returns an empty history with no snapshot available yet.
func NewVersions() *Versions {
	return &Versions{pins: map[bson.Timestamp]int{}, docs: map[string]map[string][]version{}, changed: make(chan struct{})}
}

func tsLess(a, b bson.Timestamp) bool { return a.T < b.T || (a.T == b.T && a.I < b.I) }

// SetCommitted publishes the newest majority-committed timestamp this node has applied.
func (v *Versions) SetCommitted(ts bson.Timestamp) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, sp := range v.spans {
		if !tsLess(ts, sp.first) && tsLess(ts, sp.last) {
			ts = before(sp.first)
		}
	}
	if !tsLess(v.committed, ts) {
		return
	}
	v.committed = ts
	v.pruneLocked()
	close(v.changed)
	v.changed = make(chan struct{})
}

// Reset forgets the history: no snapshot exists until the published timestamp reaches floor.
func (v *Versions) Reset(floor bson.Timestamp) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.floor = floor
	v.docs = map[string]map[string][]version{}
	v.spans = nil
	close(v.changed)
	v.changed = make(chan struct{})
}

// Available reports the current snapshot timestamp, if there is one, and a channel closed at the
// next change (to wait on).
func (v *Versions) Available() (bson.Timestamp, bool, <-chan struct{}) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.committed, v.availableLocked(), v.changed
}

func (v *Versions) availableLocked() bool {
	return !v.committed.IsZero() && !tsLess(v.committed, v.floor)
}

// Snapshot is a pinned read point: the history it needs is kept until Release.
type Snapshot struct {
	v  *Versions
	TS bson.Timestamp
}

// Pin returns the current snapshot, false when none is available.
func (v *Versions) Pin() (*Snapshot, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.availableLocked() {
		return nil, false
	}
	v.pins[v.committed]++
	return &Snapshot{v: v, TS: v.committed}, true
}

// Release unpins s; it may be called more than once.
func (s *Snapshot) Release() {
	if s == nil || s.v == nil {
		return
	}
	v := s.v
	s.v = nil
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.pins[s.TS]--; v.pins[s.TS] <= 0 {
		delete(v.pins, s.TS)
	}
	v.pruneLocked()
}

// pruneLocked forgets writes no pinned or future snapshot can need.
func (v *Versions) pruneLocked() {
	bound := v.committed
	for ts := range v.pins {
		if tsLess(ts, bound) {
			bound = ts
		}
	}
	kept := v.spans[:0]
	for _, sp := range v.spans {
		if tsLess(v.committed, sp.last) {
			kept = append(kept, sp)
		}
	}
	v.spans = kept
	for ns, byKey := range v.docs {
		for k, vs := range byKey {
			i := sort.Search(len(vs), func(i int) bool { return tsLess(bound, vs[i].ts) })
			if i == len(vs) {
				delete(byKey, k)
			} else if i > 0 {
				byKey[k] = vs[i:]
			}
		}
		if len(byKey) == 0 {
			delete(v.docs, ns)
		}
	}
}

// record remembers the values changes overwrote, written at ts. A document written twice in one
// transaction keeps its first (pre-transaction) value.
func (v *Versions) record(first, ts bson.Timestamp, changes []change) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if tsLess(first, ts) {
		v.spans = append(v.spans, span{first: first, last: ts})
	}
	for _, c := range changes {
		byKey := v.docs[c.ns]
		if byKey == nil {
			byKey = map[string][]version{}
			v.docs[c.ns] = byKey
		}
		vs := byKey[string(c.key)]
		if n := len(vs); n > 0 && !tsLess(vs[n-1].ts, ts) {
			continue
		}
		byKey[string(c.key)] = append(vs, version{ts: ts, before: c.before})
	}
}

// before is the timestamp just before ts.
func before(ts bson.Timestamp) bson.Timestamp {
	if ts.I > 0 {
		return bson.Timestamp{T: ts.T, I: ts.I - 1}
	}
	if ts.T == 0 {
		return ts
	}
	return bson.Timestamp{T: ts.T - 1, I: ^uint32(0)}
}

// overlay is what differs at snapshot at in ns: document key -> value then (nil: absent).
type overlay map[string][]byte

func (v *Versions) overlay(ns string, at bson.Timestamp) overlay {
	v.mu.Lock()
	defer v.mu.Unlock()
	var out overlay
	for k, vs := range v.docs[ns] {
		i := sort.Search(len(vs), func(i int) bool { return tsLess(at, vs[i].ts) })
		if i == len(vs) {
			continue
		}
		if out == nil {
			out = overlay{}
		}
		out[k] = vs[i].before
	}
	return out
}

// valueAt is one document's entry of overlay(ns, at): its value then, and whether it differs.
func (v *Versions) valueAt(ns string, key []byte, at bson.Timestamp) ([]byte, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	vs := v.docs[ns][string(key)]
	i := sort.Search(len(vs), func(i int) bool { return tsLess(at, vs[i].ts) })
	if i == len(vs) {
		return nil, false
	}
	return vs[i].before, true
}

// sortedKeys is the overlay's keys in storage (_id) order.
func (o overlay) sortedKeys() [][]byte {
	keys := make([][]byte, 0, len(o))
	for k := range o {
		keys = append(keys, []byte(k))
	}
	sort.Slice(keys, func(i, j int) bool { return bytes.Compare(keys[i], keys[j]) < 0 })
	return keys
}
