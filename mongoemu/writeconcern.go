package mongoemu

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
)

// writeConcern is a parsed {w, j, wtimeout} (spec §7.4).
type writeConcern struct {
	w        int    // numeric w; -1 when wMode is set
	wMode    string // "majority" or a tag mode
	j        bool
	jSet     bool
	wSet     bool
	wtimeout time.Duration
	raw      bson.D
	// clientSupplied: the command carried a non-empty writeConcern; otherwise the cluster-wide
	// or implicit default applies (write_concern.cpp extractWriteConcern, usedDefaultConstructedWC).
	clientSupplied bool
	// provenance is reported in writeConcernError.errInfo.writeConcern: clientSupplied,
	// implicitDefault or customDefault (ReadWriteConcernProvenance).
	provenance string
}

func parseWriteConcern(r *request) (writeConcern, error) {
	doc, ok, err := r.docArg("writeConcern")
	if err != nil {
		return writeConcern{w: 1}, err
	}
	if !ok {
		return writeConcern{w: 1, provenance: "implicitDefault"}, nil
	}
	return parseWriteConcernDoc(doc)
}

// parseWriteConcernDoc parses a writeConcern document; an empty one means "use the default",
// as when the field is absent.
func parseWriteConcernDoc(doc bson.Raw) (writeConcern, error) {
	wc := writeConcern{w: 1, provenance: "implicitDefault"}
	elems, _ := doc.Elements()
	if len(elems) > 0 {
		wc.clientSupplied, wc.provenance = true, "clientSupplied"
	}
	for _, e := range elems {
		wc.raw = append(wc.raw, bson.E{Key: e.Key(), Value: e.Value()})
		v := e.Value()
		switch e.Key() {
		case "w":
			wc.wSet = true
			if s, ok := v.StringValueOK(); ok {
				wc.w, wc.wMode = -1, s
				continue
			}
			n, ok := numberAsInt64(v)
			if !ok || n < 0 {
				return wc, mongoerr.New(mongoerr.FailedToParse, "w has to be a number or string; found: %s", typeName(v.Type))
			}
			wc.w = int(n)
		case "j":
			b, ok := v.BooleanOK()
			if !ok {
				f, isNum := numberAsFloat(v)
				if !isNum {
					return wc, mongoerr.New(mongoerr.FailedToParse, "j must be numeric or a boolean value")
				}
				b = f != 0
			}
			wc.j, wc.jSet = b, true
		case "wtimeout", "wtimeoutMS":
			n, ok := numberAsInt64(v)
			if !ok {
				return wc, mongoerr.New(mongoerr.FailedToParse, "wtimeout must be a number")
			}
			wc.wtimeout = time.Duration(n) * time.Millisecond
		case "provenance":
			if p, ok := v.StringValueOK(); ok {
				wc.provenance = p
			}
		case "fsync", "getLastError":
		default:
			return wc, mongoerr.New(mongoerr.FailedToParse, "unrecognized write concern field: %s", e.Key())
		}
	}
	return wc, nil
}

// awaitWriteConcern waits until the write at res satisfies the request's write concern. A timeout
// is not an error: it yields a writeConcernError document to add to the reply (spec §7.4).
// The write itself is never undone.
func (n *Node) awaitWriteConcern(ctx context.Context, r *request, res writeResult) (bson.D, error) {
	wc, err := parseWriteConcern(r)
	if err != nil {
		return nil, err
	}
	if n.repl != nil && !wc.clientSupplied && !r.c.internal.Load() && !inMultiDocTxn(r) {
		wc = n.repl.defaultWriteConcern()
	}
	if wc.w == 0 && wc.wMode == "" {
		return nil, nil
	}
	if n.repl == nil {
		if wc.wMode != "" && wc.wMode != "majority" {
			return nil, mongoerr.New(mongoerr.BadValue, "cannot use non-majority 'w' mode %s when a host is not a member of a replica set", wc.wMode)
		}
		if wc.w > 1 {
			return nil, mongoerr.New(mongoerr.BadValue, "cannot use 'w' > 1 when a host is not a replica set member")
		}
		if wc.j || wc.wMode == "majority" {
			if err := n.store.Sync(); err != nil {
				return nil, err
			}
		}
		return nil, nil
	}
	return n.repl.awaitReplication(ctx, res.opTime, wc)
}

// wcTimeoutError is the writeConcernError of an expired wtimeout.
func wcTimeoutError(wc writeConcern) bson.D {
	wcDoc := bson.D{}
	if wc.wMode != "" {
		wcDoc = append(wcDoc, bson.E{Key: "w", Value: wc.wMode})
	} else {
		wcDoc = append(wcDoc, bson.E{Key: "w", Value: int32(wc.w)})
	}
	wcDoc = append(wcDoc, bson.E{Key: "wtimeout", Value: int32(wc.wtimeout / time.Millisecond)})
	if wc.provenance != "" {
		wcDoc = append(wcDoc, bson.E{Key: "provenance", Value: wc.provenance})
	}
	return bson.D{
		{Key: "code", Value: int32(mongoerr.WriteConcernFailed)},
		{Key: "codeName", Value: "WriteConcernFailed"},
		{Key: "errmsg", Value: "waiting for replication timed out"},
		{Key: "errInfo", Value: bson.D{{Key: "wtimeout", Value: true}, {Key: "writeConcern", Value: wcDoc}}},
	}
}

// inMultiDocTxn: statements inside a multi-document transaction take no default write concern
// (write_concern.cpp: only transaction commands do).
func inMultiDocTxn(r *request) bool {
	_, ok := r.arg("autocommit")
	return ok && r.name != "commitTransaction" && r.name != "abortTransaction"
}
