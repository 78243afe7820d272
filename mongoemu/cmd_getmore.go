package mongoemu

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
)

// getMoreArgs is a parsed getMore.
type getMoreArgs struct {
	id        int64
	ns        string
	batchSize int
	maxTime   time.Duration
	hasMax    bool
}

func parseGetMore(r *request) (getMoreArgs, error) {
	var a getMoreArgs
	v := r.firstValue()
	id, ok := v.Int64OK()
	if !ok {
		return a, wrongType("getMore.getMore", v, "long")
	}
	a.id = id
	cv, ok := r.arg("collection")
	if !ok {
		return a, missingField("getMore", "collection")
	}
	coll, ok := cv.StringValueOK()
	if !ok {
		return a, wrongType("getMore.collection", cv, "string")
	}
	a.ns = r.db + "." + coll
	bs, _, err := nonNegativeArg(r, "batchSize")
	if err != nil {
		return a, err
	}
	a.batchSize = int(bs)
	ms, hasMax, err := r.intArg("maxTimeMS")
	if err != nil {
		return a, err
	}
	a.maxTime, a.hasMax = time.Duration(ms)*time.Millisecond, hasMax && ms > 0
	return a, nil
}

// cmdGetMore answers {cursor: {nextBatch, id, ns}}; id 0 once the cursor is exhausted (it is
// then forgotten). maxTimeMS is only allowed on awaitData cursors, where it bounds the wait
// (spec §7.3).
func (n *Node) cmdGetMore(ctx context.Context, r *request) (bson.D, error) {
	fields, done, err := n.getMoreBatch(ctx, r)
	if err == nil && done {
		r.exhaust = false // an exhausted cursor ends an exhaust stream: no moreToCome
	}
	return fields, err
}

// streamGetMore produces the follow-up replies of an exhaust getMore (OP_MSG exhaustAllowed):
// the next batch of the same cursor, until it is exhausted.
func (n *Node) streamGetMore(ctx context.Context, r *request, _ bson.D) (bson.D, bool, error) {
	fields, done, err := n.getMoreBatch(ctx, r)
	return fields, !done && err == nil, err
}

func (n *Node) getMoreBatch(ctx context.Context, r *request) (bson.D, bool, error) {
	a, err := parseGetMore(r)
	if err != nil {
		return nil, true, err
	}
	e, err := n.cursors.checkout(a.id, a.ns)
	if err != nil {
		return nil, true, err
	}
	if a.hasMax && !e.awaitData {
		n.cursors.release(e, false)
		return nil, true, mongoerr.New(mongoerr.BadValue, "cannot set maxTimeMS on getMore command for a non-awaitData cursor")
	}
	wait := time.Duration(0)
	if e.awaitData {
		wait = defaultAwaitData
		if a.hasMax {
			wait = a.maxTime
		}
	}
	docs, done, err := e.c.next(ctx, a.batchSize, wait)
	if err != nil {
		n.cursors.release(e, true)
		return nil, true, err
	}
	n.cursors.release(e, done)
	id := a.id
	if done {
		id = 0
	}
	return cursorReply(r, e.c, "nextBatch", docs, id, a.ns), done, nil
}

// cmdKillCursors closes the listed cursors of the namespace; ids that are not open there are
// reported in cursorsNotFound.
func (n *Node) cmdKillCursors(_ context.Context, r *request) (bson.D, error) {
	t, err := crudTarget(r)
	if err != nil {
		return nil, err
	}
	v, ok := r.arg("cursors")
	if !ok {
		return nil, missingField("killCursors", "cursors")
	}
	arr, ok := v.ArrayOK()
	if !ok {
		return nil, wrongType("killCursors.cursors", v, "array")
	}
	vals, _ := arr.Values()
	killed, notFound := bson.A{}, bson.A{}
	for _, iv := range vals {
		id, ok := iv.Int64OK()
		if !ok {
			return nil, wrongType("killCursors.cursors", iv, "long")
		}
		if n.cursors.kill(id, t.ns) {
			killed = append(killed, id)
		} else {
			notFound = append(notFound, id)
		}
	}
	return bson.D{
		{Key: "cursorsKilled", Value: killed},
		{Key: "cursorsNotFound", Value: notFound},
		{Key: "cursorsAlive", Value: bson.A{}},
		{Key: "cursorsUnknown", Value: bson.A{}},
	}, nil
}
