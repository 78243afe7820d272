package mongoemu

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
	"github.com/rsguard/rsguard/mongoemu/query"
	"github.com/rsguard/rsguard/mongoemu/storage"
)

// oplogCursor serves find/getMore on local.oplog.rs: forward or reverse scans, ts bounds used
// as index-like ranges, and tailable awaitData cursors that block until new entries are
// applied — what oplog fetchers and change-stream-less tailers rely on (spec §7.3).
type oplogCursor struct {
	n         *Node
	matcher   *query.Matcher
	forward   bool
	from      bson.Timestamp // next scan starts here (inclusive until started)
	started   bool
	lastTS    bson.Timestamp
	upper     *bson.Timestamp // inclusive upper bound for forward scans
	limit     int64
	returned  int64
	tailable  bool
	awaitData bool
	done      bool
}

// oplogCursor opens a cursor over the oplog for the find command.
func (n *Node) oplogCursor(_ context.Context, _ *request, filter, sort bson.Raw, limit int64, tailable, awaitData bool) (cursor, error) {
	if filter == nil {
		filter, _ = bson.Marshal(bson.D{})
	}
	m, err := query.NewMatcher(filter)
	if err != nil {
		return nil, err
	}
	c := &oplogCursor{n: n, matcher: m, forward: true, limit: limit, tailable: tailable, awaitData: awaitData}
	if sort != nil {
		if e, err := sort.IndexErr(0); err == nil {
			if d, ok := numberAsInt64(e.Value()); ok && d < 0 && (e.Key() == "$natural" || e.Key() == "ts") {
				c.forward = false
			}
		}
	}
	if tailable && !c.forward {
		return nil, mongoerr.New(mongoerr.BadValue, "error processing query: tailable cursor requested on a reverse scan")
	}
	c.applyTSBounds(filter)
	if !c.forward {
		c.from = bson.Timestamp{T: ^uint32(0), I: ^uint32(0)}
		if c.upper != nil {
			c.from = *c.upper
		}
	}
	return c, nil
}

// applyTSBounds turns {ts: {$gte|$gt|$lte|$lt: T}} into scan bounds; the matcher still checks.
func (c *oplogCursor) applyTSBounds(filter bson.Raw) {
	tsCond, ok := filter.Lookup("ts").DocumentOK()
	if !ok {
		return
	}
	elems, _ := tsCond.Elements()
	for _, e := range elems {
		t, i, ok := e.Value().TimestampOK()
		if !ok {
			continue
		}
		ts := bson.Timestamp{T: t, I: i}
		switch e.Key() {
		case "$gte", "$gt":
			c.from = ts
		case "$lte", "$lt":
			c.upper = &ts
		}
	}
}

func (c *oplogCursor) close() { c.done = true }

func (c *oplogCursor) next(ctx context.Context, batchSize int, maxAwait time.Duration) ([]bson.Raw, bool, error) {
	if c.done || c.n.repl == nil {
		return nil, true, nil
	}
	if batchSize <= 0 {
		batchSize = 1 << 30
	}
	deadline := time.Now().Add(maxAwait)
	for {
		c.n.repl.n.mu.Lock()
		wait := c.n.repl.stateChanged
		c.n.repl.n.mu.Unlock()
		docs, err := c.scan(batchSize)
		if err != nil {
			return nil, false, err
		}
		if len(docs) > 0 || !c.tailable || !c.awaitData || maxAwait <= 0 {
			exhausted := !c.tailable && (len(docs) < batchSize || (c.limit > 0 && c.returned >= c.limit))
			if exhausted {
				c.done = true
			}
			return docs, exhausted, nil
		}
		remaining := time.Until(deadline)
		if remaining <= 0 {
			return nil, false, nil
		}
		t := time.NewTimer(remaining)
		select {
		case <-wait:
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, false, ctx.Err()
		case <-c.n.quit:
		}
		t.Stop()
	}
}

func (c *oplogCursor) scan(batchSize int) ([]bson.Raw, error) {
	var docs []bson.Raw
	size := 0
	err := c.n.store.View(func(tx *storage.Tx) error {
		if c.started {
			first, ok, err := tx.OplogFirst()
			if err != nil {
				return err
			}
			if ok && c.forward {
				if ts, _ := storage.EntryTS(first); compareTS(ts, c.lastTS) > 0 {
					return mongoerr.New(mongoerr.CappedPositionLost, "CollectionScan died due to position in capped collection being deleted. Last seen record id: RecordId(%d)", uint64(c.lastTS.T)<<32|uint64(c.lastTS.I))
				}
			}
		}
		visit := func(ts bson.Timestamp, e bson.Raw) (bool, error) {
			if c.started && compareTS(ts, c.lastTS) == 0 {
				return true, nil
			}
			if c.forward && c.upper != nil && compareTS(ts, *c.upper) > 0 {
				return false, nil
			}
			c.started, c.lastTS = true, ts
			if !c.matcher.Match(e) {
				return true, nil
			}
			docs = append(docs, append(bson.Raw(nil), e...))
			size += len(e)
			c.returned++
			if len(docs) >= batchSize || size >= maxBatchBytes || (c.limit > 0 && c.returned >= c.limit) {
				return false, nil
			}
			return true, nil
		}
		start := c.from
		if c.started {
			start = c.lastTS
		}
		if c.forward {
			return tx.OplogRange(start, visit)
		}
		return tx.OplogReverse(start, visit)
	})
	return docs, err
}

// replyMetadata attaches $replData to oplog find/getMore replies when the fetcher asks for it
// ($replData: 1), so a secondary learns the term, commit point and primary liveness (§7.3).
func (c *oplogCursor) replyMetadata(r *request) bson.D {
	if _, ok := r.arg("$replData"); !ok || c.n.repl == nil {
		return nil
	}
	c.n.mu.Lock()
	defer c.n.mu.Unlock()
	if c.n.repl.cfg == nil {
		return nil
	}
	return bson.D{{Key: "$replData", Value: c.n.repl.replDataLocked()}}
}
