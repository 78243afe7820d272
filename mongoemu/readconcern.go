package mongoemu

import (
	"fmt"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
)

// rcLevel is a readConcern level (repl/read_concern_level.h); rcNone means none was given,
// which reads like "local".
type rcLevel string

const (
	rcNone         rcLevel = ""
	rcLocal        rcLevel = "local"
	rcAvailable    rcLevel = "available"
	rcMajority     rcLevel = "majority"
	rcLinearizable rcLevel = "linearizable"
	rcSnapshot     rcLevel = "snapshot"
)

// readConcern is a parsed readConcern argument (repl/read_concern_args.cpp).
type readConcern struct {
	level               rcLevel
	afterClusterTime    bson.Timestamp
	hasAfterClusterTime bool
	afterOpTime         opTime
	hasAfterOpTime      bool
	atClusterTime       bson.Timestamp
	hasAtClusterTime    bool
}

// effectiveLevel is the level in force: local when none was given (ReadConcernArgs::getLevel).
func (rc readConcern) effectiveLevel() rcLevel {
	if rc.level == rcNone {
		return rcLocal
	}
	return rc.level
}

func (rc readConcern) isEmpty() bool {
	return rc.level == rcNone && !rc.hasAfterClusterTime && !rc.hasAfterOpTime && !rc.hasAtClusterTime
}

// String renders the arguments as mongod's ReadConcernArgs::toString does in error messages.
func (rc readConcern) String() string {
	var parts []string
	if rc.level != rcNone {
		parts = append(parts, fmt.Sprintf("level: %q", string(rc.level)))
	}
	if rc.hasAfterOpTime {
		parts = append(parts, fmt.Sprintf("afterOpTime: { ts: Timestamp(%d, %d), t: %d }", rc.afterOpTime.ts.T, rc.afterOpTime.ts.I, rc.afterOpTime.term))
	}
	if rc.hasAfterClusterTime {
		parts = append(parts, fmt.Sprintf("afterClusterTime: Timestamp(%d, %d)", rc.afterClusterTime.T, rc.afterClusterTime.I))
	}
	if rc.hasAtClusterTime {
		parts = append(parts, fmt.Sprintf("atClusterTime: Timestamp(%d, %d)", rc.atClusterTime.T, rc.atClusterTime.I))
	}
	return "{ readConcern: { " + strings.Join(parts, ", ") + " } }"
}

// parseReadConcern reads the command's readConcern as ReadConcernArgs::initialize and ::parse
// do (repl/read_concern_args.cpp): the same codes, messages and cross-field rules.
func parseReadConcern(r *request) (readConcern, error) {
	var rc readConcern
	v, ok := r.arg("readConcern")
	if !ok {
		return rc, nil
	}
	doc, isDoc := v.DocumentOK()
	if !isDoc {
		return rc, mongoerr.New(mongoerr.FailedToParse, "readConcern field should be an object")
	}
	elems, err := doc.Elements()
	if err != nil {
		return rc, mongoerr.New(mongoerr.FailedToParse, "readConcern: %v", err)
	}
	for _, e := range elems {
		val := e.Value()
		switch key := e.Key(); key {
		case "afterOpTime":
			ot, err := parseOpTimeField(val)
			if err != nil {
				return rc, err
			}
			rc.afterOpTime, rc.hasAfterOpTime = ot, true
		case "afterClusterTime", "atClusterTime":
			t, i, ok := val.TimestampOK()
			if !ok {
				return rc, mongoerr.New(mongoerr.TypeMismatch, "\"%s\" had the wrong type. Expected timestamp, found %s", key, typeName(val.Type))
			}
			if key == "afterClusterTime" {
				rc.afterClusterTime, rc.hasAfterClusterTime = bson.Timestamp{T: t, I: i}, true
			} else {
				rc.atClusterTime, rc.hasAtClusterTime = bson.Timestamp{T: t, I: i}, true
			}
		case "level":
			s, ok := val.StringValueOK()
			if !ok {
				return rc, mongoerr.New(mongoerr.TypeMismatch, "\"level\" had the wrong type. Expected string, found %s", typeName(val.Type))
			}
			switch l := rcLevel(s); l {
			case rcLocal, rcAvailable, rcMajority, rcLinearizable, rcSnapshot:
				rc.level = l
			default:
				return rc, mongoerr.New(mongoerr.FailedToParse,
					"readConcern.level must be either 'local', 'majority', 'linearizable', 'available', or 'snapshot'")
			}
		case "provenance", "allowTransactionTableSnapshot":
			// accepted as mongod does; they change nothing here
		default:
			return rc, mongoerr.New(mongoerr.InvalidOptions, "Unrecognized option in readConcern: %s", key)
		}
	}
	return rc, rc.validate()
}

// validate applies ReadConcernArgs::parse's rules between fields.
func (rc readConcern) validate() error {
	lvl := rc.effectiveLevel()
	switch {
	case rc.hasAfterClusterTime && rc.hasAfterOpTime:
		return mongoerr.New(mongoerr.InvalidOptions, "Can not specify both afterClusterTime and afterOpTime")
	case rc.hasAfterClusterTime && rc.hasAtClusterTime:
		return mongoerr.New(mongoerr.InvalidOptions, "Specifying a timestamp for readConcern snapshot in a causally consistent session is not allowed. See https://docs.mongodb.com/manual/core/read-isolation-consistency-recency/#causal-consistency")
	case rc.hasAfterClusterTime && lvl != rcMajority && lvl != rcLocal && lvl != rcSnapshot:
		return mongoerr.New(mongoerr.InvalidOptions, "afterClusterTime field can be set only if level is equal to majority, local, or snapshot")
	case rc.hasAfterOpTime && lvl == rcSnapshot:
		return mongoerr.New(mongoerr.InvalidOptions, "afterOpTime field cannot be set if level is equal to snapshot")
	case rc.hasAtClusterTime && lvl != rcSnapshot:
		return mongoerr.New(mongoerr.InvalidOptions, "atClusterTime field can be set only if level is equal to snapshot")
	case rc.hasAtClusterTime && rc.atClusterTime.IsZero():
		return mongoerr.New(mongoerr.InvalidOptions, "atClusterTime cannot be a null timestamp")
	case rc.hasAfterClusterTime && rc.afterClusterTime.IsZero():
		return mongoerr.New(mongoerr.InvalidOptions, "afterClusterTime cannot be a null timestamp")
	}
	return nil
}

// parseOpTimeField reads {ts: Timestamp, t: long} (repl/bson_extract_optime.cpp).
func parseOpTimeField(v bson.RawValue) (opTime, error) {
	d, ok := v.DocumentOK()
	if !ok {
		return opTime{}, mongoerr.New(mongoerr.TypeMismatch, "\"afterOpTime\" had the wrong type. Expected object, found %s", typeName(v.Type))
	}
	t, i, ok := d.Lookup("ts").TimestampOK()
	if !ok {
		return opTime{}, mongoerr.New(mongoerr.NoSuchKey, "Missing expected field \"ts\"")
	}
	term, ok := d.Lookup("t").AsInt64OK()
	if !ok {
		return opTime{}, mongoerr.New(mongoerr.NoSuchKey, "Missing expected field \"t\"")
	}
	return opTime{ts: bson.Timestamp{T: t, I: i}, term: term}, nil
}

// checkReadConcernSupport refuses a level the command does not take outside a transaction:
// find, aggregate and distinct take every level (snapshot included since 5.0), count all but
// snapshot (count_cmd.cpp), getMore any (it uses its cursor's), every other command only local
// (Command::supportsReadConcern's default). The message is service_entry_point_common.cpp's.
func checkReadConcernSupport(name string, rc readConcern) error {
	if rc.level == rcNone {
		return nil
	}
	reason := ""
	switch name {
	case "find", "aggregate", "distinct", "getMore":
	case "count":
		if rc.level == rcSnapshot {
			reason = "read concern snapshot not supported"
		}
	default:
		if rc.level != rcLocal {
			reason = "read concern not supported"
		}
	}
	if reason == "" {
		return nil
	}
	return mongoerr.New(mongoerr.InvalidOptions, "Command %s does not support %s :: caused by :: %s", name, rc, reason)
}
