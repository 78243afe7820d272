package mongo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"
)

// The drills' other clients on the same SetClient: w:1 writers (acknowledged by the primary
// alone, so a failover may roll them back) and readers. Register operations are RegisterClient's
// (register.go).

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
