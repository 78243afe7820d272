package query

import (
	"bytes"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
)

// maxDocSize is mongod's BSONObjMaxUserSize.
const maxDocSize = 16 * 1024 * 1024

// applyCtx carries what error messages and $currentDate need.
type applyCtx struct {
	id     bson.RawValue
	hasID  bool
	now    time.Time
	insert bool
}

func (c *applyCtx) idDoc() string {
	if !c.hasID {
		return "{}"
	}
	return "{_id: " + fmtValue(c.id) + "}"
}

// Apply returns the updated document and whether it differs from doc
// (bytewise, which is what mongod's nModified counts). _id may not change
// (ImmutableField); a replacement without _id keeps the original one, first.
// $setOnInsert is inactive here. now is the time $currentDate writes; the
// package never reads the clock.
func (u *Update) Apply(doc bson.Raw, now time.Time) (bson.Raw, bool, error) {
	id, hasID := lookupField(doc, "_id")
	var out bson.Raw
	var err error
	if u.replacement != nil {
		out, err = replaceKeepingID(u.replacement, id, hasID)
	} else {
		out, err = u.applyOps(doc, &applyCtx{id: id, hasID: hasID, now: now})
	}
	if err != nil {
		return nil, false, err
	}
	if err := checkResult(out, id, hasID, u.replacement != nil); err != nil {
		return nil, false, err
	}
	return out, !bytes.Equal(out, doc), nil
}

func (u *Update) applyOps(doc bson.Raw, ctx *applyCtx) (bson.Raw, error) {
	cur := doc
	for i := range u.ops {
		op := &u.ops[i]
		if op.op == "$setOnInsert" && !ctx.insert {
			continue
		}
		var err error
		if op.op == "$rename" {
			cur, err = op.applyRename(cur, ctx)
		} else {
			cur, _, err = modifyDoc(cur, op.parts, 0, func(old bson.RawValue, exists bool) (edit, error) {
				return op.edit(old, exists, ctx)
			})
		}
		if err != nil {
			return nil, err
		}
	}
	return cur, nil
}

// replaceKeepingID builds a replacement with the original _id first.
func replaceKeepingID(repl bson.Raw, id bson.RawValue, hasID bool) (bson.Raw, error) {
	rid, rhas := lookupField(repl, "_id")
	if hasID && rhas && !Equal(rid, id) {
		return nil, mongoerr.New(mongoerr.ImmutableField,
			"After applying the update, the (immutable) field '_id' was found to have been altered to _id: %s", fmtValue(rid))
	}
	if !hasID && !rhas {
		return append(bson.Raw(nil), repl...), nil
	}
	if !hasID {
		id = rid
	}
	out, start := beginDoc(make([]byte, 0, len(repl)+len(id.Value)+8))
	out = appendElem(out, "_id", id)
	it := iterDoc(repl)
	for {
		k, _, raw, ok := it.next()
		if !ok {
			break
		}
		if string(k) != "_id" {
			out = append(out, raw...)
		}
	}
	return endDoc(out, start), nil
}

// checkResult enforces what mongod checks after every update: _id kept,
// _id of a storable type, size within 16MB.
func checkResult(out bson.Raw, id bson.RawValue, hasID, replacement bool) error {
	nid, nhas := lookupField(out, "_id")
	if hasID && (!nhas || !Equal(nid, id)) && !replacement {
		return mongoerr.New(mongoerr.ImmutableField,
			"Performing an update on the path '_id' would modify the immutable field '_id'")
	}
	if nhas {
		if err := checkIDType(nid); err != nil {
			return err
		}
	}
	if len(out) > maxDocSize {
		return mongoerr.New(mongoerr.Code(17419), "Resulting document after update is larger than %d", maxDocSize)
	}
	return nil
}

func checkIDType(id bson.RawValue) error {
	switch id.Type {
	case bson.TypeArray, bson.TypeRegex, bson.TypeUndefined:
		return mongoerr.New(mongoerr.InvalidIdField, "The '_id' value cannot be of type %s", typeName(id.Type))
	}
	return nil
}

// UpsertDoc builds the document an upsert inserts when nothing matched
// filter. Operator updates start from the filter's equality fields (dotted
// paths become nested documents, _id first) and apply the update with
// $setOnInsert active. A replacement is used as is, with the filter's _id
// equality (if any) added first. The result has no _id when neither the
// filter nor the update supplies one: the caller generates an ObjectId (see
// EnsureID), as mongod does.
func (u *Update) UpsertDoc(filter bson.Raw, now time.Time) (bson.Raw, error) {
	m, err := NewMatcher(filter)
	if err != nil {
		return nil, err
	}
	fid, fhas := m.IDEquality()
	var out bson.Raw
	if u.replacement != nil {
		if out, err = replaceKeepingID(u.replacement, fid, fhas); err != nil {
			return nil, err
		}
	} else {
		seed, err := seedFromEqualities(m.EqualityFields())
		if err != nil {
			return nil, err
		}
		if out, err = u.applyOps(seed, &applyCtx{id: fid, hasID: fhas, now: now, insert: true}); err != nil {
			return nil, err
		}
	}
	if err := checkResult(out, fid, fhas, false); err != nil {
		return nil, err
	}
	return out, nil
}

func seedFromEqualities(eqs []Field) (bson.Raw, error) {
	seed := emptyDoc()
	var err error
	for pass := 0; pass < 2; pass++ { // _id first, like mongod
		for i, f := range eqs {
			if (f.Path == "_id") != (pass == 0) {
				continue
			}
			for _, g := range eqs[:i] {
				if pathPrefixOf(g.Path, f.Path) || pathPrefixOf(f.Path, g.Path) {
					return nil, mongoerr.New(mongoerr.Code(54),
						"cannot infer query fields to set, path '%s' is matched twice", g.Path)
				}
			}
			if seed, err = SetPath(seed, f.Path, f.Value); err != nil {
				return nil, err
			}
		}
	}
	return seed, nil
}

// EnsureID returns doc with _id: id prepended when doc has no _id.
func EnsureID(doc bson.Raw, id bson.ObjectID) bson.Raw {
	if _, ok := lookupField(doc, "_id"); ok {
		return doc
	}
	out, start := beginDoc(make([]byte, 0, len(doc)+17))
	out = appendElem(out, "_id", bson.RawValue{Type: bson.TypeObjectID, Value: id[:]})
	if len(doc) >= 5 {
		out = append(out, doc[4:len(doc)-1]...)
	}
	return endDoc(out, start)
}

// edit decides the change one operator makes at its path.
func (o *updateOp) edit(old bson.RawValue, exists bool, ctx *applyCtx) (edit, error) {
	set := func(v bson.RawValue) (edit, error) {
		if exists && old.Type == v.Type && bytes.Equal(old.Value, v.Value) {
			return edit{}, nil
		}
		return edit{act: setIt, v: v}, nil
	}
	switch o.op {
	case "$set", "$setOnInsert":
		return set(o.arg)
	case "$unset":
		if exists {
			return edit{act: deleteIt}, nil
		}
		return edit{}, nil
	case "$inc", "$mul":
		if !exists {
			if o.op == "$mul" {
				return set(zeroLike(o.arg))
			}
			return set(o.arg)
		}
		if !isNumber(old.Type) {
			return edit{}, mongoerr.New(mongoerr.TypeMismatch,
				"Cannot apply %s to a value of non-numeric type. %s has the field '%s' of non-numeric type %s",
				o.op, ctx.idDoc(), o.parts[len(o.parts)-1], typeName(old.Type))
		}
		var r bson.RawValue
		var ok bool
		if o.op == "$inc" {
			r, ok = addNumbers(old, o.arg)
		} else {
			r, ok = mulNumbers(old, o.arg)
		}
		if !ok {
			return edit{}, mongoerr.New(mongoerr.BadValue,
				"Failed to apply %s operations to current value ((NumberLong)%s) for document %s",
				o.op, fmtValue(old), ctx.idDoc())
		}
		return set(r)
	case "$min", "$max":
		c := 0
		if exists {
			c = Compare(o.arg, old)
		}
		if !exists || (o.op == "$min" && c < 0) || (o.op == "$max" && c > 0) {
			return set(o.arg)
		}
		return edit{}, nil
	case "$currentDate":
		if o.ts {
			return set(timestampVal(uint32(ctx.now.Unix()), 1))
		}
		return set(dateVal(ctx.now.UnixMilli()))
	}
	return o.arrayEdit(old, exists, ctx)
}

// applyRename moves a value: unset at the source, set at the destination.
// Neither path may run through an array, as in mongod.
func (o *updateOp) applyRename(doc bson.Raw, ctx *applyCtx) (bson.Raw, error) {
	v, ok, arrayAt := lookupExact(doc, o.parts)
	if arrayAt >= 0 {
		return nil, mongoerr.New(mongoerr.BadValue,
			"The source field cannot be an array element, '%s' in doc with _id: %s has an array field called '%s'",
			o.path(), fmtValue(ctx.id), o.parts[arrayAt-1])
	}
	if !ok {
		return doc, nil
	}
	if _, _, at := lookupExact(doc, o.to); at >= 0 {
		return nil, mongoerr.New(mongoerr.BadValue,
			"The destination field cannot be an array element, '%s' in doc with _id: %s has an array field called '%s'",
			strings.Join(o.to, "."), fmtValue(ctx.id), o.to[at-1])
	}
	doc, _, err := modifyDoc(doc, o.parts, 0, func(bson.RawValue, bool) (edit, error) {
		return edit{act: deleteIt}, nil
	})
	if err != nil {
		return nil, err
	}
	doc, _, err = modifyDoc(doc, o.to, 0, func(bson.RawValue, bool) (edit, error) {
		return edit{act: setIt, v: v}, nil
	})
	return doc, err
}
