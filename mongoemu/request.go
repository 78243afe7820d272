package mongoemu

import (
	"github.com/rsguard/rsguard/mongoemu/storage"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
)

// request is one command as dispatched: the body with kind-1 sequences folded in.
type request struct {
	c       *conn
	cmd     bson.Raw
	name    string
	db      string
	exhaust bool
	// legacy is set for the OP_QUERY handshake path.
	legacy bool
	// streamCounter is the topologyVersion counter an exhaust hello stream last reported.
	streamCounter *int64
	// wcErrorOverride is a failCommand writeConcernError to attach to a successful reply.
	wcErrorOverride bson.Raw
	// readConcern is the parsed readConcern; snap the committed snapshot a majority or snapshot
	// read reads (readconcern_wait.go), nil for the newest local data.
	readConcern readConcern
	snap        *storage.Snapshot
	opTS        bson.Timestamp // the reply's operationTime when not the newest optime (reply.go)
}

// arg returns a top-level field of the command.
func (r *request) arg(key string) (bson.RawValue, bool) {
	v, err := r.cmd.LookupErr(key)
	return v, err == nil
}

// firstValue is the value of the command-name field, e.g. the collection of {find: "c"}.
func (r *request) firstValue() bson.RawValue {
	e, err := r.cmd.IndexErr(0)
	if err != nil {
		return bson.RawValue{}
	}
	return e.Value()
}

// collection returns the command's target collection name, which must be a string.
func (r *request) collection() (string, error) {
	v := r.firstValue()
	s, ok := v.StringValueOK()
	if !ok {
		return "", mongoerr.New(mongoerr.InvalidNamespace,
			"collection name has invalid type %s", typeName(v.Type))
	}
	if s == "" {
		return "", mongoerr.New(mongoerr.InvalidNamespace, "Invalid namespace specified '%s.'", r.db)
	}
	return s, nil
}

// intArg reads a numeric argument of any BSON numeric type.
func (r *request) intArg(key string) (int64, bool, error) {
	v, ok := r.arg(key)
	if !ok {
		return 0, false, nil
	}
	n, ok := numberAsInt64(v)
	if !ok {
		return 0, true, mongoerr.New(mongoerr.TypeMismatch,
			"BSON field '%s.%s' is the wrong type '%s', expected types '[long, int, decimal, double]'",
			r.name, key, typeName(v.Type))
	}
	return n, true, nil
}

// boolArg reads a boolean argument; numbers are accepted as truthy like mongod's IDL bool.
func (r *request) boolArg(key string) (bool, error) {
	v, ok := r.arg(key)
	if !ok {
		return false, nil
	}
	if b, ok := v.BooleanOK(); ok {
		return b, nil
	}
	if n, ok := numberAsFloat(v); ok {
		return n != 0, nil
	}
	return false, mongoerr.New(mongoerr.TypeMismatch,
		"BSON field '%s.%s' is the wrong type '%s', expected types '[bool, long, int, decimal, double]'",
		r.name, key, typeName(v.Type))
}

// docArg reads an embedded document argument.
func (r *request) docArg(key string) (bson.Raw, bool, error) {
	v, ok := r.arg(key)
	if !ok {
		return nil, false, nil
	}
	d, ok := v.DocumentOK()
	if !ok {
		return nil, true, mongoerr.New(mongoerr.TypeMismatch,
			"BSON field '%s.%s' is the wrong type '%s', expected type 'object'", r.name, key, typeName(v.Type))
	}
	return d, true, nil
}

// secondaryOk reports whether the client allows reads on a non-primary: in OP_MSG that is any
// $readPreference mode other than primary (spec §5.7); OP_QUERY uses the SecondaryOk flag.
func (r *request) secondaryOk() bool {
	if r.legacy {
		return true
	}
	rp, ok := r.arg("$readPreference")
	if !ok {
		return false
	}
	d, ok := rp.DocumentOK()
	if !ok {
		return false
	}
	mode, _ := d.Lookup("mode").StringValueOK()
	return mode != "" && mode != "primary"
}
