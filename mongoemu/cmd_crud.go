package mongoemu

import (
	"context"
	"strconv"

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

// parseWriteBatch reads what insert, update and delete share: the target collection, the
// statements under field (each turned into a T by parse), ordered, and the write concern
// precheck, which must pass before anything is written.
func parseWriteBatch[T any](n *Node, r *request, field string, parse func(bson.RawValue, int) (T, error)) (target, []T, bool, error) {
	t, err := crudTarget(r)
	if err != nil {
		return target{}, nil, false, err
	}
	vals, err := statements(r, field)
	if err != nil {
		return target{}, nil, false, err
	}
	ordered, err := orderedArg(r)
	if err != nil {
		return target{}, nil, false, err
	}
	stmts := make([]T, len(vals))
	for i, v := range vals {
		if stmts[i], err = parse(v, i); err != nil {
			return target{}, nil, false, err
		}
	}
	if err := n.precheckWriteConcern(r); err != nil {
		return target{}, nil, false, err
	}
	return t, stmts, ordered, nil
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

// fail records statement i's error. A per-statement write error becomes a writeError and stop
// says whether the batch ends here (ordered); any other error is fatal and aborts the batch.
func (b *batchOutcome) fail(i int, err error, ordered bool) (stop bool, fatal error) {
	me, ok := asWriteError(err)
	if !ok {
		return true, err
	}
	b.errs = append(b.errs, writeErrorDoc(i, me))
	return ordered, nil
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
	t, docs, ordered, err := parseWriteBatch(n, r, "documents", func(v bson.RawValue, i int) (bson.Raw, error) {
		d, ok := v.DocumentOK()
		if !ok {
			return nil, wrongType("insert.documents."+strconv.Itoa(i), v, "object")
		}
		return withIDFirst(d), nil
	})
	if err != nil {
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
				stop, fatal := out.fail(i, err, ordered)
				if fatal != nil {
					return fatal
				}
				if stop {
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
	t, stmts, ordered, err := parseWriteBatch(n, r, "deletes", parseDeleteStmt)
	if err != nil {
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
				stop, fatal := out.fail(i, err, ordered)
				if fatal != nil {
					return fatal
				}
				if stop {
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
