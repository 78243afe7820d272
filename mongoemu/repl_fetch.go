package mongoemu

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/wire"
)

// oplogBatchSize is the fetcher's batch size, 16 MiB / 12 × 10 like mongod (spec §7.3).
const oplogBatchSize = 13981013

// fetchFrom tails the source's oplog from our last applied entry and applies what arrives until
// an error, a better reason to stop, or a state change (spec §7.3).
func (rc *replCoord) fetchFrom(source string) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-rc.stopCh:
			cancel()
		case <-ctx.Done():
		}
	}()
	c, err := rc.dialInternal(ctx, source, 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	// A getMore blocked on a hung source only returns at its timeout; re-evaluate the source
	// meanwhile and drop the connection as soon as a better one is known.
	go rc.watchSource(ctx, c, source)
	applier := rc.startApplier(source, func() { _ = c.Close() })
	defer applier.close()
	rc.n.mu.Lock()
	last, term := rc.lastApplied, rc.term
	await := rc.cfg.settings.electionTimeout / 2
	rc.n.mu.Unlock()
	find := bson.D{{Key: "find", Value: "oplog.rs"},
		{Key: "filter", Value: bson.D{{Key: "ts", Value: bson.D{{Key: "$gte", Value: last.ts}}}}},
		{Key: "tailable", Value: true}, {Key: "awaitData", Value: true}, {Key: "batchSize", Value: int32(oplogBatchSize)},
		{Key: "maxTimeMS", Value: int64(60000)}, {Key: "term", Value: term}, {Key: "$replData", Value: int32(1)},
		{Key: "$readPreference", Value: bson.D{{Key: "mode", Value: "secondaryPreferred"}}}, {Key: "$db", Value: "local"}}
	reply, err := c.Command(ctx, find, 65*time.Second)
	if err != nil {
		return fmt.Errorf("oplog find on %s: %w", source, err)
	}
	cursorID, batch, err := cursorBatch(reply, "firstBatch")
	if err != nil {
		return err
	}
	rc.processReplData(reply, source)
	if stopProducer(rc) {
		return errStopFetch
	}
	if len(batch) == 0 {
		// Nothing at or after our last ts: the source is behind us, unless its newest entry is in a
		// later term, which means our last entries exist only here (divergence).
		top, err := remoteOplogEdge(ctx, c, -1)
		if err != nil {
			return err
		}
		if !top.isNull() && last.less(top) {
			return errRollback
		}
		return errSourceDown
	}
	first, _ := opTimeFromDoc(batch[0])
	if first != last {
		oldest, err := remoteOplogEdge(ctx, c, 1)
		if err != nil {
			return err
		}
		if compareTS(oldest.ts, last.ts) > 0 {
			return errTooStale
		}
		return errRollback
	}
	rc.n.mu.Lock()
	rc.leaveTooStaleLocked(source)
	rc.n.mu.Unlock()
	if err := applier.push(batch[1:]); err != nil {
		return err
	}
	for {
		if err := rc.shouldStopFetching(source); err != nil {
			return err
		}
		rc.n.mu.Lock()
		term := rc.term
		rc.n.mu.Unlock()
		gm := bson.D{{Key: "getMore", Value: cursorID}, {Key: "collection", Value: "oplog.rs"},
			{Key: "batchSize", Value: int32(oplogBatchSize)}, {Key: "maxTimeMS", Value: await.Milliseconds()},
			{Key: "term", Value: term}, {Key: "$replData", Value: int32(1)}, {Key: "$db", Value: "local"}}
		reply, err := c.Command(ctx, gm, await+3*time.Second)
		if err != nil {
			if aerr := applier.failed(); aerr != nil {
				return aerr
			}
			return fmt.Errorf("oplog getMore on %s: %w", source, err)
		}
		id, batch, err := cursorBatch(reply, "nextBatch")
		if err != nil {
			return err
		}
		rc.processReplData(reply, source)
		if stopProducer(rc) {
			return errStopFetch
		}
		if err := applier.push(batch); err != nil {
			return err
		}
		if id == 0 {
			return fmt.Errorf("sync source %s closed the oplog cursor", source)
		}
		cursorID = id
		rc.reportPosition(source)
	}
}

// shouldStopFetching re-evaluates the source between batches (spec §7.2 "Re-evaluation").
func (rc *replCoord) shouldStopFetching(source string) error {
	rc.n.mu.Lock()
	defer rc.n.mu.Unlock()
	select {
	case <-rc.stopCh:
		return errStopFetch
	default:
	}
	state := rc.stateLocked()
	if !(state == stateSecondary || state == stateRecovering || (state == statePrimary && rc.leader == leaderCatchUp)) {
		return errStopFetch
	}
	if rc.syncFromRequest != "" && rc.syncFromRequest != source {
		return errStopFetch
	}
	idx := rc.cfg.indexOfHost(source)
	if idx < 0 || !rc.members[idx].up {
		return errStopFetch
	}
	if !rc.cfg.settings.chainingAllowed && rc.primary >= 0 && rc.primary != idx {
		return errStopFetch
	}
	src := rc.members[idx]
	// A source still claiming PRIMARY in an older term than ours is a deposed primary (crashed,
	// frozen or stuck stepping down): a primary of our term has the newer history.
	if src.state == statePrimary && src.leaderTerm < rc.term && rc.primary >= 0 && rc.primary != idx {
		return errStopFetch
	}
	// A secondary source while the primary is up and not meaningfully farther away: the primary
	// is strictly preferable (the same 5 ms rule as chooseSyncSource).
	if src.state != statePrimary && rc.primary >= 0 && rc.primary != idx && rc.primary != rc.self {
		p := rc.members[rc.primary]
		if p.up && p.state == statePrimary && p.leaderTerm == rc.term && p.nearPing()-src.nearPing() < changeSyncSourceThresholdMillis {
			return errStopFetch
		}
	}
	// A secondary source that is not ahead of us and either syncs from us or from nobody cannot
	// bring anything new (spec §7.2 re-evaluation): look for a better one.
	me := rc.cfg.members[rc.self].host
	if src.state != statePrimary && !rc.lastApplied.less(src.applied) && (src.syncSource == "" || src.syncSource == me) {
		return errStopFetch
	}
	if _, on := rc.n.fail.peek(fpStopReplProducer); on {
		return errStopFetch
	}
	return nil
}

// stopProducer is the stopReplProducer check of OplogFetcher::_onSuccessfulBatch
// (oplog_fetcher.cpp): with the fail point on, a batch that arrives is ignored and the fetcher
// ends without an error; bgsync then does not start another one while it stays on.
func stopProducer(rc *replCoord) bool {
	_, on := rc.n.fail.peek(fpStopReplProducer)
	return on
}

// processReplData adopts term, commit point and primary liveness from $replData (spec §7.3).
func (rc *replCoord) processReplData(reply bson.Raw, source string) {
	md, ok := reply.Lookup("$replData").DocumentOK()
	if !ok {
		return
	}
	rc.n.mu.Lock()
	defer rc.n.mu.Unlock()
	if t, ok := numberAsInt64(md.Lookup("term")); ok && t > rc.term {
		rc.updateTermLocked(t, "oplog metadata from "+source)
	}
	if cp, ok := opTimeFromValue(md.Lookup("lastOpCommitted")); ok {
		w, _ := md.Lookup("lastCommittedWall").TimeOK()
		rc.learnCommitPointLocked(cp, w)
	}
	// Metadata saying there is still a primary in our term — the source itself, or the one a
	// chained source follows — pushes our election back (spec §5.2 item 1).
	isPrimary, _ := md.Lookup("isPrimary").BooleanOK()
	pidx, _ := numberAsInt64(md.Lookup("primaryIndex"))
	t, _ := numberAsInt64(md.Lookup("term"))
	if rc.leader == leaderNone && t == rc.term && (isPrimary || pidx >= 0) {
		rc.resetElectionTimerLocked()
	}
	if idx := rc.cfg.indexOfHost(source); idx >= 0 {
		rc.members[idx].lastUpdate, rc.members[idx].lastUpdateStale = time.Now(), false
	}
}

func cursorBatch(reply bson.Raw, key string) (int64, []bson.Raw, error) {
	cur, ok := reply.Lookup("cursor").DocumentOK()
	if !ok {
		return 0, nil, fmt.Errorf("reply has no cursor: %v", reply)
	}
	id, _ := numberAsInt64(cur.Lookup("id"))
	arr, _ := cur.Lookup(key).ArrayOK()
	vals, err := arr.Values()
	if err != nil {
		return 0, nil, fmt.Errorf("bad %s: %w", key, err)
	}
	docs := make([]bson.Raw, 0, len(vals))
	for _, v := range vals {
		if d, ok := v.DocumentOK(); ok {
			docs = append(docs, d)
		}
	}
	return id, docs, nil
}

// remoteOplogEdge reads the source's oldest (dir 1) or newest (dir -1) oplog optime.
func remoteOplogEdge(ctx context.Context, c *wire.Client, dir int32) (opTime, error) {
	reply, err := c.Command(ctx, bson.D{{Key: "find", Value: "oplog.rs"}, {Key: "filter", Value: bson.D{}},
		{Key: "sort", Value: bson.D{{Key: "$natural", Value: dir}}}, {Key: "limit", Value: int64(1)},
		{Key: "singleBatch", Value: true},
		{Key: "$readPreference", Value: bson.D{{Key: "mode", Value: "secondaryPreferred"}}}, {Key: "$db", Value: "local"}}, 10*time.Second)
	if err != nil {
		return opTime{}, err
	}
	_, docs, err := cursorBatch(reply, "firstBatch")
	if err != nil || len(docs) == 0 {
		return nullOpTime, err
	}
	ot, _ := opTimeFromDoc(docs[0])
	return ot, nil
}

// reportPosition sends replSetUpdatePosition upstream with our progress and that of members
// syncing from us (spec §7.4); best effort, asynchronous, coalesced by the caller's pace.
func (rc *replCoord) reportPosition(source string) {
	rc.n.mu.Lock()
	if rc.cfg == nil || rc.self < 0 || rc.stateLocked() == stateStartup2 {
		rc.n.mu.Unlock()
		return
	}
	optimes := bson.A{}
	for i, m := range rc.cfg.members {
		md := rc.members[i]
		applied, durable, aw, dw := md.applied, md.durable, md.appliedWall, md.durableWall
		if i == rc.self {
			applied, durable, aw, dw = rc.lastApplied, rc.lastDurable, rc.lastAppliedWall, rc.lastAppliedWall
		} else if md.syncSource != rc.cfg.members[rc.self].host || !md.up {
			continue
		}
		optimes = append(optimes, bson.D{{Key: "durableOpTime", Value: durable.doc()}, {Key: "durableWallTime", Value: dateOf(dw)},
			{Key: "appliedOpTime", Value: applied.doc()}, {Key: "appliedWallTime", Value: dateOf(aw)},
			{Key: "memberId", Value: int32(m.id)}, {Key: "cfgver", Value: rc.cfg.version}})
	}
	cmd := bson.D{{Key: "replSetUpdatePosition", Value: int32(1)}, {Key: "optimes", Value: optimes},
		{Key: "$replData", Value: rc.replDataLocked()}, {Key: "$db", Value: "admin"}}
	rc.n.mu.Unlock()
	rc.posLatest.Store(&positionReport{source: source, cmd: cmd})
	if rc.posSending.CompareAndSwap(false, true) {
		go rc.sendPositions()
	}
}

type positionReport struct {
	source string
	cmd    bson.D
}

// sendPositions sends the newest pending report until none is left, so reports coalesce
// instead of piling up while a slow upstream answers.
func (rc *replCoord) sendPositions() {
	for {
		p := rc.posLatest.Swap(nil)
		if p == nil {
			rc.posSending.Store(false)
			if rc.posLatest.Load() == nil || !rc.posSending.CompareAndSwap(false, true) {
				return
			}
			continue
		}
		_, _ = rc.up.call(context.Background(), p.source, p.cmd, 5*time.Second)
	}
}

// watchSource closes the fetcher's connection once shouldStopFetching says the source is no
// longer the right one; the blocked read then fails and syncLoop picks another source.
func (rc *replCoord) watchSource(ctx context.Context, c *wire.Client, source string) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := rc.shouldStopFetching(source); err != nil {
			_ = c.Close()
			return
		}
	}
}
