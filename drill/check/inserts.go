package check

import (
	"errors"
	"fmt"
	"sort"
	"sync"
)

// ErrLostWrites is wrapped by Accounting.Err when acknowledged inserts are
// missing or unknown documents appeared.
var ErrLostWrites = errors.New("acknowledged-write accounting failed")

// Inserts records which ids a workload tried to insert and which inserts
// were acknowledged (w:"majority" answered ok). Safe for concurrent use.
type Inserts struct {
	mu    sync.Mutex
	acked map[string]bool // attempted ids; true once acknowledged
}

// NewInserts returns an empty recorder.
func NewInserts() *Inserts { return &Inserts{acked: map[string]bool{}} }

// Attempt records id just before its insert is sent. Ids are unique.
func (in *Inserts) Attempt(id string) error {
	if id == "" {
		return errors.New("insert id is empty")
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if _, dup := in.acked[id]; dup {
		return fmt.Errorf("insert id %q: attempted twice", id)
	}
	in.acked[id] = false
	return nil
}

// Ack records that the insert of id was acknowledged. Inserts that ended in
// an error are simply not acked: they may or may not be present later.
func (in *Inserts) Ack(id string) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	if _, ok := in.acked[id]; !ok {
		return fmt.Errorf("insert id %q: acked but never attempted", id)
	}
	in.acked[id] = true
	return nil
}

// Attempted and Acked return copies of the id sets.
func (in *Inserts) Attempted() map[string]bool { return in.set(false) }
func (in *Inserts) Acked() map[string]bool     { return in.set(true) }

func (in *Inserts) set(ackedOnly bool) map[string]bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	out := make(map[string]bool, len(in.acked))
	for id, a := range in.acked {
		if a || !ackedOnly {
			out[id] = true
		}
	}
	return out
}

// Lost returns, sorted, the acknowledged ids missing from present (the ids
// read back, with majority read concern, after the drill).
func Lost(acked, present map[string]bool) []string { return missing(acked, present) }

// Phantoms returns, sorted, the ids present that were never attempted.
func Phantoms(attempted, present map[string]bool) []string { return missing(present, attempted) }

func missing(want, have map[string]bool) []string {
	var out []string
	for id, ok := range want {
		if ok && !have[id] {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

// Accounting is the loss report of one drill.
type Accounting struct {
	Attempted, Acked, Present int
	// UnackedPresent counts inserts that failed or timed out yet committed
	// (allowed: the outcome was unknown).
	UnackedPresent int
	Lost           []string
	Phantoms       []string
}

// Account compares the recorded inserts with the ids read back.
func (in *Inserts) Account(present map[string]bool) Accounting {
	attempted, acked := in.Attempted(), in.Acked()
	a := Accounting{
		Attempted: len(attempted),
		Acked:     len(acked),
		Lost:      Lost(acked, present),
		Phantoms:  Phantoms(attempted, present),
	}
	for id, ok := range present {
		if !ok {
			continue
		}
		a.Present++
		if attempted[id] && !acked[id] {
			a.UnackedPresent++
		}
	}
	return a
}

// Err is non-nil when an acknowledged insert was lost or a phantom appeared.
func (a Accounting) Err() error {
	if len(a.Lost) == 0 && len(a.Phantoms) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %d of %d acknowledged inserts lost %s, %d phantom ids %s",
		ErrLostWrites, len(a.Lost), a.Acked, head(a.Lost), len(a.Phantoms), head(a.Phantoms))
}

func head(ids []string) string {
	if len(ids) > maxListed {
		return fmt.Sprintf("%q...", ids[:maxListed])
	}
	return fmt.Sprintf("%q", ids)
}
