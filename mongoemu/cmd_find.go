package mongoemu

import (
	"context"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
	"github.com/rsguard/rsguard/mongoemu/query"
	"github.com/rsguard/rsguard/mongoemu/storage"
)

// findSpec is a parsed find command.
type findSpec struct {
	t           target
	filter      bson.Raw
	m           *query.Matcher
	sortRaw     bson.Raw
	sort        *query.Sort
	natural     int // -1 for {$natural: -1}
	proj        *query.Projection
	skip, limit int64
	batchSize   int64
	hasBatch    bool

	singleBatch, tailable, awaitData, noTimeout bool
}

func parseFind(r *request) (findSpec, error) {
	var s findSpec
	var err error
	if s.t, err = crudTarget(r); err != nil {
		return s, err
	}
	if s.filter, _, err = r.docArg("filter"); err != nil {
		return s, err
	}
	if s.m, err = query.NewMatcher(s.filter); err != nil {
		return s, err
	}
	if s.sortRaw, _, err = r.docArg("sort"); err != nil {
		return s, err
	}
	if s.sort, s.natural, err = compileSort(s.sortRaw, true); err != nil {
		return s, err
	}
	if s.proj, err = projectionArg(r, "projection"); err != nil {
		return s, err
	}
	if s.skip, _, err = nonNegativeArg(r, "skip"); err != nil {
		return s, err
	}
	if s.limit, _, err = nonNegativeArg(r, "limit"); err != nil {
		return s, err
	}
	if s.batchSize, s.hasBatch, err = nonNegativeArg(r, "batchSize"); err != nil {
		return s, err
	}
	for _, f := range []struct {
		key string
		dst *bool
	}{{"singleBatch", &s.singleBatch}, {"tailable", &s.tailable}, {"awaitData", &s.awaitData}, {"noCursorTimeout", &s.noTimeout}} {
		if *f.dst, err = r.boolArg(f.key); err != nil {
			return s, err
		}
	}
	if s.awaitData && !s.tailable {
		return s, mongoerr.New(mongoerr.FailedToParse, "Cannot set 'awaitData' without also setting 'tailable'")
	}
	return s, nil
}

// nonNegativeArg reads skip/limit/batchSize, which mongod 7 requires to be >= 0.
func nonNegativeArg(r *request, key string) (int64, bool, error) {
	v, ok, err := r.intArg(key)
	if err == nil && v < 0 {
		err = mongoerr.New(mongoerr.Location51024, "BSON field '%s' value must be >= 0, actual value '%d'", key, v)
	}
	return v, ok, err
}

func projectionArg(r *request, key string) (*query.Projection, error) {
	spec, ok, err := r.docArg(key)
	if err != nil || !ok || len(spec) <= 5 {
		return nil, err
	}
	return query.NewProjection(spec)
}

func sortArg(r *request, key string) (*query.Sort, error) {
	spec, _, err := r.docArg(key)
	if err != nil {
		return nil, err
	}
	s, _, err := compileSort(spec, false)
	return s, err
}

// compileSort checks each key like mongod's sort pattern parser (15974 for a non-number, 15975
// for a number other than 1/-1 after truncation to int) and compiles the rest. {$natural: ±1}
// asks for storage order and is only allowed where natural says so.
func compileSort(spec bson.Raw, natural bool) (*query.Sort, int, error) {
	if len(spec) <= 5 {
		return nil, 0, nil
	}
	elems, err := spec.Elements()
	if err != nil {
		return nil, 0, mongoerr.New(mongoerr.BadValue, "invalid sort document: %v", err)
	}
	out := bsoncoreDoc(len(spec))
	dir, keys := 0, 0
	for _, e := range elems {
		v := e.Value()
		if v.Type == bson.TypeEmbeddedDocument {
			out = append(out, e...)
			keys++
			continue
		}
		f, ok := numberAsFloat(v)
		if !ok {
			return nil, 0, mongoerr.New(mongoerr.Code(15974), "Illegal key in $sort specification: %s: %s", e.Key(), shortValue(v))
		}
		order := int32(f)
		if order != 1 && order != -1 {
			return nil, 0, mongoerr.New(mongoerr.Code(15975), "$sort key ordering must be 1 (for ascending) or -1 (for descending)")
		}
		if e.Key() == "$natural" && natural {
			dir = int(order)
			continue
		}
		out = appendRawElem(out, e.Key(), bson.RawValue{Type: bson.TypeInt32, Value: []byte{byte(order), byte(order >> 8), byte(order >> 16), byte(order >> 24)}})
		keys++
	}
	if keys == 0 {
		return nil, dir, nil
	}
	s, err := query.NewSort(finishDoc(out))
	return s, dir, err
}

// shortValue renders a value the way mongod's error messages print BSON elements.
func shortValue(v bson.RawValue) string {
	if s, ok := v.StringValueOK(); ok {
		return fmt.Sprintf("%q", s)
	}
	return v.String()
}

// cmdFind answers {cursor: {firstBatch, id, ns}}. local.oplog.rs is served by the replication
// code (n.oplogCursor); other collections by a collCursor. Tailable cursors exist only on the
// oplog: other capped collections are refused.
func (n *Node) cmdFind(ctx context.Context, r *request) (bson.D, error) {
	s, err := parseFind(r)
	if err != nil {
		return nil, err
	}
	var c cursor
	if s.t.ns == storage.OplogNS {
		oc, err := n.oplogCursor(ctx, r, s.filter, s.sortRaw, s.limit, s.tailable, s.awaitData)
		if err != nil {
			return nil, err
		}
		c = oc
		if s.proj != nil {
			c = projectingCursor{cursor: oc, apply: s.proj.Apply}
		}
	} else {
		if s.tailable {
			return nil, n.tailableRefusal(s.t)
		}
		keep := int(s.firstBatch())
		err = n.runReadAt(r.snap, func(tx *storage.Tx) error {
			cc, err := openCollCursor(n, tx, &s, keep)
			if cc != nil {
				cc.committed = r.snap != nil
			}
			c = cc
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	docs, done := []bson.Raw{}, false
	if !s.hasBatch || s.batchSize > 0 {
		if docs, done, err = c.next(ctx, int(s.firstBatch()), 0); err != nil {
			c.close()
			return nil, err
		}
	} else if cc, ok := c.(*collCursor); ok {
		done = cc.exhausted()
	}
	var id int64
	if done || s.singleBatch {
		c.close()
	} else {
		id = n.cursors.add(s.t.ns, c, s.awaitData, s.noTimeout)
	}
	return cursorReply(r, c, "firstBatch", docs, id, s.t.ns), nil
}

// firstBatch is how many documents the first batch holds: batchSize, else mongod's 101, never
// more than limit.
func (s *findSpec) firstBatch() int64 {
	b := int64(defaultFirstBatch)
	if s.hasBatch {
		b = s.batchSize
	}
	if s.limit > 0 && s.limit < b {
		b = s.limit
	}
	return b
}

func (n *Node) tailableRefusal(t target) error {
	var capped bool
	_ = n.runRead(func(tx *storage.Tx) error {
		colls, err := tx.ListCollections(t.db)
		for _, c := range colls {
			if c.Name == t.coll {
				capped = c.Options.Capped
			}
		}
		return err
	})
	if !capped {
		return mongoerr.New(mongoerr.BadValue, "error processing query: ns=%s: tailable cursor requested on non capped collection", t.ns)
	}
	return mongoerr.New(mongoerr.BadValue, "tailable cursors are only supported on %s by mongoemu", storage.OplogNS)
}

// cursorReply builds {cursor: {<batchKey>: docs, id, ns}} plus any metadata the cursor adds.
func cursorReply(r *request, c cursor, batchKey string, docs []bson.Raw, id int64, ns string) bson.D {
	if docs == nil {
		docs = []bson.Raw{}
	}
	fields := bson.D{{Key: "cursor", Value: bson.D{
		{Key: batchKey, Value: docs}, {Key: "id", Value: id}, {Key: "ns", Value: ns},
	}}}
	if m, ok := c.(cursorReplyMetadata); ok {
		fields = append(fields, m.replyMetadata(r)...)
	}
	return fields
}

// collCursor is a find over one collection. It is opened in one read transaction: the first
// batch is copied whole, the rest of the result is kept as _ids and re-read (and re-matched)
// in a read transaction per getMore, so memory stays bounded by the ids and a document deleted
// or changed meanwhile is skipped or seen in its new state, as with mongod's yielding plans.
type collCursor struct {
	n     *Node
	ns    string
	m     *query.Matcher
	proj  *query.Projection
	ready []bson.Raw
	ids   []bson.RawValue
	// committed: opened by a majority (or snapshot) read, so each getMore reads the committed
	// snapshot current then, as mongod's kMajorityCommitted read source does after a yield.
	committed bool
}

func openCollCursor(n *Node, tx *storage.Tx, s *findSpec, keep int) (*collCursor, error) {
	c := &collCursor{n: n, ns: s.t.ns, m: s.m, proj: s.proj}
	add := func(doc bson.Raw) {
		if len(c.ready) < keep {
			c.ready = append(c.ready, c.project(doc))
			return
		}
		id := doc.Lookup("_id")
		c.ids = append(c.ids, bson.RawValue{Type: id.Type, Value: slices.Clone(id.Value)})
	}
	if s.sort == nil && s.natural >= 0 {
		var skipped, taken int64
		return c, scanMatches(tx, s.t.ns, s.m, func(doc bson.Raw) (bool, error) {
			if skipped < s.skip {
				skipped++
				return true, nil
			}
			add(doc)
			taken++
			return s.limit == 0 || taken < s.limit, nil
		})
	}
	var all []bson.Raw
	if err := scanMatches(tx, s.t.ns, s.m, func(doc bson.Raw) (bool, error) {
		all = append(all, doc)
		return true, nil
	}); err != nil {
		return nil, err
	}
	if s.natural < 0 {
		slices.Reverse(all)
	}
	if s.sort != nil {
		s.sort.SortDocs(all)
	}
	all = all[min(s.skip, int64(len(all))):]
	if s.limit > 0 && int64(len(all)) > s.limit {
		all = all[:s.limit]
	}
	for _, d := range all {
		add(d)
	}
	return c, nil
}

func (c *collCursor) project(doc bson.Raw) bson.Raw {
	if c.proj == nil {
		return doc
	}
	return c.proj.Apply(doc)
}

func (c *collCursor) exhausted() bool { return len(c.ready) == 0 && len(c.ids) == 0 }

func (c *collCursor) next(ctx context.Context, batchSize int, _ time.Duration) ([]bson.Raw, bool, error) {
	out := []bson.Raw{}
	size := 0
	fits := func(d bson.Raw) bool {
		return (batchSize == 0 || len(out) < batchSize) && (len(out) == 0 || size+len(d) <= maxBatchBytes)
	}
	for len(c.ready) > 0 && fits(c.ready[0]) {
		out, size = append(out, c.ready[0]), size+len(c.ready[0])
		c.ready = c.ready[1:]
	}
	if len(c.ready) > 0 || len(c.ids) == 0 || (batchSize > 0 && len(out) >= batchSize) {
		return out, c.exhausted(), nil
	}
	var snap *storage.Snapshot
	if c.committed && c.n.repl != nil {
		var err error
		if snap, err = c.n.repl.pinCommitted(ctx); err != nil {
			return nil, false, err
		}
		defer snap.Release()
	}
	err := c.n.runReadAt(snap, func(tx *storage.Tx) error {
		for len(c.ids) > 0 && (batchSize == 0 || len(out) < batchSize) {
			doc, ok, err := tx.Get(c.ns, c.ids[0])
			if isNamespaceNotFound(err) {
				return mongoerr.New(mongoerr.Code(175), "collection dropped between getMore calls")
			}
			if err != nil {
				return err
			}
			if !ok || !c.m.Match(doc) {
				c.ids = c.ids[1:]
				continue
			}
			p := c.project(doc)
			if !fits(p) {
				return nil
			}
			out, size = append(out, p), size+len(p)
			c.ids = c.ids[1:]
		}
		return nil
	})
	return out, c.exhausted(), err
}

func (c *collCursor) close() { c.ready, c.ids = nil, nil }
