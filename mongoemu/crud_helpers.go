package mongoemu

import (
	"context"
	"errors"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
	"github.com/rsguard/rsguard/mongoemu/query"
	"github.com/rsguard/rsguard/mongoemu/storage"
)

// target is the namespace a data command works on.
type target struct{ db, coll, ns string }

// crudTarget reads the collection named by the command's first field (spec §6.14: find,
// insert... on "db.coll").
func crudTarget(r *request) (target, error) {
	coll, err := r.collection()
	if err != nil {
		return target{}, err
	}
	ns := r.db + "." + coll
	if strings.ContainsAny(coll, "$\x00") && ns != storage.OplogNS {
		return target{}, mongoerr.New(mongoerr.InvalidNamespace, "Invalid namespace specified '%s'", ns)
	}
	return target{db: r.db, coll: coll, ns: ns}, nil
}

// replicated reports whether writes to db go to the oplog; "local" never does (spec §7.1).
func (t target) replicated() bool { return t.db != "local" }

func missingField(cmd, field string) error {
	return mongoerr.New(mongoerr.Location40414, "BSON field '%s.%s' is missing but a required field", cmd, field)
}

func wrongType(field string, v bson.RawValue, want string) error {
	return mongoerr.New(mongoerr.TypeMismatch, "BSON field '%s' is the wrong type '%s', expected type '%s'",
		field, typeName(v.Type), want)
}

func isNamespaceNotFound(err error) bool {
	var me *mongoerr.Error
	return errors.As(err, &me) && me.Code == mongoerr.NamespaceNotFound
}

// scanMatches calls fn with every document of ns that m matches, until fn says stop. A filter
// pinning _id is one point lookup (query.Matcher.IDEquality); a missing collection matches
// nothing, as in mongod. fn must not write to ns.
func scanMatches(tx *storage.Tx, ns string, m *query.Matcher, fn func(doc bson.Raw) (more bool, err error)) error {
	if id, ok := m.IDEquality(); ok && ns != storage.OplogNS {
		doc, found, err := tx.Get(ns, id)
		switch {
		case isNamespaceNotFound(err):
			return nil
		case err == nil:
			if found && m.Match(doc) {
				_, err = fn(doc)
			}
			return err
		}
		// an _id value the key encoding refuses: fall back to a scan
	}
	err := tx.Scan(ns, func(doc bson.Raw) (bool, error) {
		if !m.Match(doc) {
			return true, nil
		}
		return fn(doc)
	})
	if isNamespaceNotFound(err) {
		return nil
	}
	return err
}

// withIDFirst gives doc an ObjectId _id when it has none and moves an existing _id to the
// front, as mongod stores inserted documents.
func withIDFirst(doc bson.Raw) bson.Raw {
	first, err := doc.IndexErr(0)
	if err == nil && first.Key() == "_id" {
		return doc
	}
	id, err := doc.LookupErr("_id")
	if err != nil {
		return query.EnsureID(doc, bson.NewObjectID())
	}
	out := bsoncoreDoc(len(doc))
	out = appendRawElem(out, "_id", id)
	elems, _ := doc.Elements()
	for _, e := range elems {
		if e.Key() != "_id" {
			out = append(out, e...)
		}
	}
	return finishDoc(out)
}

func bsoncoreDoc(capacity int) []byte { return append(make([]byte, 0, capacity+8), 0, 0, 0, 0) }

func appendRawElem(dst []byte, key string, v bson.RawValue) []byte {
	dst = append(dst, byte(v.Type))
	dst = append(dst, key...)
	dst = append(dst, 0)
	return append(dst, v.Value...)
}

func finishDoc(b []byte) bson.Raw {
	b = append(b, 0)
	n := len(b)
	b[0], b[1], b[2], b[3] = byte(n), byte(n>>8), byte(n>>16), byte(n>>24)
	return b
}

// idIndexSpec is the _id index every collection has.
func idIndexSpec() bson.D {
	return bson.D{{Key: "v", Value: int32(2)}, {Key: "key", Value: bson.D{{Key: "_id", Value: int32(1)}}}, {Key: "name", Value: "_id_"}}
}

// collWriter writes one collection inside a write transaction and logs each document write
// (spec §7.1: one entry per document, implicit creation first as a "c" entry).
type collWriter struct {
	tx      *storage.Tx
	ol      *opLog
	t       target
	ui      [16]byte
	exists  bool
	checked bool
}

func newCollWriter(tx *storage.Tx, ol *opLog, t target) *collWriter {
	return &collWriter{tx: tx, ol: ol, t: t}
}

func (w *collWriter) lookup() (bool, error) {
	if !w.checked {
		ui, ok, err := w.tx.CollectionUUID(w.t.ns)
		if err != nil {
			return false, err
		}
		w.ui, w.exists, w.checked = ui, ok, true
	}
	return w.exists, nil
}

// ensure creates the collection implicitly when it does not exist yet.
func (w *collWriter) ensure() error {
	ok, err := w.lookup()
	if err != nil || ok {
		return err
	}
	if err := w.tx.CreateCollection(w.t.ns, storage.CollOptions{}); err != nil {
		return err
	}
	w.checked = false
	if _, err := w.lookup(); err != nil {
		return err
	}
	if w.t.replicated() {
		w.ol.Command(w.t.db, &w.ui, bson.D{{Key: "create", Value: w.t.coll}, {Key: "idIndex", Value: idIndexSpec()}})
	}
	return nil
}

func (w *collWriter) insert(doc bson.Raw) error {
	if err := w.ensure(); err != nil {
		return err
	}
	if err := w.tx.Insert(w.t.ns, doc); err != nil {
		return err
	}
	if w.t.replicated() {
		w.ol.Insert(w.t.ns, w.ui, doc)
	}
	return nil
}

func (w *collWriter) replace(id bson.RawValue, doc bson.Raw) error {
	if _, err := w.lookup(); err != nil {
		return err
	}
	if err := w.tx.Replace(w.t.ns, id, doc); err != nil {
		return err
	}
	if w.t.replicated() {
		w.ol.Update(w.t.ns, w.ui, id, doc)
	}
	return nil
}

func (w *collWriter) delete(id bson.RawValue) (bool, error) {
	if _, err := w.lookup(); err != nil {
		return false, err
	}
	ok, err := w.tx.Delete(w.t.ns, id)
	if ok && err == nil && w.t.replicated() {
		w.ol.Delete(w.t.ns, w.ui, id)
	}
	return ok, err
}

// writeErrorDoc is one entry of writeErrors: {index, code, [keyPattern, keyValue], errmsg}.
func writeErrorDoc(i int, me *mongoerr.Error) bson.D {
	d := bson.D{{Key: "index", Value: int32(i)}, {Key: "code", Value: int32(me.Code)}}
	for _, f := range me.Extra {
		d = append(d, bson.E{Key: f.Key, Value: f.Value})
	}
	return append(d, bson.E{Key: "errmsg", Value: me.Msg})
}

// asWriteError splits an error into a per-statement write error (a *mongoerr.Error) or a
// failure of the whole command.
func asWriteError(err error) (*mongoerr.Error, bool) {
	var me *mongoerr.Error
	if errors.As(err, &me) && !me.Code.IsNotPrimary() && me.Code != mongoerr.InterruptedAtShutdown {
		return me, true
	}
	return nil, false
}

// precheckWriteConcern refuses up front, before anything is written, a write concern mongod
// rejects at parse time (a standalone cannot honour w > 1 or tag modes; spec §7.4).
func (n *Node) precheckWriteConcern(r *request) error {
	wc, err := parseWriteConcern(r)
	if err != nil || n.repl != nil {
		return err
	}
	if wc.wMode != "" && wc.wMode != "majority" {
		return mongoerr.New(mongoerr.BadValue, "cannot use non-majority 'w' mode %s when a host is not a member of a replica set", wc.wMode)
	}
	if wc.w > 1 {
		return mongoerr.New(mongoerr.BadValue, "cannot use 'w' > 1 when a host is not a replica set member")
	}
	return nil
}

// finishWrite waits for the write concern and appends writeConcernError (with the
// RetryableWriteError label for a retryable write and code, spec §5.7) to the reply.
func (n *Node) finishWrite(ctx context.Context, r *request, res writeResult, fields bson.D) (bson.D, error) {
	if res.retried != nil {
		fields = res.retried // a retry of a write that already ran answers its original outcome
	} else if !res.opTime.isNull() {
		r.opTS = res.opTime.ts // operationTime: the write's own optime (computeOperationTime)
	}
	if wce, labels, ok := n.fail.matchFailCommandWCE(r); ok {
		fields = append(fields, bson.E{Key: "writeConcernError", Value: wce})
		if len(labels) > 0 {
			fields = append(fields, bson.E{Key: "errorLabels", Value: labels})
		}
		return fields, nil
	}
	wce, err := n.awaitWriteConcern(ctx, r, res)
	if err != nil {
		var me *mongoerr.Error
		switch {
		case errors.As(err, &me):
			wce = bson.D{{Key: "code", Value: int32(me.Code)}, {Key: "codeName", Value: me.Code.Name()}, {Key: "errmsg", Value: me.Msg}}
		case errors.Is(err, context.DeadlineExceeded):
			wce = bson.D{{Key: "code", Value: int32(mongoerr.MaxTimeMSExpired)}, {Key: "codeName", Value: "MaxTimeMSExpired"},
				{Key: "errmsg", Value: "operation exceeded time limit"}}
		default:
			return nil, err
		}
	}
	if wce == nil {
		return fields, nil
	}
	fields = append(fields, bson.E{Key: "writeConcernError", Value: wce})
	if code, ok := wceCode(wce); ok && r.isRetryableWrite() && code.IsRetryable() {
		fields = append(fields, bson.E{Key: "errorLabels", Value: bson.A{"RetryableWriteError"}})
	}
	return fields, nil
}

func wceCode(wce bson.D) (mongoerr.Code, bool) {
	for _, e := range wce {
		if e.Key == "code" {
			if c, ok := e.Value.(int32); ok {
				return mongoerr.Code(c), true
			}
		}
	}
	return 0, false
}
