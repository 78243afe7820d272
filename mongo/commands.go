package mongo

import (
	"context"
	"errors"
	"math"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/rsguard/rsguard/topology"
)

// Hello runs hello, falling back to isMaster on servers without it (before 4.4.2).
func (n *DriverNode) Hello(ctx context.Context) (Hello, error) {
	raw, err := n.admin(ctx, "hello", bson.D{{Key: "hello", Value: 1}})
	if HasCode(err, CodeCommandNotFound) {
		raw, err = n.admin(ctx, "isMaster", bson.D{{Key: "isMaster", Value: 1}})
	}
	if err != nil {
		return Hello{}, err
	}
	return DecodeHello(raw), nil
}

// Status runs replSetGetStatus. REMOVED (93 with a state field) and never initiated (94) are
// states of the member, so they come back as a Status with that MyState and no error (spec §3.2).
func (n *DriverNode) Status(ctx context.Context) (Status, error) {
	raw, err := n.admin(ctx, "replSetGetStatus", bson.D{{Key: "replSetGetStatus", Value: 1}})
	if err != nil {
		if st, ok := stateFromStatusError(err); ok {
			return st, nil
		}
		return Status{}, err
	}
	return DecodeStatus(raw), nil
}

func stateFromStatusError(err error) (Status, bool) {
	var ce *CommandError
	if !errors.As(err, &ce) {
		return Status{}, false
	}
	switch ce.Code {
	case CodeNotYetInitialized:
		return Status{MyState: topology.StateStartup, Term: -1, SyncSourceID: -1,
			LastCommitted: topology.NullOpTime, Applied: topology.NullOpTime, Durable: topology.NullOpTime}, true
	case CodeInvalidReplicaSetConfig:
		d := rdoc(ce.reply)
		if !d.has("state") {
			return Status{}, false
		}
		return Status{
			MyState:       topology.MemberState(d.int("state", int(topology.StateRemoved))),
			Term:          -1,
			SyncSource:    d.str("syncSourceHost"),
			SyncSourceID:  d.int("syncSourceId", -1),
			Applied:       d.opTime("optime"),
			LastCommitted: topology.NullOpTime,
			Durable:       topology.NullOpTime,
		}, true
	}
	return Status{}, false
}

// Config runs replSetGetConfig.
func (n *DriverNode) Config(ctx context.Context) (ReplConfig, error) {
	raw, err := n.admin(ctx, "replSetGetConfig", bson.D{{Key: "replSetGetConfig", Value: 1}})
	if err != nil {
		return ReplConfig{}, err
	}
	if _, ok := rdoc(raw).doc("config"); !ok {
		return ReplConfig{}, opError("replSetGetConfig", n.addr, errors.New("reply has no config document"))
	}
	return DecodeConfig(raw), nil
}

// StepDown runs replSetStepDown (spec §6.1).
func (n *DriverNode) StepDown(ctx context.Context, secs int, catchUp time.Duration, force bool) error {
	cmd := bson.D{{Key: "replSetStepDown", Value: int32(secs)}}
	if catchUp > 0 {
		cmd = append(cmd, bson.E{Key: "secondaryCatchUpPeriodSecs", Value: int32(math.Ceil(catchUp.Seconds()))})
	}
	cmd = append(cmd, bson.E{Key: "force", Value: force})
	_, err := n.admin(ctx, "replSetStepDown", cmd)
	if closedAfterSend(err) {
		// Servers before 4.2 closed every connection on stepdown, the command's own included
		// (spec §5.5): the reply never comes, the stepdown happened.
		n.log.Info("connection closed by replSetStepDown; counted as success", "err", err)
		return nil
	}
	return err
}

// StepUp runs replSetStepUp (spec §6.3); CommandFailed (125) means the election was lost.
func (n *DriverNode) StepUp(ctx context.Context, skipDryRun bool) error {
	_, err := n.admin(ctx, "replSetStepUp", bson.D{
		{Key: "replSetStepUp", Value: 1},
		{Key: "skipDryRun", Value: skipDryRun},
	})
	return err
}

// AbortCatchUp runs replSetAbortPrimaryCatchUp (spec §6.8): a primary-elect in catch-up stops
// waiting for the newest optime it heard of and goes on to drain and accept writes.
// IllegalOperation (20) "The node is not in catch-up mode." (replication_coordinator_impl.cpp
// abortCatchupIfNeeded) means catch-up already ended, which is what was asked: it counts as
// success, as a stepdown's closed connection does.
func (n *DriverNode) AbortCatchUp(ctx context.Context) error {
	_, err := n.admin(ctx, "replSetAbortPrimaryCatchUp", bson.D{{Key: "replSetAbortPrimaryCatchUp", Value: 1}})
	if ErrorCode(err) == CodeIllegalOperation {
		n.log.Info("replSetAbortPrimaryCatchUp: catch-up had already ended; counted as success", "err", err)
		return nil
	}
	return err
}

// Freeze runs replSetFreeze (spec §6.2).
func (n *DriverNode) Freeze(ctx context.Context, secs int) error {
	_, err := n.admin(ctx, "replSetFreeze", bson.D{{Key: "replSetFreeze", Value: int32(secs)}})
	return err
}

// Reconfig runs replSetReconfig with cfg.Bumped(). With a context deadline it also sends maxTimeMS
// so that a safe reconfig waiting for the current config to commit (spec §4.5) gives up on the
// server when the caller gives up, instead of installing the config later.
func (n *DriverNode) Reconfig(ctx context.Context, cfg ReplConfig, force bool) error {
	next, err := cfg.Bumped()
	if err != nil {
		return opError("replSetReconfig", n.addr, err)
	}
	cmd := bson.D{{Key: "replSetReconfig", Value: next.Raw}, {Key: "force", Value: force}}
	if ms, ok := maxTimeMS(ctx); ok {
		cmd = append(cmd, bson.E{Key: "maxTimeMS", Value: ms})
	}
	_, err = n.admin(ctx, "replSetReconfig", cmd)
	return err
}

// Shutdown runs shutdown (spec §6.9). A successful shutdown never replies: the connection closes.
func (n *DriverNode) Shutdown(ctx context.Context, force bool, timeout time.Duration) error {
	cmd := bson.D{{Key: "shutdown", Value: 1}, {Key: "force", Value: force}}
	if timeout > 0 {
		cmd = append(cmd, bson.E{Key: "timeoutSecs", Value: int32(math.Ceil(timeout.Seconds()))})
	}
	_, err := n.admin(ctx, "shutdown", cmd)
	if closedAfterSend(err) {
		return nil
	}
	return err
}

// closedAfterSend reports whether err is the server closing an established connection (EOF,
// reset) rather than a refused dial, a timeout, a failed handshake or a server reply.
func closedAfterSend(err error) bool {
	if err == nil || Classify(err) != topology.FailureOther {
		return false
	}
	var ce *CommandError
	if errors.As(err, &ce) || !mongodrv.IsNetworkError(err) {
		return false
	}
	// A new connection failing its handshake never carried the command.
	return !strings.Contains(err.Error(), "connection handshake")
}

// maxTimeMS is 90% of the time left before ctx's deadline, leaving room for the reply to travel.
func maxTimeMS(ctx context.Context) (int64, bool) {
	dl, ok := ctx.Deadline()
	if !ok {
		return 0, false
	}
	ms := time.Until(dl).Milliseconds() * 9 / 10
	return max(ms, 1), true
}
