package mongo

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readconcern"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"
)

// Client-side operations for tools that drive a whole set (the demo, drills): initiating a set
// and an application-like workload through a replica-set client. The sidecar itself never uses
// them; it talks to one mongod at a time through Node.

// Initiate runs replSetInitiate on the mongod at host (a direct connection) with members named in
// order, _id 0.., and MongoDB's default settings. An already initiated member
// (AlreadyInitialized, 23) is an error too: the caller asked for a fresh set.
func Initiate(ctx context.Context, host, set string, members []string) error {
	n, err := Dial(ctx, slog.New(slog.DiscardHandler), Options{URI: host, AppName: "rsguard-initiate"})
	if err != nil {
		return err
	}
	defer func() { _ = n.Close(context.WithoutCancel(ctx)) }()
	ms := make(bson.A, len(members))
	for i, m := range members {
		ms[i] = bson.D{{Key: "_id", Value: int32(i)}, {Key: "host", Value: m}}
	}
	cfg := bson.D{{Key: "_id", Value: set}, {Key: "members", Value: ms}}
	_, err = n.admin(ctx, "replSetInitiate", bson.D{{Key: "replSetInitiate", Value: cfg}})
	return err
}

// SetOptions configure a SetClient.
type SetOptions struct {
	// Set is the replica set name; Hosts are seed members ("host:port").
	Set   string
	Hosts []string
	// Database and Collection receive the workload; default "rsguard_demo.writes".
	Database   string
	Collection string
	// ServerSelectionTimeout bounds waiting for a primary; default 1s, so that a write during a
	// failover fails fast instead of hiding the outage behind one long call.
	ServerSelectionTimeout time.Duration
	// AppName is reported to the server; default "rsguard-workload".
	AppName string
	// URI, when set, is the connection string (credentials and TLS options included) used
	// instead of one built from Set and Hosts; the options above still apply.
	URI string
}

// SetClient is an application's view of a replica set: server selection across the members,
// w:"majority" writes with journaling and majority reads. Retryable writes stay on, as in any
// application on a modern driver: a retried insert whose first attempt committed is a duplicate
// key, which InsertMajority counts as acknowledged.
type SetClient struct {
	client *mongodrv.Client
	coll   *mongodrv.Collection
}

// DialSet prepares a replica-set client. Like Dial it does not wait for the set.
func DialSet(opts SetOptions) (*SetClient, error) {
	uri := setURI(opts.URI, opts.Set, opts.Hosts)
	if uri == "" {
		return nil, errors.New("mongo: dial set: a set name and at least one host are required")
	}
	co := setClientOptions(uri, cmp.Or(opts.AppName, "rsguard-workload"), opts.ServerSelectionTimeout).
		SetRetryWrites(true).
		SetReadPreference(readpref.Primary()).
		SetReadConcern(readconcern.Majority()).
		SetWriteConcern(writeconcern.Majority())
	client, err := mongodrv.Connect(co)
	if err != nil {
		return nil, fmt.Errorf("mongo: dial set %s: %w", cmp.Or(opts.Set, redactURI(opts.URI)), err)
	}
	db, coll := cmp.Or(opts.Database, "rsguard_demo"), cmp.Or(opts.Collection, "writes")
	return &SetClient{client: client, coll: client.Database(db).Collection(coll)}, nil
}

// InsertMajority inserts {_id: id, at: now} with w:"majority" within ctx. A nil error means the
// write is acknowledged by a majority: it must survive any failover. A duplicate key on _id
// means an earlier attempt of the same insert committed, so it is success too.
func (c *SetClient) InsertMajority(ctx context.Context, id int64) error {
	_, err := c.coll.InsertOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "at", Value: bson.NewDateTimeFromTime(time.Now())}})
	if err != nil && mongodrv.IsDuplicateKeyError(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("insert _id %d: %w", id, fromDriver(err))
	}
	return nil
}

// IDs reads back every _id of the workload collection from the primary with a majority read
// concern: what the set guarantees to keep. A w:"majority" barrier write goes first: the primary
// commits it only once every earlier entry of its oplog is majority-committed (spec §5.1: the
// commit point is an optime, everything before it is committed), so a w:1 insert the primary
// acknowledged just before is read back, not counted lost while it was still replicating. A w:1
// insert missing after the barrier was rolled back (or never left a deposed primary).
func (c *SetClient) IDs(ctx context.Context) (map[int64]bool, error) {
	if err := c.barrier(ctx); err != nil {
		return nil, err
	}
	cur, err := c.coll.Find(ctx, bson.D{}, options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("read back: %w", fromDriver(err))
	}
	defer func() { _ = cur.Close(context.WithoutCancel(ctx)) }()
	out := map[int64]bool{}
	for cur.Next(ctx) {
		v := cur.Current.Lookup("_id")
		id, ok := v.AsInt64OK()
		if !ok {
			continue
		}
		out[id] = true
	}
	if err := cur.Err(); err != nil {
		return out, fmt.Errorf("read back: %w", fromDriver(err))
	}
	return out, nil
}

// barrier upserts one document of <collection>_barrier with w:"majority" (the workload
// collection itself holds only the workload's ids).
func (c *SetClient) barrier(ctx context.Context) error {
	coll := c.coll.Database().Collection(c.coll.Name() + "_barrier")
	_, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: "barrier"}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}}, options.UpdateOne().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("read back: w:\"majority\" barrier: %w", fromDriver(err))
	}
	return nil
}

// Close disconnects the client.
func (c *SetClient) Close(ctx context.Context) error {
	if err := c.client.Disconnect(ctx); err != nil {
		return fmt.Errorf("mongo: close set client: %w", err)
	}
	return nil
}
