package mongoemu

import (
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/storage"
)

// applyIndexCommand applies replicated index DDL (createIndexes, dropIndexes) and ignores other
// commands mongoemu never logs.
func applyIndexCommand(tx *storage.Tx, db string, o bson.Raw) error {
	return nil
}
