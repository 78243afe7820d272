package mongoemu

import (
	"context"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
	"github.com/rsguard/rsguard/mongoemu/query"
	"github.com/rsguard/rsguard/mongoemu/storage"
)

// registerCRUD adds the document commands. Writes are kindWrite (writable primary only);
// getMore and killCursors run in every state because the cursor already exists (mongod's
// AllowedOnSecondary::kAlways), the other reads are kindRead.
func (n *Node) registerCRUD(t commandTable) {
	t["insert"] = &command{fn: n.cmdInsert, kind: kindWrite}
	t["update"] = &command{fn: n.cmdUpdate, kind: kindWrite}
	t["delete"] = &command{fn: n.cmdDelete, kind: kindWrite}
	t["findAndModify"] = &command{fn: n.cmdFindAndModify, kind: kindWrite}
	t["findandmodify"] = t["findAndModify"]
	t["find"] = &command{fn: n.cmdFind, kind: kindRead}
	t["getMore"] = &command{fn: n.cmdGetMore, kind: kindAny, stream: n.streamGetMore}
	t["killCursors"] = &command{fn: n.cmdKillCursors, kind: kindAny}
	t["count"] = &command{fn: n.cmdCount, kind: kindRead}
	t["distinct"] = &command{fn: n.cmdDistinct, kind: kindRead}
	t["aggregate"] = &command{fn: n.cmdAggregate, kind: kindRead}
}

// statements reads the array argument of a batch write (documents, updates, deletes); mongod
// accepts 1 to 100000 of them.
func statements(r *request, field string) ([]bson.RawValue, error) {
	v, ok := r.arg(field)
	if !ok {
		return nil, missingField(r.name, field)
	}
	arr, ok := v.ArrayOK()
	if !ok {
		return nil, wrongType(r.name+"."+field, v, "array")
	}
	vals, _ := arr.Values()
	if len(vals) == 0 || len(vals) > 100000 {
		return nil, mongoerr.New(mongoerr.InvalidLength, "Write batch sizes must be between 1 and 100000. Got %d operations.", len(vals))
	}
	return vals, nil
}

func orderedArg(r *request) (bool, error) {
	if _, ok := r.arg("ordered"); !ok {
		return true, nil
	}
	return r.boolArg("ordered")
}

// batchOutcome accumulates the per-statement results of a batch write.
type batchOutcome struct {
	errs []bson.D
}

// fail records statement i's error; it reports whether the batch goes on.
func (b *batchOutcome) fail(i int, me *mongoerr.Error, ordered bool) bool {
	b.errs = append(b.errs, writeErrorDoc(i, me))
	return !ordered
}

func (b *batchOutcome) appendTo(fields bson.D) bson.D {
	if len(b.errs) == 0 {
		return fields
	}
	return append(fields, bson.E{Key: "writeErrors", Value: b.errs})
}

// cmdInsert: documents get an ObjectId _id first when they lack one; a duplicate _id is a
// writeError and an ordered batch stops there while the documents before it commit.
func (n *Node) cmdInsert(ctx context.Context, r *request) (bson.D, error) {
	t, err := crudTarget(r)
	if err != nil {
		return nil, err
	}
	vals, err := statements(r, "documents")
	if err != nil {
		return nil, err
	}
	ordered, err := orderedArg(r)
	if err != nil {
		return nil, err
	}
	docs := make([]bson.Raw, len(vals))
	for i, v := range vals {
		d, ok := v.DocumentOK()
		if !ok {
			return nil, wrongType("insert.documents."+strconv.Itoa(i), v, "object")
		}
		docs[i] = withIDFirst(d)
	}
	if err := n.precheckWriteConcern(r); err != nil {
		return nil, err
	}
	var out batchOutcome
	inserted := 0
	res, err := n.runWrite(ctx, r, func(tx *storage.Tx, ol *opLog) error {
		out, inserted = batchOutcome{}, 0
		w := newCollWriter(tx, ol, t)
		if err := w.ensure(); err != nil {
			return err
		}
		for i, d := range docs {
			if err := w.insert(d); err != nil {
				me, ok := asWriteError(err)
				if !ok {
					return err
				}
				if !out.fail(i, me, ordered) {
					break
				}
				continue
			}
			inserted++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	n.counters.insert.Add(int64(inserted + len(out.errs)))
	return n.finishWrite(ctx, r, res, out.appendTo(bson.D{{Key: "n", Value: int32(inserted)}}))
}

// updateStmt is one parsed entry of update.updates. A statement that fails to parse becomes a
// writeError at its index, as in mongod.
type updateStmt struct {
	q             bson.Raw
	m             *query.Matcher
	u             *query.Update
	upsert, multi bool
	err           error
}

func parseUpdateStmt(v bson.RawValue, i int) (updateStmt, error) {
	d, ok := v.DocumentOK()
	if !ok {
		return updateStmt{}, wrongType("update.updates."+strconv.Itoa(i), v, "object")
	}
	var st updateStmt
	qv, err := d.LookupErr("q")
	if err != nil {
		return st, missingField("update.updates", "q")
	}
	if st.q, ok = qv.DocumentOK(); !ok {
		return st, wrongType("update.updates.q", qv, "object")
	}
	uv, err := d.LookupErr("u")
	if err != nil {
		return st, missingField("update.updates", "u")
	}
	for _, f := range []struct {
		key string
		dst *bool
	}{{"upsert", &st.upsert}, {"multi", &st.multi}} {
		if fv, err := d.LookupErr(f.key); err == nil {
			b, ok := fv.BooleanOK()
			if !ok {
				return st, wrongType("update.updates."+f.key, fv, "bool")
			}
			*f.dst = b
		}
	}
	if _, err := d.LookupErr("arrayFilters"); err == nil {
		st.err = mongoerr.New(mongoerr.BadValue, "arrayFilters are not supported by mongoemu")
		return st, nil
	}
	if st.m, st.err = query.NewMatcher(st.q); st.err != nil {
		return st, nil
	}
	if st.u, st.err = query.ParseUpdateValue(uv); st.err != nil {
		return st, nil
	}
	if st.multi && st.u.IsReplacement() {
		st.err = mongoerr.New(mongoerr.FailedToParse, "multi update is not supported for replacement-style update")
	}
	return st, nil
}

// updateResult is what one update statement did.
type updateResult struct {
	matched, modified int
	upserted          bson.RawValue
}

// applyUpdate runs one statement: every match (the first only unless multi) is rewritten, and
// with upsert and no match the document built from the filter and update is inserted.
func applyUpdate(w *collWriter, st updateStmt, now time.Time) (updateResult, error) {
	var res updateResult
	var targets []bson.Raw
	err := scanMatches(w.tx, w.t.ns, st.m, func(doc bson.Raw) (bool, error) {
		targets = append(targets, doc)
		return st.multi, nil
	})
	if err != nil {
		return res, err
	}
	if len(targets) == 0 {
		if !st.upsert {
			return res, nil
		}
		doc, err := st.u.UpsertDoc(st.q, now)
		if err != nil {
			return res, err
		}
		doc = withIDFirst(doc)
		if err := w.insert(doc); err != nil {
			return res, err
		}
		res.matched, res.upserted = 1, doc.Lookup("_id")
		return res, nil
	}
	for _, d := range targets {
		nd, changed, err := st.u.Apply(d, now)
		if err != nil {
			return res, err
		}
		res.matched++
		if !changed {
			continue
		}
		if err := w.replace(d.Lookup("_id"), nd); err != nil {
			return res, err
		}
		res.modified++
	}
	return res, nil
}

// cmdUpdate replies {n, upserted: [{index, _id}], nModified, writeErrors}; n counts matched
// and upserted documents, nModified those whose bytes changed.
func (n *Node) cmdUpdate(ctx context.Context, r *request) (bson.D, error) {
	t, err := crudTarget(r)
	if err != nil {
		return nil, err
	}
	vals, err := statements(r, "updates")
	if err != nil {
		return nil, err
	}
	ordered, err := orderedArg(r)
	if err != nil {
		return nil, err
	}
	stmts := make([]updateStmt, len(vals))
	for i, v := range vals {
		if stmts[i], err = parseUpdateStmt(v, i); err != nil {
			return nil, err
		}
	}
	if err := n.precheckWriteConcern(r); err != nil {
		return nil, err
	}
	var out batchOutcome
	var matched, modified int
	var upserted bson.A
	now := time.Now()
	res, err := n.runWrite(ctx, r, func(tx *storage.Tx, ol *opLog) error {
		out, matched, modified, upserted = batchOutcome{}, 0, 0, nil
		w := newCollWriter(tx, ol, t)
		for i, st := range stmts {
			err := st.err
			var ur updateResult
			if err == nil {
				ur, err = applyUpdate(w, st, now)
			}
			matched, modified = matched+ur.matched, modified+ur.modified
			if ur.upserted.Type != 0 {
				upserted = append(upserted, bson.D{{Key: "index", Value: int32(i)}, {Key: "_id", Value: ur.upserted}})
			}
			if err != nil {
				me, ok := asWriteError(err)
				if !ok {
					return err
				}
				if !out.fail(i, me, ordered) {
					break
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	n.counters.update.Add(int64(len(stmts)))
	fields := bson.D{{Key: "n", Value: int32(matched)}}
	if len(upserted) > 0 {
		fields = append(fields, bson.E{Key: "upserted", Value: upserted})
	}
	fields = append(fields, bson.E{Key: "nModified", Value: int32(modified)})
	return n.finishWrite(ctx, r, res, out.appendTo(fields))
}

// deleteStmt is one entry of delete.deletes: {q, limit: 0 (all) | 1 (first)}.
type deleteStmt struct {
	m   *query.Matcher
	one bool
	err error
}

func parseDeleteStmt(v bson.RawValue, i int) (deleteStmt, error) {
	d, ok := v.DocumentOK()
	if !ok {
		return deleteStmt{}, wrongType("delete.deletes."+strconv.Itoa(i), v, "object")
	}
	var st deleteStmt
	qv, err := d.LookupErr("q")
	if err != nil {
		return st, missingField("delete.deletes", "q")
	}
	q, ok := qv.DocumentOK()
	if !ok {
		return st, wrongType("delete.deletes.q", qv, "object")
	}
	lv, err := d.LookupErr("limit")
	if err != nil {
		return st, missingField("delete.deletes", "limit")
	}
	limit, ok := numberAsInt64(lv)
	if !ok || (limit != 0 && limit != 1) {
		return st, mongoerr.New(mongoerr.FailedToParse, "The limit field in delete objects must be 0 or 1. Got %s", lv.String())
	}
	st.one = limit == 1
	st.m, st.err = query.NewMatcher(q)
	return st, nil
}

// cmdDelete replies {n, writeErrors}.
func (n *Node) cmdDelete(ctx context.Context, r *request) (bson.D, error) {
	t, err := crudTarget(r)
	if err != nil {
		return nil, err
	}
	vals, err := statements(r, "deletes")
	if err != nil {
		return nil, err
	}
	ordered, err := orderedArg(r)
	if err != nil {
		return nil, err
	}
	stmts := make([]deleteStmt, len(vals))
	for i, v := range vals {
		if stmts[i], err = parseDeleteStmt(v, i); err != nil {
			return nil, err
		}
	}
	if err := n.precheckWriteConcern(r); err != nil {
		return nil, err
	}
	var out batchOutcome
	deleted := 0
	res, err := n.runWrite(ctx, r, func(tx *storage.Tx, ol *opLog) error {
		out, deleted = batchOutcome{}, 0
		w := newCollWriter(tx, ol, t)
		for i, st := range stmts {
			err := st.err
			if err == nil {
				var k int
				k, err = applyDelete(w, st)
				deleted += k
			}
			if err != nil {
				me, ok := asWriteError(err)
				if !ok {
					return err
				}
				if !out.fail(i, me, ordered) {
					break
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	n.counters.delete.Add(int64(len(stmts)))
	return n.finishWrite(ctx, r, res, out.appendTo(bson.D{{Key: "n", Value: int32(deleted)}}))
}

func applyDelete(w *collWriter, st deleteStmt) (int, error) {
	var ids []bson.RawValue
	err := scanMatches(w.tx, w.t.ns, st.m, func(doc bson.Raw) (bool, error) {
		ids = append(ids, doc.Lookup("_id"))
		return !st.one, nil
	})
	if err != nil {
		return 0, err
	}
	k := 0
	for _, id := range ids {
		ok, err := w.delete(id)
		if err != nil {
			return k, err
		}
		if ok {
			k++
		}
	}
	return k, nil
}
