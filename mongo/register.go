package mongo

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readconcern"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"
)

// Register operations for linearizability drills (drill/check's model): integer registers kept
// as {_id: key, v: value} documents, a missing document reading as 0. Writes and CASes are
// w:"majority"; reads name their readConcern. The client never retries (no retryable writes or
// reads), so that an error is the answer to the one attempt and NotApplied can tell a write
// certainly not applied from one whose outcome is unknown.

// ReadLevel is the readConcern of a register read.
type ReadLevel string

const (
	ReadMajority     ReadLevel = "majority"
	ReadLinearizable ReadLevel = "linearizable"
	// ReadLocal is for drills that must fail: it can see writes a failover rolls back.
	ReadLocal ReadLevel = "local"
)

// RegisterOptions configure a RegisterClient.
type RegisterOptions struct {
	// Set is the replica set name; Hosts are seed members ("host:port").
	Set   string
	Hosts []string
	// URI, when set, is the connection string (credentials and TLS options included) used
	// instead of one built from Set and Hosts.
	URI string
	// Database and Collection hold the registers; default "rsguard_drill.registers".
	Database   string
	Collection string
	// ServerSelectionTimeout bounds waiting for a primary; default 1s.
	ServerSelectionTimeout time.Duration
	// ReadPreference: "primary" (default) or "secondaryPreferred" (for drills that must fail).
	ReadPreference string
	// W1 makes writes and CASes w:1 instead of w:"majority" (for drills that must fail).
	W1 bool
	// AppName is reported to the server; default "rsguard-register".
	AppName string
}

// RegisterClient runs register operations against a replica set.
//
// Majority reads alone are not linearizable across a failover: a new primary serves them from
// its commit point, which lags the old primary's until the new primary commits an entry of its
// own term, so a read right after the election can miss a write acknowledged before it. The
// client therefore reads "majority" with afterClusterTime at least the operationTime of every
// operation it has completed (what a causally consistent session does, across all its callers),
// and the read waits for a snapshot holding them (ReplicationCoordinatorImpl::
// _waitUntilClusterTimeForRead). Linearizable reads need no such token.
type RegisterClient struct {
	client *mongodrv.Client
	coll   *mongodrv.Collection
	rp     *readpref.ReadPref // RunCommand ignores the client's; reads pass it

	mu sync.Mutex
	hw bson.Timestamp // the latest operationTime of a completed operation
}

// run runs fn in an explicit session and, when it succeeds, remembers the operationTime.
func (c *RegisterClient) run(ctx context.Context, fn func(ctx context.Context) error) error {
	sess, err := c.client.StartSession(options.Session().SetCausalConsistency(false))
	if err != nil {
		return err
	}
	defer sess.EndSession(context.WithoutCancel(ctx))
	if err := fn(mongodrv.NewSessionContext(ctx, sess)); err != nil {
		return err
	}
	if ot := sess.OperationTime(); ot != nil {
		c.mu.Lock()
		if ot.After(c.hw) {
			c.hw = *ot
		}
		c.mu.Unlock()
	}
	return nil
}

func (c *RegisterClient) highWater() bson.Timestamp {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hw
}

// DialRegisters prepares a register client. Like Dial it does not wait for the set.
func DialRegisters(opts RegisterOptions) (*RegisterClient, error) {
	uri := setURI(opts.URI, opts.Set, opts.Hosts)
	if uri == "" {
		return nil, errors.New("mongo: dial registers: a URI, or a set name and at least one host, are required")
	}
	rp := readpref.Primary()
	switch opts.ReadPreference {
	case "", "primary":
	case "secondaryPreferred":
		rp = readpref.SecondaryPreferred()
	default:
		return nil, fmt.Errorf("mongo: dial registers: read preference %q: want primary or secondaryPreferred", opts.ReadPreference)
	}
	wc := writeconcern.Majority()
	if opts.W1 {
		wc = writeconcern.W1()
	}
	return connectRegisters(uri, opts, rp, wc)
}

func connectRegisters(uri string, opts RegisterOptions, rp *readpref.ReadPref, wc *writeconcern.WriteConcern) (*RegisterClient, error) {
	co := setClientOptions(uri, cmp.Or(opts.AppName, "rsguard-register"), opts.ServerSelectionTimeout).
		SetRetryWrites(false).
		SetRetryReads(false).
		SetReadPreference(rp).
		SetWriteConcern(wc)
	client, err := mongodrv.Connect(co)
	if err != nil {
		return nil, fmt.Errorf("mongo: dial registers %s: %w", cmp.Or(opts.Set, redactURI(uri)), err)
	}
	db, coll := cmp.Or(opts.Database, "rsguard_drill"), cmp.Or(opts.Collection, "registers")
	return &RegisterClient{client: client, coll: client.Database(db).Collection(coll), rp: rp}, nil
}

// Read returns key's value (0 when the document is missing) with readConcern level. The
// command's maxTimeMS is what is left of ctx's deadline, so that a linearizable read a deposed
// primary cannot confirm ends on the server too.
func (c *RegisterClient) Read(ctx context.Context, key string, level ReadLevel) (int64, error) {
	switch level {
	case ReadMajority, ReadLinearizable, ReadLocal:
	default:
		return 0, fmt.Errorf("register read %s: readConcern level %q: want majority, linearizable or local", key, level)
	}
	rc := bson.D{{Key: "level", Value: string(level)}}
	if hw := c.highWater(); level == ReadMajority && !hw.IsZero() {
		rc = append(rc, bson.E{Key: "afterClusterTime", Value: hw})
	}
	cmd := bson.D{{Key: "find", Value: c.coll.Name()}, {Key: "filter", Value: bson.D{{Key: "_id", Value: key}}},
		{Key: "limit", Value: int64(1)}, {Key: "singleBatch", Value: true}, {Key: "readConcern", Value: rc}}
	if dl, ok := ctx.Deadline(); ok {
		cmd = append(cmd, bson.E{Key: "maxTimeMS", Value: max(int64(time.Until(dl)/time.Millisecond), 1)})
	}
	var out struct {
		Cursor struct {
			FirstBatch []bson.Raw `bson:"firstBatch"`
		} `bson:"cursor"`
	}
	if err := c.run(ctx, func(ctx context.Context) error {
		return c.coll.Database().RunCommand(ctx, cmd, options.RunCmd().SetReadPreference(c.rp)).Decode(&out)
	}); err != nil {
		return 0, fmt.Errorf("register read %s (%s): %w", key, level, fromDriver(err))
	}
	if len(out.Cursor.FirstBatch) == 0 {
		return 0, nil
	}
	v, ok := out.Cursor.FirstBatch[0].Lookup("v").AsInt64OK()
	if !ok {
		return 0, fmt.Errorf("register read %s: document %s has no integer v", key, out.Cursor.FirstBatch[0])
	}
	return v, nil
}

// Write sets key to value (an upsert).
func (c *RegisterClient) Write(ctx context.Context, key string, value int64) error {
	err := c.run(ctx, func(ctx context.Context) error {
		_, err := c.coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: key}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "v", Value: value}}}}, options.UpdateOne().SetUpsert(true))
		return err
	})
	if err != nil {
		return fmt.Errorf("register write %s=%d: %w", key, value, fromDriver(err))
	}
	return nil
}

// CAS sets key to new if it holds old, and says whether it did: findOneAndUpdate filtered on the
// old value. With old 0 a missing document counts as 0: the update upserts, and a duplicate key
// (the document exists with another value) means not swapped.
func (c *RegisterClient) CAS(ctx context.Context, key string, old, new int64) (bool, error) {
	o := options.FindOneAndUpdate().SetProjection(bson.D{{Key: "_id", Value: 1}})
	if old == 0 {
		o.SetUpsert(true)
	}
	err := c.run(ctx, func(ctx context.Context) error {
		return c.coll.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: key}, {Key: "v", Value: old}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "v", Value: new}}}}, o).Err()
	})
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, mongodrv.ErrNoDocuments) && old == 0:
		return true, nil // upserted: the key was missing, i.e. 0
	case errors.Is(err, mongodrv.ErrNoDocuments):
		return false, nil
	case old == 0 && mongodrv.IsDuplicateKeyError(err) && !hasWriteConcernError(err):
		return false, nil
	}
	return false, fmt.Errorf("register cas %s %d->%d: %w", key, old, new, fromDriver(err))
}

func hasWriteConcernError(err error) bool {
	var ce mongodrv.CommandError
	if errors.As(err, &ce) && ce.Raw != nil {
		if _, e := ce.Raw.LookupErr("writeConcernError"); e == nil {
			return true
		}
	}
	var we mongodrv.WriteException
	return errors.As(err, &we) && we.WriteConcernError != nil
}

// Close disconnects the client.
func (c *RegisterClient) Close(ctx context.Context) error {
	if err := c.client.Disconnect(ctx); err != nil {
		return fmt.Errorf("mongo: close register client: %w", err)
	}
	return nil
}

// NotApplied reports whether an error from a RegisterClient (which never retries) certainly
// means the operation had no effect: the server refused it before executing it because it is
// not a writable primary (checked before the command runs, spec §5.7), or the driver never sent
// it (no server selected, connection refused). Anything else — a timeout, a network error after
// sending, a write concern error, an interruption by a stepdown, an unknown reply — may have
// been applied: the outcome is unknown. A nil error is not "not applied".
func NotApplied(err error) bool {
	if err == nil {
		return false
	}
	var ce *CommandError
	if errors.As(err, &ce) {
		if ce.WriteConcern {
			return false
		}
		switch ce.Code {
		case CodeNotWritablePrimary, CodeNotPrimaryNoSecondaryOk, CodeNotPrimaryOrSecondary, CodeLegacyNotPrimary:
			return true
		}
		return false
	}
	var sel topology.ServerSelectionError
	if errors.As(err, &sel) {
		return true
	}
	return isRefused(err) && !timedOut(err)
}

// Insert inserts {_id: id} into the inserts collection (<Collection>_inserts) with the client's
// write concern, for acknowledged-write accounting beside the registers.
func (c *RegisterClient) Insert(ctx context.Context, id string) error {
	err := c.run(ctx, func(ctx context.Context) error {
		_, err := c.inserts().InsertOne(ctx, bson.D{{Key: "_id", Value: id}})
		return err
	})
	if err != nil {
		return fmt.Errorf("insert %s: %w", id, fromDriver(err))
	}
	return nil
}

// InsertedIDs reads every _id of the inserts collection from the primary with readConcern
// "majority": what the set guarantees to keep.
func (c *RegisterClient) InsertedIDs(ctx context.Context) (map[string]bool, error) {
	coll := c.coll.Database().Collection(c.coll.Name()+"_inserts",
		options.Collection().SetReadConcern(readconcern.Majority()).SetReadPreference(readpref.Primary()))
	cur, err := coll.Find(ctx, bson.D{}, options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("read back inserts: %w", fromDriver(err))
	}
	defer func() { _ = cur.Close(context.WithoutCancel(ctx)) }()
	out := map[string]bool{}
	for cur.Next(ctx) {
		if id, ok := cur.Current.Lookup("_id").StringValueOK(); ok {
			out[id] = true
		}
	}
	if err := cur.Err(); err != nil {
		return nil, fmt.Errorf("read back inserts: %w", fromDriver(err))
	}
	return out, nil
}

func (c *RegisterClient) inserts() *mongodrv.Collection {
	return c.coll.Database().Collection(c.coll.Name() + "_inserts")
}
