package mongoemu

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
	"github.com/rsguard/rsguard/mongoemu/query"
	"github.com/rsguard/rsguard/mongoemu/storage"
)

// famSpec is a parsed findAndModify.
type famSpec struct {
	q              bson.Raw
	m              *query.Matcher
	sort           *query.Sort
	u              *query.Update
	proj           *query.Projection
	remove, retNew bool
	upsert         bool
}

func parseFindAndModify(r *request) (famSpec, error) {
	var s famSpec
	var err error
	if s.q, _, err = r.docArg("query"); err != nil {
		return s, err
	}
	if s.m, err = query.NewMatcher(s.q); err != nil {
		return s, err
	}
	if s.sort, err = sortArg(r, "sort"); err != nil {
		return s, err
	}
	if s.proj, err = projectionArg(r, "fields"); err != nil {
		return s, err
	}
	for _, f := range []struct {
		key string
		dst *bool
	}{{"remove", &s.remove}, {"new", &s.retNew}, {"upsert", &s.upsert}} {
		if *f.dst, err = r.boolArg(f.key); err != nil {
			return s, err
		}
	}
	uv, hasUpdate := r.arg("update")
	switch {
	case s.remove && hasUpdate:
		return s, mongoerr.New(mongoerr.FailedToParse, "Cannot specify both an update and remove=true")
	case !s.remove && !hasUpdate:
		return s, mongoerr.New(mongoerr.FailedToParse, "Either an update or remove=true must be specified")
	case s.remove && s.upsert:
		return s, mongoerr.New(mongoerr.FailedToParse, "Cannot specify both upsert=true and remove=true ")
	case s.remove && s.retNew:
		return s, mongoerr.New(mongoerr.FailedToParse,
			"Cannot specify both new=true and remove=true; 'remove' always returns the deleted document")
	}
	if _, ok := r.arg("arrayFilters"); ok {
		return s, mongoerr.New(mongoerr.BadValue, "arrayFilters are not supported by mongoemu")
	}
	if hasUpdate {
		if s.u, err = query.ParseUpdateValue(uv); err != nil {
			return s, err
		}
	}
	return s, nil
}

// cmdFindAndModify updates, upserts or removes the first document the query matches in sort
// order and replies {lastErrorObject: {n, updatedExisting, upserted}, value}. Failures are
// command errors (a duplicate key too, with keyPattern/keyValue), as in mongod.
func (n *Node) cmdFindAndModify(ctx context.Context, r *request) (bson.D, error) {
	t, err := crudTarget(r)
	if err != nil {
		return nil, err
	}
	s, err := parseFindAndModify(r)
	if err != nil {
		return nil, err
	}
	if err := n.precheckWriteConcern(r); err != nil {
		return nil, err
	}
	var leo bson.D
	var value any
	now := time.Now()
	res, err := n.runWrite(ctx, r, func(tx *storage.Tx, ol *opLog) error {
		w := newCollWriter(tx, ol, t)
		var err error
		leo, value, err = s.run(w, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	if s.remove {
		n.counters.delete.Add(1)
	} else {
		n.counters.update.Add(1)
	}
	return n.finishWrite(ctx, r, res, bson.D{{Key: "lastErrorObject", Value: leo}, {Key: "value", Value: value}})
}

// first returns the document the command acts on: the smallest match in sort order.
func (s *famSpec) first(w *collWriter) (bson.Raw, error) {
	var best bson.Raw
	err := scanMatches(w.tx, w.t.ns, s.m, func(doc bson.Raw) (bool, error) {
		if best == nil || (s.sort != nil && s.sort.Compare(doc, best) < 0) {
			best = doc
		}
		return s.sort != nil, nil
	})
	return best, err
}

func (s *famSpec) run(w *collWriter, now time.Time) (bson.D, any, error) {
	doc, err := s.first(w)
	if err != nil {
		return nil, nil, err
	}
	project := func(d bson.Raw) any {
		if d == nil {
			return nil
		}
		if s.proj != nil {
			return s.proj.Apply(d)
		}
		return d
	}
	switch {
	case doc == nil && !s.upsert:
		return bson.D{{Key: "n", Value: int32(0)}, {Key: "updatedExisting", Value: false}}, nil, nil
	case doc == nil:
		nd, err := s.u.UpsertDoc(s.q, now)
		if err != nil {
			return nil, nil, err
		}
		nd = withIDFirst(nd)
		if err := w.insert(nd); err != nil {
			return nil, nil, err
		}
		leo := bson.D{{Key: "n", Value: int32(1)}, {Key: "updatedExisting", Value: false}, {Key: "upserted", Value: nd.Lookup("_id")}}
		if s.retNew {
			return leo, project(nd), nil
		}
		return leo, nil, nil
	case s.remove:
		if _, err := w.delete(doc.Lookup("_id")); err != nil {
			return nil, nil, err
		}
		return bson.D{{Key: "n", Value: int32(1)}}, project(doc), nil
	}
	nd, changed, err := s.u.Apply(doc, now)
	if err != nil {
		return nil, nil, err
	}
	if changed {
		if err := w.replace(doc.Lookup("_id"), nd); err != nil {
			return nil, nil, err
		}
	}
	leo := bson.D{{Key: "n", Value: int32(1)}, {Key: "updatedExisting", Value: true}}
	if s.retNew {
		return leo, project(nd), nil
	}
	return leo, project(doc), nil
}
