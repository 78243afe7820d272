package mongoemu

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
)

// handler runs one command; it returns the reply fields without ok/$clusterTime (reply.go adds
// them) or an error, ideally a *mongoerr.Error.
type handler func(ctx context.Context, r *request) (bson.D, error)

// cmdKind says in which member states a command may run (spec §5.7 "Server-side origin").
type cmdKind int

const (
	kindAny   cmdKind = iota // every state: hello, ping, replSet*, serverStatus... (maintenanceOk)
	kindRead                 // primary, or a readable member with secondaryOk
	kindWrite                // writable primary only
)

type command struct {
	fn        handler
	kind      cmdKind
	adminOnly bool
	testOnly  bool // needs --setParameter enableTestCommands=1
	// stream, when set, produces the follow-up replies of an exhaust request.
	stream func(ctx context.Context, r *request, last bson.D) (bson.D, bool, error)
}

type commandTable map[string]*command

// action tells the connection loop what to do after a reply.
type action struct {
	closeConnection bool
	moreToCome      bool
	next            func(ctx context.Context) (bson.Raw, action)
}

// dispatch runs one OP_MSG command and returns the encoded reply.
func (n *Node) dispatch(ctx context.Context, r *request) (bson.Raw, action) {
	elem, err := r.cmd.IndexErr(0)
	if err != nil {
		return n.errorReply(r, mongoerr.New(mongoerr.FailedToParse, "Empty command object")), action{}
	}
	r.name = elem.Key()
	if !r.legacy {
		dbv, ok := r.arg("$db")
		db, isStr := dbv.StringValueOK()
		if !ok || !isStr {
			return n.errorReply(r, mongoerr.New(40571, "OP_MSG requests require a $db argument")), action{}
		}
		r.db = db
	}
	cmd := n.cmds[r.name]
	if cmd == nil || (cmd.testOnly && !n.params.testCommandsEnabled()) {
		return n.errorReply(r, mongoerr.New(mongoerr.CommandNotFound, "no such command: '%s'", r.name)), action{}
	}
	n.counters.countCommand(r.name)
	if err := n.authorize(r); err != nil { // auth_authorize.go
		return n.errorReply(r, err), action{}
	}
	if fc := n.fail.matchFailCommand(r); fc != nil {
		if fc.blockFor > 0 {
			select {
			case <-time.After(fc.blockFor):
			case <-ctx.Done():
				return nil, action{closeConnection: true}
			}
		}
		if fc.closeConnection {
			return nil, action{closeConnection: true}
		}
		if fc.err != nil {
			return n.errorReply(r, fc.err), action{}
		}
		r.wcErrorOverride = fc.writeConcernError
	}
	if cmd.adminOnly && r.db != "admin" {
		return n.errorReply(r, mongoerr.New(mongoerr.Unauthorized, "%s may only be run against the admin database.", r.name)), action{}
	}
	if err := n.checkState(r, cmd.kind); err != nil {
		return n.errorReply(r, err), action{}
	}
	ctx, cancel, err := withMaxTime(ctx, r)
	if err != nil {
		return n.errorReply(r, err), action{}
	}
	defer cancel()
	// Register the operation for the kill-op step of state transitions (ops.go); a command with
	// txnNumber checks its session out first.
	ctx, op, endOp := n.ops.begin(ctx, r.c.id, r.name)
	defer endOp()
	if _, ok := r.arg("txnNumber"); ok {
		if err := n.ops.checkOutSession(ctx, op); err != nil {
			return n.errorReply(r, err), action{}
		}
	}
	err = n.beginReadConcern(ctx, r)
	defer r.snap.Release()
	var fields bson.D
	if err == nil {
		fields, err = cmd.fn(ctx, r)
	}
	if err == nil {
		err = n.endReadConcern(ctx, r)
	}
	if err != nil {
		if cause := context.Cause(ctx); errors.Is(err, context.Canceled) && cause != nil && !errors.Is(cause, context.Canceled) {
			err = cause // killed by a state transition: InterruptedDueToReplStateChange
		}
		if errors.Is(err, context.DeadlineExceeded) {
			err = mongoerr.New(mongoerr.MaxTimeMSExpired, "operation exceeded time limit")
		}
		var me *mongoerr.Error
		if errors.As(err, &me) && me.CloseConnection {
			return nil, action{closeConnection: true}
		}
		return n.errorReply(r, err), action{}
	}
	fields = r.applyWCErrorOverride(fields)
	reply := n.okReplyAt(fields, r.opTS)
	if cmd.stream != nil && r.exhaust {
		return reply, n.streamAction(r, cmd, fields)
	}
	return reply, action{}
}

// streamAction keeps an exhaust stream going: each step waits (inside cmd.stream) and replies.
func (n *Node) streamAction(r *request, cmd *command, last bson.D) action {
	return action{moreToCome: true, next: func(ctx context.Context) (bson.Raw, action) {
		fields, more, err := cmd.stream(ctx, r, last)
		if err != nil {
			if ctx.Err() != nil {
				return nil, action{closeConnection: true}
			}
			return n.errorReply(r, err), action{}
		}
		reply := n.okReply(fields)
		if !more {
			return reply, action{}
		}
		return reply, n.streamAction(r, cmd, fields)
	}}
}

func withMaxTime(ctx context.Context, r *request) (context.Context, context.CancelFunc, error) {
	ms, ok, err := r.intArg("maxTimeMS")
	if err != nil {
		return ctx, func() {}, err
	}
	if !ok || ms == 0 || r.name == "getMore" {
		return ctx, func() {}, nil
	}
	if ms < 0 {
		return ctx, func() {}, mongoerr.New(mongoerr.BadValue, "%d value for maxTimeMS is out of range [0, 2147483647]", ms)
	}
	c, cancel := context.WithTimeout(ctx, time.Duration(ms)*time.Millisecond)
	return c, cancel, nil
}

// checkState refuses commands the member's state does not allow (spec §5.7). A standalone
// accepts everything.
func (n *Node) checkState(r *request, kind cmdKind) error {
	if n.repl == nil || kind == kindAny {
		return nil
	}
	return n.repl.checkState(r, kind)
}
