package mongoemu

import (
	"errors"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"
)

// TestFailCommandAsMongod checks failCommand against commands.cpp
// (shouldActivateFailCommandFailPoint, evaluateFailCommandFailPoint) and the write-concern half
// in service_entry_point_common.cpp.
func TestFailCommandAsMongod(t *testing.T) {
	ts := startTestSet(t, 1, 0, fastSettings)
	p := ts.waitPrimary(20 * time.Second)
	c := ts.clients[p]
	ctx := testCtx(t)
	noRetry := ts.nodes[p].client(t, options.Client().SetRetryWrites(false))
	coll := noRetry.Database("test").Collection("fc", options.Collection().SetWriteConcern(writeconcern.W1()))

	t.Run("data is not validated when configured", func(t *testing.T) {
		// mongod stores whatever data it is given; without failCommands nothing fires.
		setFailPoint(t, c, "failCommand", "alwaysOn", bson.D{{Key: "errorCode", Value: 2}})
		defer setFailPoint(t, c, "failCommand", "off", nil)
		if err := ping(ctx, c); err != nil {
			t.Fatalf("ping with a failCommand that names no command: %v", err)
		}
	})
	t.Run("blockConnection without blockTimeMS fails the command with InvalidOptions", func(t *testing.T) {
		setFailPoint(t, c, "failCommand", bson.D{{Key: "times", Value: 1}},
			bson.D{{Key: "failCommands", Value: bson.A{"ping"}}, {Key: "blockConnection", Value: true}})
		wantCode(t, ping(ctx, c), 72, "must specify 'blockTimeMS' when 'blockConnection' is true")
	})
	t.Run("writeConcernError only: writes get it without waiting, other commands are untouched", func(t *testing.T) {
		wce := bson.D{{Key: "code", Value: 91}, {Key: "codeName", Value: "ShutdownInProgress"}, {Key: "errmsg", Value: "Replication is being shut down"}}
		setFailPoint(t, c, "failCommand", bson.D{{Key: "times", Value: 1}},
			bson.D{{Key: "failCommands", Value: bson.A{"find", "insert"}}, {Key: "writeConcernError", Value: wce},
				{Key: "errorLabels", Value: bson.A{"RetryableWriteError"}}})
		if err := coll.FindOne(ctx, bson.D{}).Err(); err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
			t.Fatalf("find with a writeConcernError-only failCommand: %v", err)
		}
		_, err := coll.InsertOne(ctx, bson.D{{Key: "x", Value: 1}})
		var we mongo.WriteException
		if !errors.As(err, &we) || we.WriteConcernError == nil || we.WriteConcernError.Code != 91 || !we.HasErrorLabel("RetryableWriteError") {
			t.Fatalf("insert: want the configured writeConcernError 91 with its label, got %v", err)
		}
		off := setFailPoint(t, c, "failCommand", "off", nil)
		if i32(off, "count") != 1 {
			t.Fatalf("the find consumed an activation: count = %v, want 1", off.Lookup("count"))
		}
	})
	t.Run("threadName filters on the connection's name", func(t *testing.T) {
		setFailPoint(t, c, "failCommand", "alwaysOn",
			bson.D{{Key: "failCommands", Value: bson.A{"ping"}}, {Key: "errorCode", Value: 2}, {Key: "threadName", Value: "conn999999"}})
		defer setFailPoint(t, c, "failCommand", "off", nil)
		if err := ping(ctx, c); err != nil {
			t.Fatalf("ping from another connection: %v", err)
		}
	})
}
