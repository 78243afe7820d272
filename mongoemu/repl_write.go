package mongoemu

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
	"github.com/rsguard/rsguard/mongoemu/storage"
)

// runPrimaryWrite runs one write transaction on a writable primary: the documents and their
// oplog entries commit together, with timestamps allocated in commit order.
func (rc *replCoord) runPrimaryWrite(ctx context.Context, r *request, fn func(tx *storage.Tx, ol *opLog) error) (writeResult, error) {
	// Writes take the global lock in IX, and the RSTL in IX with it (d_concurrency.cpp): an
	// fsyncLock or a state transition in progress makes them wait here.
	held, err := rc.n.locks.lockGlobal(ctx, modeIX)
	if err != nil {
		return writeResult{}, err
	}
	defer held.release()
	rc.oplogMu.Lock()
	defer rc.oplogMu.Unlock()
	rc.n.mu.Lock()
	writable := rc.stateLocked() == statePrimary && rc.leader == leaderWritable
	term := rc.term
	rc.n.mu.Unlock()
	if !writable {
		msg := "not primary"
		if r != nil && !r.c.supportsHello.Load() {
			msg = "not master"
		}
		return writeResult{}, mongoerr.New(mongoerr.NotWritablePrimary, "%s", msg)
	}
	if d, err := rc.retriedWriteReply(r); d != nil || err != nil {
		return writeResult{retried: d}, err
	}
	return rc.commitWithOplog(term, r, fn)
}

// commitWithOplog commits fn and its oplog entries in one transaction and advances lastApplied.
// The caller holds oplogMu and the RSTL (in IX with the global lock, or in X).
func (rc *replCoord) commitWithOplog(term int64, r *request, fn func(tx *storage.Tx, ol *opLog) error) (writeResult, error) {
	ol := &opLog{wall: time.Now()}
	var last opTime
	var committed []bson.Raw
	err := rc.n.store.Update(func(tx *storage.Tx) error {
		if err := fn(tx, ol); err != nil {
			return err
		}
		if len(ol.entries) == 0 {
			return nil
		}
		raws := make([]bson.Raw, 0, len(ol.entries))
		for i, e := range ol.entries {
			e = append(e, retryFields(r, e, i)...)
			ts := rc.nextTS(ol.wall)
			e = append(e, bson.E{Key: "ts", Value: ts}, bson.E{Key: "t", Value: term},
				bson.E{Key: "v", Value: int64(2)}, bson.E{Key: "wall", Value: bson.DateTime(ol.wall.UnixMilli())})
			raw, err := bson.Marshal(e)
			if err != nil {
				return fmt.Errorf("encode oplog entry: %w", err)
			}
			raws = append(raws, raw)
			last = opTime{ts: ts, term: term}
		}
		committed = raws
		return tx.AppendOplog(raws...)
	})
	if err != nil {
		return writeResult{}, err
	}
	rc.retry.noteEntries(committed)
	if last.ts.T != 0 {
		rc.n.mu.Lock()
		rc.advanceAppliedLocked(last, ol.wall)
		rc.n.mu.Unlock()
	}
	return writeResult{opTime: last}, nil
}

// nextTS allocates the next oplog timestamp: wall-clock seconds, increment within the second.
func (rc *replCoord) nextTS(now time.Time) bson.Timestamp {
	rc.n.mu.Lock()
	defer rc.n.mu.Unlock()
	secs := uint32(now.Unix())
	if secs > rc.lastTS.T {
		rc.lastTS = bson.Timestamp{T: secs, I: 1}
	} else {
		rc.lastTS.I++
	}
	return rc.lastTS
}

// advanceAppliedLocked moves our applied/durable optime and recomputes the commit point.
func (rc *replCoord) advanceAppliedLocked(ot opTime, wall time.Time) {
	if rc.lastApplied.less(ot) {
		rc.lastApplied, rc.lastDurable, rc.lastAppliedWall = ot, ot, wall
	}
	if compareTS(rc.lastTS, ot.ts) < 0 {
		rc.lastTS = ot.ts
	}
	if rc.self >= 0 && rc.self < len(rc.members) {
		m := &rc.members[rc.self]
		m.applied, m.durable, m.appliedWall, m.durableWall = rc.lastApplied, rc.lastDurable, wall, wall
	}
	if rc.leader != leaderNone {
		rc.updateCommitPointLocked()
	}
	rc.signalLocked()
}

// updateCommitPointLocked is the primary's commit point rule (spec §7.4): the writeMajority-th
// highest durable optime among voting members, never before the first entry of our term.
func (rc *replCoord) updateCommitPointLocked() {
	if rc.cfg == nil || rc.self < 0 {
		return
	}
	var ots []opTime
	for i, m := range rc.cfg.members {
		if !m.isVoter() {
			continue
		}
		if m.arbiterOnly {
			ots = append(ots, nullOpTime)
			continue
		}
		ot := rc.members[i].durable
		if i == rc.self {
			ot = rc.lastDurable
		}
		ots = append(ots, ot)
	}
	wm := rc.cfg.writeMajority()
	if len(ots) < wm || wm == 0 {
		return
	}
	sort.Slice(ots, func(a, b int) bool { return ots[a].less(ots[b]) })
	cand := ots[len(ots)-wm]
	if cand.less(rc.firstOpOfTerm) || cand.term != rc.term {
		return
	}
	if rc.commitPoint.less(cand) {
		rc.commitPoint, rc.commitWall = cand, time.Now()
		rc.publishSnapshotLocked()
		if rc.candidate != nil && rc.candidate.wMajorityAvailable.IsZero() {
			rc.candidate.wMajorityAvailable = time.Now()
		}
	}
}

// learnCommitPointLocked is a secondary adopting the commit point from its source or a heartbeat:
// capped at our lastApplied and only within our lastApplied's term (spec §7.3).
func (rc *replCoord) learnCommitPointLocked(cp opTime, wall time.Time) {
	if cp.isNull() || rc.leader != leaderNone {
		return
	}
	if cp.term != rc.lastApplied.term {
		return
	}
	if rc.lastApplied.less(cp) {
		cp = rc.lastApplied
	}
	if rc.commitPoint.less(cp) {
		rc.commitPoint, rc.commitWall = cp, wall
		rc.signalLocked()
	}
}

// wcWaiter is one write waiting for its write concern.
type wcWaiter struct {
	op   opTime
	wc   writeConcern
	done chan struct{}
	// term the write was made in; a primary change ends the wait with PrimarySteppedDown.
	term int64
}

// awaitReplication blocks until op satisfies wc, the wtimeout passes (writeConcernError 64), or
// this node stops being primary (writeConcernError 189).
func (rc *replCoord) awaitReplication(ctx context.Context, op opTime, wc writeConcern) (bson.D, error) {
	rc.n.mu.Lock()
	if op.isNull() {
		op = rc.lastApplied
	}
	if err := rc.checkWriteConcernLocked(wc); err != nil {
		rc.n.mu.Unlock()
		return nil, err
	}
	w := &wcWaiter{op: op, wc: wc, done: make(chan struct{}), term: rc.term}
	if rc.satisfiedLocked(w) {
		rc.n.mu.Unlock()
		return nil, rc.syncIfJournaled(wc)
	}
	rc.waiters[w] = struct{}{}
	rc.n.mu.Unlock()
	var timeout <-chan time.Time
	if wc.wtimeout > 0 {
		t := time.NewTimer(wc.wtimeout)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-w.done:
	case <-timeout:
	case <-ctx.Done():
	case <-rc.stopCh:
	}
	rc.n.mu.Lock()
	delete(rc.waiters, w)
	ok := rc.satisfiedLocked(w)
	stillPrimary := rc.leader != leaderNone && rc.term == w.term
	rc.n.mu.Unlock()
	var me *mongoerr.Error
	switch {
	case ok:
		return nil, rc.syncIfJournaled(wc)
	case ctx.Err() != nil && errors.As(context.Cause(ctx), &me):
		// The kill-op step of a state transition interrupts a write waiting for its write
		// concern before the transition errors the waiters with PrimarySteppedDown, so mongod
		// answers writeConcernError InterruptedDueToReplStateChange (write_concern.cpp,
		// CommandHelpers::appendCommandWCStatus).
		return nil, me
	case !stillPrimary:
		return bson.D{{Key: "code", Value: int32(mongoerr.PrimarySteppedDown)}, {Key: "codeName", Value: "PrimarySteppedDown"},
			{Key: "errmsg", Value: "Primary stepped down while waiting for replication"}}, nil
	case ctx.Err() != nil && wc.wtimeout == 0:
		return nil, ctx.Err()
	}
	return wcTimeoutError(wc), nil
}

func (rc *replCoord) syncIfJournaled(wc writeConcern) error {
	if wc.j || wc.wMode == "majority" {
		return rc.n.store.Sync()
	}
	return nil
}

func (rc *replCoord) checkWriteConcernLocked(wc writeConcern) error {
	if rc.cfg == nil {
		return nil
	}
	dataBearing := 0
	for _, m := range rc.cfg.members {
		if !m.arbiterOnly {
			dataBearing++
		}
	}
	if wc.wMode == "" && wc.w > dataBearing {
		return mongoerr.New(mongoerr.UnsatisfiableWriteConcern, "Not enough data-bearing nodes")
	}
	if wc.wMode != "" && wc.wMode != "majority" {
		if _, err := rc.cfg.settings.getLastErrorModes.LookupErr(wc.wMode); err != nil {
			return mongoerr.New(mongoerr.UnknownReplWriteConcern, "Unrecognized write concern mode: %s", wc.wMode)
		}
	}
	return nil
}

// satisfiedLocked checks one waiter against member progress (spec §7.4).
func (rc *replCoord) satisfiedLocked(w *wcWaiter) bool {
	if rc.cfg == nil || rc.self < 0 {
		return true
	}
	if w.wc.wMode == "majority" {
		return !rc.commitPoint.less(w.op)
	}
	reached := func(i int) bool {
		if rc.cfg.members[i].arbiterOnly {
			return false
		}
		if i == rc.self {
			return !rc.lastApplied.less(w.op)
		}
		return !rc.members[i].applied.less(w.op)
	}
	if w.wc.wMode == "" {
		n := 0
		for i := range rc.cfg.members {
			if reached(i) {
				n++
			}
		}
		return n >= w.wc.w
	}
	mode, _ := rc.cfg.settings.getLastErrorModes.Lookup(w.wc.wMode).DocumentOK()
	reqs, _ := mode.Elements()
	for _, req := range reqs {
		need, _ := numberAsInt64(req.Value())
		seen := map[string]bool{}
		for i, m := range rc.cfg.members {
			if !reached(i) {
				continue
			}
			for _, t := range m.tags {
				if t.Key == req.Key() {
					seen[fmt.Sprint(t.Value)] = true
				}
			}
		}
		if int64(len(seen)) < need {
			return false
		}
	}
	return true
}

// A term change alone does not end a wait: the stepdown it starts interrupts the waiting writes
// (kill-op step), and leaving PRIMARY errors the others (_replicationWaiterList.setErrorAll).
func (rc *replCoord) checkWaitersLocked() {
	for w := range rc.waiters {
		if rc.satisfiedLocked(w) || rc.leader == leaderNone {
			close(w.done)
			delete(rc.waiters, w)
		}
	}
}
