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
	t, stmts, ordered, err := parseWriteBatch(n, r, "updates", parseUpdateStmt)
	if err != nil {
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
	n.counters.update.Add(int64(len(stmts)))
	fields := bson.D{{Key: "n", Value: int32(matched)}}
	if len(upserted) > 0 {
		fields = append(fields, bson.E{Key: "upserted", Value: upserted})
	}
	fields = append(fields, bson.E{Key: "nModified", Value: int32(modified)})
	return n.finishWrite(ctx, r, res, out.appendTo(fields))
}
