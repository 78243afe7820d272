package mongoemu

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
)

// registerRWCDefaults adds setDefaultRWConcern (never on a secondary) and getDefaultRWConcern
// (any state) (commands/rwc_defaults_commands.cpp).
func (n *Node) registerRWCDefaults(t commandTable) {
	t["setDefaultRWConcern"] = &command{fn: n.cmdSetDefaultRWConcern, kind: kindWrite, adminOnly: true}
	t["getDefaultRWConcern"] = &command{fn: n.cmdGetDefaultRWConcern, kind: kindAny, adminOnly: true}
}

// unknownField is the IDL parser's error for a field a strict command does not define.
func unknownField(cmd, field string) error {
	return mongoerr.New(40415, "BSON field '%s.%s' is an unknown field.", cmd, field)
}

func notOnStandalone(n *Node, cmd string) error {
	if n.repl == nil {
		return mongoerr.New(51300, "'%s' is not supported on standalone nodes.", cmd)
	}
	return nil
}

func (n *Node) cmdGetDefaultRWConcern(_ context.Context, r *request) (bson.D, error) {
	if err := notOnStandalone(n, "getDefaultRWConcern"); err != nil {
		return nil, err
	}
	inMemory := false
	for _, e := range r.commandArgs() {
		if e.Key() != "inMemory" {
			return nil, unknownField("getDefaultRWConcern", e.Key())
		}
		b, ok := e.Value().BooleanOK()
		if !ok {
			return nil, mongoerr.New(mongoerr.TypeMismatch, "BSON field 'getDefaultRWConcern.inMemory' is the wrong type '%s', expected type 'bool'", typeName(e.Value().Type))
		}
		inMemory = b
	}
	d, seenAt, err := n.repl.readRWCDefaults()
	if err != nil {
		return nil, err
	}
	return n.repl.rwcDefaultsReply(d, seenAt, inMemory), nil
}

// cmdSetDefaultRWConcern validates like ReadWriteConcernDefaults::generateNewCWRWCToBeSavedOnDisk
// and checkSuitabilityAsDefault, stores the document with the command's own write concern
// (or the default), and answers the new defaults.
func (n *Node) cmdSetDefaultRWConcern(ctx context.Context, r *request) (bson.D, error) {
	if err := notOnStandalone(n, "setDefaultRWConcern"); err != nil {
		return nil, err
	}
	var rcDoc, wcDoc bson.Raw
	var hasRC, hasWC bool
	for _, e := range r.commandArgs() {
		switch e.Key() {
		case "defaultReadConcern", "defaultWriteConcern":
			doc, ok := e.Value().DocumentOK()
			if !ok {
				return nil, mongoerr.New(mongoerr.TypeMismatch, "BSON field 'setDefaultRWConcern.%s' is the wrong type '%s', expected type 'object'", e.Key(), typeName(e.Value().Type))
			}
			if e.Key() == "defaultReadConcern" {
				rcDoc, hasRC = doc, true
			} else {
				wcDoc, hasWC = doc, true
			}
		default:
			return nil, unknownField("setDefaultRWConcern", e.Key())
		}
	}
	if !hasRC && !hasWC {
		return nil, mongoerr.New(mongoerr.BadValue, `At least one of the "defaultReadConcern" or "defaultWriteConcern" fields must be present`)
	}
	cur, _, err := n.repl.readRWCDefaults()
	if err != nil {
		return nil, err
	}
	newRC, err := defaultReadConcernArg(rcDoc, hasRC, cur.rc)
	if err != nil {
		return nil, err
	}
	newWC := cur.wc
	if hasWC {
		wc, err := parseWriteConcernDoc(wcDoc)
		if err != nil {
			return nil, err
		}
		switch {
		case !wc.clientSupplied: // {}: leave unset, but a CWWC once set cannot be unset
			if cur.wc != nil && len(cur.wc) > 5 {
				return nil, mongoerr.New(mongoerr.IllegalOperation, "The global default write concern cannot be unset once it is set.")
			}
			newWC = nil
		case wc.wMode == "" && wc.w < 1:
			return nil, mongoerr.New(mongoerr.BadValue, "Unacknowledged write concern is not suitable for the default write concern")
		case wcDocHas(wcDoc, "provenance"):
			return nil, mongoerr.New(mongoerr.BadValue, "'provenance' must be unset in default write concern")
		default:
			n.mu.Lock()
			err := n.repl.checkWriteConcernLocked(wc)
			n.mu.Unlock()
			if err != nil {
				return nil, err
			}
			b, _ := bson.Marshal(writeConcernDoc(wc))
			newWC = b
		}
	}
	ts, _ := n.repl.clusterTime()
	doc := bson.D{{Key: "_id", Value: rwcDefaultsID}}
	if newRC != nil {
		doc = append(doc, bson.E{Key: "defaultReadConcern", Value: newRC})
	}
	if newWC != nil {
		doc = append(doc, bson.E{Key: "defaultWriteConcern", Value: newWC})
	}
	doc = append(doc, bson.E{Key: "updateOpTime", Value: ts}, bson.E{Key: "updateWallClockTime", Value: dateOf(time.Now())})
	res, err := n.storeRWCDefaults(ctx, r, doc)
	if err != nil {
		return nil, err
	}
	n.events.info("COMMAND", 20498, "Successfully set RWC defaults", "value", mustMarshal(doc).String())
	fields, err := n.finishWrite(ctx, r, res, nil)
	if err != nil {
		return nil, err
	}
	d, seenAt, err := n.repl.readRWCDefaults()
	if err != nil {
		return nil, err
	}
	return append(n.repl.rwcDefaultsReply(d, seenAt, false), fields...), nil
}

func wcDocHas(doc bson.Raw, key string) bool {
	_, err := doc.LookupErr(key)
	return err == nil
}

// defaultReadConcernArg validates a defaultReadConcern (ReadConcernArgs parsing, then
// checkSuitabilityAsDefault). An empty document leaves the read concern unset.
func defaultReadConcernArg(doc bson.Raw, given bool, cur bson.Raw) (bson.Raw, error) {
	if !given {
		return cur, nil
	}
	elems, _ := doc.Elements()
	if len(elems) == 0 {
		return nil, nil
	}
	level := ""
	for _, e := range elems {
		switch e.Key() {
		case "level":
			s, ok := e.Value().StringValueOK()
			if !ok {
				return nil, mongoerr.New(mongoerr.TypeMismatch, "BSON field 'ReadConcernArgs.level' is the wrong type '%s', expected type 'string'", typeName(e.Value().Type))
			}
			switch s {
			case "local", "majority", "available":
			case "snapshot", "linearizable":
				return nil, mongoerr.New(mongoerr.BadValue, "level: '%s' is not suitable for the default read concern", s)
			default:
				return nil, mongoerr.New(mongoerr.FailedToParse, "level must be either 'local', 'majority', 'linearizable', 'available', or 'snapshot'")
			}
			level = s
		case "afterOpTime", "afterClusterTime", "atClusterTime", "provenance":
			return nil, mongoerr.New(mongoerr.BadValue, "'%s' is not suitable for the default read concern", e.Key())
		default:
			return nil, mongoerr.New(mongoerr.InvalidOptions, "Unrecognized option in readConcern: %s", e.Key())
		}
	}
	b, _ := bson.Marshal(bson.D{{Key: "level", Value: level}})
	return b, nil
}
