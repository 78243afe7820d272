package mongoemu

import (
	"context"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
)

// registerAdmin adds the admin-database commands: parameters (spec §6.13), getLog (§6.11),
// fail points (§6.12), fsync locking and shutdown (§6.9).
func (n *Node) registerAdmin(t commandTable) {
	t["getParameter"] = &command{fn: n.cmdGetParameter, adminOnly: true}
	t["setParameter"] = &command{fn: n.cmdSetParameter, adminOnly: true}
	t["getLog"] = &command{fn: n.cmdGetLog, adminOnly: true}
	t["configureFailPoint"] = &command{fn: n.cmdConfigureFailPoint, adminOnly: true, testOnly: true}
	t["fsync"] = &command{fn: n.cmdFsync, adminOnly: true}
	t["fsyncUnlock"] = &command{fn: n.cmdFsyncUnlock, adminOnly: true}
	t["shutdown"] = &command{fn: n.cmdShutdown, adminOnly: true}
}

// featureCompatibilityVersion is read-only here: it is changed by setFeatureCompatibilityVersion,
// which a 7.0-only emulator has no use for.
const fcvParam = "featureCompatibilityVersion"

func fcvDoc() bson.D { return bson.D{{Key: "version", Value: "7.0"}} }

// isGenericArg: fields every command may carry that are not its own arguments.
func isGenericArg(key string) bool {
	if strings.HasPrefix(key, "$") {
		return true
	}
	switch key {
	case "lsid", "txnNumber", "autocommit", "startTransaction", "comment", "maxTimeMS", "readConcern",
		"writeConcern", "apiVersion", "apiStrict", "apiDeprecationErrors", "clusterTime":
		return true
	}
	return false
}

// commandArgs are the command's own fields after the command name.
func (r *request) commandArgs() []bson.RawElement {
	elems, _ := r.cmd.Elements()
	out := make([]bson.RawElement, 0, len(elems))
	for i, e := range elems {
		if i == 0 || isGenericArg(e.Key()) {
			continue
		}
		out = append(out, e)
	}
	return out
}

// cmdGetParameter answers {getParameter: 1, name: 1, ...} or {getParameter: "*"}. Like mongod,
// unknown names are skipped and only "nothing found" is an error.
func (n *Node) cmdGetParameter(_ context.Context, r *request) (bson.D, error) {
	all := false
	switch v := r.firstValue(); v.Type {
	case bson.TypeString:
		all = v.StringValue() == "*"
	case bson.TypeEmbeddedDocument:
		all, _ = v.Document().Lookup("allParameters").BooleanOK()
	}
	d := bson.D{}
	if all {
		d = append(d, bson.E{Key: fcvParam, Value: fcvDoc()})
		for _, name := range n.params.names() {
			v, _ := n.params.get(name)
			d = append(d, bson.E{Key: name, Value: v})
		}
		return d, nil
	}
	for _, e := range r.commandArgs() {
		if e.Key() == fcvParam {
			d = append(d, bson.E{Key: fcvParam, Value: fcvDoc()})
			continue
		}
		if v, ok := n.params.get(e.Key()); ok {
			d = append(d, bson.E{Key: e.Key(), Value: v})
		}
	}
	if len(d) == 0 {
		return nil, mongoerr.New(mongoerr.InvalidOptions, "no option found to get")
	}
	return d, nil
}

// cmdSetParameter sets runtime parameters; the reply's "was" is the first one's old value.
func (n *Node) cmdSetParameter(_ context.Context, r *request) (bson.D, error) {
	args := r.commandArgs()
	if len(args) == 0 {
		return nil, mongoerr.New(mongoerr.InvalidOptions, "no option found to set, use help:true to see options ")
	}
	var was any
	for i, e := range args {
		if e.Key() == fcvParam {
			return nil, mongoerr.New(mongoerr.IllegalOperation,
				"not allowed to change [%s] at runtime; use setFeatureCompatibilityVersion", fcvParam)
		}
		old, err := n.params.set(e.Key(), e.Value())
		if err != nil {
			return nil, err
		}
		if i == 0 {
			was = old
		}
		n.events.info("COMMAND", 23435, "Successfully set parameter to new value",
			"parameter", e.Key(), "oldValue", old, "newValue", e.Value().String())
	}
	return bson.D{{Key: "was", Value: was}}, nil
}

// cmdGetLog returns the in-RAM log ring (spec §6.11).
func (n *Node) cmdGetLog(_ context.Context, r *request) (bson.D, error) {
	v := r.firstValue()
	name, ok := v.StringValueOK()
	if !ok {
		return nil, mongoerr.New(mongoerr.TypeMismatch, "Argument to getLog must be of type String; found %s of type %s",
			v.String(), typeName(v.Type))
	}
	lines, total := n.events.lines()
	switch name {
	case "*":
		return bson.D{{Key: "names", Value: bson.A{"global", "startupWarnings"}}}, nil
	case "global":
	case "startupWarnings":
		var warn []string
		for _, l := range lines {
			if strings.Contains(l, `"s":"W"`) && strings.Contains(l, `"c":"CONTROL"`) {
				warn = append(warn, l)
			}
		}
		lines, total = warn, int64(len(warn))
	default:
		return nil, mongoerr.New(mongoerr.OperationFailed, "No log named '%s'", name)
	}
	if lines == nil {
		lines = []string{}
	}
	return bson.D{{Key: "totalLinesWritten", Value: appendNumber(total)}, {Key: "log", Value: lines}}, nil
}

// appendNumber mirrors BSONObjBuilder::appendNumber(long long): small values go out as int32.
func appendNumber(v int64) any {
	if v > -(1<<30) && v < 1<<30 {
		return int32(v)
	}
	return v
}

// cmdConfigureFailPoint is {configureFailPoint: name, mode, data} (spec §6.12); it exists only
// with enableTestCommands (testOnly), like mongod's.
func (n *Node) cmdConfigureFailPoint(_ context.Context, r *request) (bson.D, error) {
	name, ok := r.firstValue().StringValueOK()
	if !ok {
		return nil, mongoerr.New(mongoerr.TypeMismatch, "Failpoint name must be a string")
	}
	mode, ok := r.arg("mode")
	if !ok {
		return nil, mongoerr.New(mongoerr.BadValue, "When configuring a failpoint, you must specify a mode")
	}
	data, _, err := r.docArg("data")
	if err != nil {
		return nil, err
	}
	prev, err := n.fail.configure(name, mode, data)
	if err != nil {
		return nil, err
	}
	n.events.warn("CONTROL", 23829, "Set failpoint", "failPointName", name, "mode", mode.String())
	return bson.D{{Key: "count", Value: appendNumber(prev)}}, nil
}

// cmdFsync flushes to disk; with lock: true it also blocks writes until fsyncUnlock, which is
// how tests and drills make a node look like its disk stalled.
func (n *Node) cmdFsync(ctx context.Context, r *request) (bson.D, error) {
	lock, err := r.boolArg("lock")
	if err != nil {
		return nil, err
	}
	if err := n.store.Sync(); err != nil {
		return nil, mongoerr.New(mongoerr.CommandFailed, "fsync failed: %v", err)
	}
	if !lock {
		return bson.D{{Key: "numFiles", Value: int32(1)}}, nil
	}
	// FSyncLockThread takes the global lock in S (and the RSTL in IX) before the command answers
	// (commands/fsync.cpp); a lock already held is shared by the nested fsyncLocks.
	if err := n.locks.hold(ctx, holdFsyncLock, true); err != nil {
		return nil, err
	}
	count := n.fsync.lock()
	n.events.info("COMMAND", 20471, "mongod is locked and no writes are allowed",
		"lockCount", count, "seeAlso", "http://dochub.mongodb.org/core/fsynccommand")
	return bson.D{
		{Key: "info", Value: "now locked against writes, use db.fsyncUnlock() to unlock"},
		{Key: "lockCount", Value: int64(count)},
		{Key: "seeAlso", Value: "http://dochub.mongodb.org/core/fsynccommand"},
	}, nil
}

func (n *Node) cmdFsyncUnlock(context.Context, *request) (bson.D, error) {
	left := n.fsync.unlock()
	if left < 0 {
		return nil, mongoerr.New(mongoerr.CommandFailed, "fsyncUnlock called when not locked")
	}
	n.events.info("COMMAND", 20465, "fsyncUnlock complete", "lockCount", left)
	return bson.D{{Key: "info", Value: "fsyncUnlock completed"}, {Key: "lockCount", Value: int64(left)}}, nil
}
