package mongoemu

import (
	"context"
	"math"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
	"github.com/rsguard/rsguard/mongoemu/query"
	"github.com/rsguard/rsguard/mongoemu/storage"
)

// narrowCount is a count as mongod's appendNumber writes it: int32 when it fits.
func narrowCount(v int64) any {
	if v >= math.MinInt32 && v <= math.MaxInt32 {
		return int32(v)
	}
	return v
}

// cmdCount answers {n}; an empty query uses the stored document count (what the driver's
// EstimatedDocumentCount relies on).
func (n *Node) cmdCount(_ context.Context, r *request) (bson.D, error) {
	t, err := crudTarget(r)
	if err != nil {
		return nil, err
	}
	q, _, err := r.docArg("query")
	if err != nil {
		return nil, err
	}
	m, err := query.NewMatcher(q)
	if err != nil {
		return nil, err
	}
	skip, _, err := nonNegativeArg(r, "skip")
	if err != nil {
		return nil, err
	}
	limit, _, err := r.intArg("limit")
	if err != nil {
		return nil, err
	}
	if limit < 0 {
		limit = -limit
	}
	var cnt int64
	err = n.runReadAt(r.snap, func(tx *storage.Tx) error {
		if len(q) <= 5 {
			c, err := tx.Count(t.ns)
			if isNamespaceNotFound(err) {
				return nil
			}
			cnt = c
			return err
		}
		return scanMatches(tx, t.ns, m, func(bson.Raw) (bool, error) {
			cnt++
			return limit == 0 || cnt < skip+limit, nil
		})
	})
	if err != nil {
		return nil, err
	}
	cnt = max(0, cnt-skip)
	if limit > 0 && cnt > limit {
		cnt = limit
	}
	return bson.D{{Key: "n", Value: narrowCount(cnt)}}, nil
}

// cmdDistinct answers {values}: the distinct values of key among matching documents, array
// elements counted one by one, in BSON order (mongod collects them in an ordered set).
func (n *Node) cmdDistinct(_ context.Context, r *request) (bson.D, error) {
	t, err := crudTarget(r)
	if err != nil {
		return nil, err
	}
	kv, ok := r.arg("key")
	if !ok {
		return nil, missingField("distinct", "key")
	}
	key, ok := kv.StringValueOK()
	if !ok {
		return nil, wrongType("distinct.key", kv, "string")
	}
	q, _, err := r.docArg("query")
	if err != nil {
		return nil, err
	}
	m, err := query.NewMatcher(q)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var vals []bson.RawValue
	err = n.runReadAt(r.snap, func(tx *storage.Tx) error {
		return scanMatches(tx, t.ns, m, func(doc bson.Raw) (bool, error) {
			for _, v := range query.Lookup(doc, key) {
				if v.Type == bson.TypeArray {
					continue // Lookup also yields its elements
				}
				if k := query.EqualityKey(v); !seen[k] {
					seen[k] = true
					vals = append(vals, v)
				}
			}
			return true, nil
		})
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(vals, query.Compare)
	out := bson.A{}
	for _, v := range vals {
		out = append(out, v)
	}
	return bson.D{{Key: "values", Value: out}}, nil
}

// cmdAggregate runs the pipeline (query.NewPipeline: $match $sort $skip $limit $project $unset
// $count $group $addFields/$set $unwind) over the collection and answers with a cursor. A
// leading $match filters while scanning (and uses the _id lookup). $out and $merge, explain
// and collection-less aggregate ({aggregate: 1}) are refused.
func (n *Node) cmdAggregate(ctx context.Context, r *request) (bson.D, error) {
	if _, isStr := r.firstValue().StringValueOK(); !isStr && r.firstValue().Type != 0 {
		if _, isNum := numberAsInt64(r.firstValue()); isNum {
			return nil, mongoerr.New(mongoerr.IllegalOperation, "collection-less aggregate ({aggregate: 1}) is not supported by mongoemu")
		}
	}
	t, err := crudTarget(r)
	if err != nil {
		return nil, err
	}
	stages, first, err := pipelineArg(r)
	if err != nil {
		return nil, err
	}
	if explain, _ := r.boolArg("explain"); explain {
		return nil, mongoerr.New(mongoerr.IllegalOperation, "explain is not supported by mongoemu")
	}
	cur, ok, err := r.docArg("cursor")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, mongoerr.New(mongoerr.FailedToParse, "The 'cursor' option is required, except for aggregate with the explain argument")
	}
	batch := int64(defaultFirstBatch)
	if bv, err := cur.LookupErr("batchSize"); err == nil {
		b, ok := numberAsInt64(bv)
		if !ok || b < 0 {
			return nil, mongoerr.New(mongoerr.Location51024, "BSON field 'batchSize' value must be >= 0, actual value '%s'", bv.String())
		}
		batch = b
	}
	p, err := query.NewPipeline(stages)
	if err != nil {
		return nil, err
	}
	var docs []bson.Raw
	err = n.runReadAt(r.snap, func(tx *storage.Tx) error {
		return scanMatches(tx, t.ns, first, func(doc bson.Raw) (bool, error) {
			docs = append(docs, doc)
			return true, ctx.Err()
		})
	})
	if err != nil {
		return nil, err
	}
	out, err := p.Run(docs)
	if err != nil {
		return nil, err
	}
	c := &sliceCursor{docs: out}
	var firstBatch []bson.Raw
	if batch > 0 {
		firstBatch, _, _ = c.next(ctx, int(batch), 0)
	}
	var id int64
	if len(c.docs) > 0 {
		id = n.cursors.add(t.ns, c, false, false)
	}
	return cursorReply(r, c, "firstBatch", firstBatch, id, t.ns), nil
}

// pipelineArg reads the stages and compiles a leading $match for the scan.
func pipelineArg(r *request) ([]bson.Raw, *query.Matcher, error) {
	v, ok := r.arg("pipeline")
	if !ok {
		return nil, nil, missingField("aggregate", "pipeline")
	}
	arr, ok := v.ArrayOK()
	if !ok {
		return nil, nil, wrongType("aggregate.pipeline", v, "array")
	}
	vals, _ := arr.Values()
	stages := make([]bson.Raw, 0, len(vals))
	for _, sv := range vals {
		d, ok := sv.DocumentOK()
		if !ok {
			return nil, nil, mongoerr.New(mongoerr.TypeMismatch, "Each element of the 'pipeline' array must be an object")
		}
		if e, err := d.IndexErr(0); err == nil && (e.Key() == "$out" || e.Key() == "$merge") {
			return nil, nil, mongoerr.New(mongoerr.IllegalOperation, "%s is not supported by mongoemu", e.Key())
		}
		stages = append(stages, d)
	}
	first, _ := query.NewMatcher(nil)
	if len(stages) > 0 {
		if e, err := stages[0].IndexErr(0); err == nil && e.Key() == "$match" {
			if f, ok := e.Value().DocumentOK(); ok {
				if m, err := query.NewMatcher(f); err == nil {
					first = m
				}
			}
		}
	}
	return stages, first, nil
}
