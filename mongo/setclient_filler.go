package mongo

import (
	"context"
	"fmt"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// InsertFiller inserts docs documents of about size bytes each into the client's collection, in
// one insertMany with the client's w:"majority": the drills fill the oplog with it to push a
// stopped member past its window (spec §7.5). Waiting for the majority keeps the live
// secondaries within the window while it turns over.
func (c *SetClient) InsertFiller(ctx context.Context, docs, size int) error {
	pad := strings.Repeat("x", max(size-64, 1))
	batch := make([]any, docs)
	for i := range batch {
		batch[i] = bson.D{{Key: "_id", Value: bson.NewObjectID()}, {Key: "pad", Value: pad}}
	}
	if _, err := c.coll.InsertMany(ctx, batch); err != nil {
		return fmt.Errorf("insert %d filler documents: %w", docs, fromDriver(err))
	}
	return nil
}
