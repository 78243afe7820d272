package mongoemu

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
)

// oplogCursor is a placeholder until the replication code serves local.oplog.rs
// (repl_oplogfind.go); delete this file when that lands.
func (n *Node) oplogCursor(ctx context.Context, r *request, filter, sort bson.Raw, limit int64, tailable, awaitData bool) (cursor, error) {
	return nil, mongoerr.New(mongoerr.IllegalOperation, "reading local.oplog.rs is not implemented yet")
}
