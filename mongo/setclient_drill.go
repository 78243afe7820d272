package mongo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readconcern"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"
)

// The drills' other clients on the same SetClient: w:1 writers (acknowledged by the primary
// alone, so a failover may roll them back) and readers.

// InsertW1 inserts {_id: id, at: now} with w:1. A nil error means the primary applied it: it
// survives only if a majority had it when the primary went away. A duplicate key means an
// earlier attempt committed, which is success too.
func (c *SetClient) InsertW1(ctx context.Context, id int64) error {
	coll := c.coll.Database().Collection(c.coll.Name(), options.Collection().SetWriteConcern(writeconcern.W1()))
	_, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "at", Value: bson.NewDateTimeFromTime(time.Now())}})
	if err != nil && mongodrv.IsDuplicateKeyError(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("insert w:1 _id %d: %w", id, fromDriver(err))
	}
	return nil
}

// ReadID reads the document _id: id from the primary with a majority read concern; found is
// false when it is not there (yet, or any more).
func (c *SetClient) ReadID(ctx context.Context, id int64) (found bool, err error) {
	err = c.coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Err()
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read _id %d: %w", id, fromDriver(err))
	}
	return true, nil
}

// registers is the collection of the register workload, beside the inserts' one.
func (c *SetClient) registers(opts ...options.Lister[options.CollectionOptions]) *mongodrv.Collection {
	return c.coll.Database().Collection(c.coll.Name()+"_register", opts...)
}

// WriteRegister sets register key to v: an upsert of {_id: key, v: v} with w:"majority". Give
// every write a unique v, so that a stale read cannot pass by coincidence.
func (c *SetClient) WriteRegister(ctx context.Context, key string, v int64) error {
	_, err := c.registers().UpdateOne(ctx, bson.D{{Key: "_id", Value: key}}, bson.D{{Key: "$set", Value: bson.D{{Key: "v", Value: v}}}},
		options.UpdateOne().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("write register %s: %w", key, fromDriver(err))
	}
	return nil
}

// ReadRegister reads register key from the primary with readConcern "linearizable" (a missing
// register reads 0): the read a deposed primary cannot serve.
func (c *SetClient) ReadRegister(ctx context.Context, key string) (int64, error) {
	var doc struct {
		V int64 `bson:"v"`
	}
	err := c.registers(options.Collection().SetReadConcern(readconcern.Linearizable())).
		FindOne(ctx, bson.D{{Key: "_id", Value: key}}).Decode(&doc)
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read register %s: %w", key, fromDriver(err))
	}
	return doc.V, nil
}
