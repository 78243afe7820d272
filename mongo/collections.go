package mongo

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// CollectionResolver is implemented by Nodes that can list the collections of every database:
// rollback files are named by collection UUID since 4.4 (spec §7.7 step 5), and a DBA reads
// namespaces.
type CollectionResolver interface {
	// CollectionsByUUID maps the UUID of every collection (as 8-4-4-4-12 hex, the rollback
	// directory name) to its namespace "db.collection".
	CollectionsByUUID(ctx context.Context) (map[string]string, error)
}

var _ CollectionResolver = (*DriverNode)(nil)

// CollectionsByUUID implements CollectionResolver with listDatabases and listCollections
// (info.uuid).
func (n *DriverNode) CollectionsByUUID(ctx context.Context) (map[string]string, error) {
	dbs, err := n.client.ListDatabaseNames(ctx, bson.D{})
	if err != nil {
		return nil, opError("listDatabases", n.addr, fromDriver(err))
	}
	out := map[string]string{}
	for _, db := range dbs {
		cur, err := n.client.Database(db).ListCollections(ctx, bson.D{})
		if err != nil {
			return nil, opError("listCollections", n.addr, fromDriver(err))
		}
		var specs []struct {
			Name string `bson:"name"`
			Info struct {
				UUID bson.Binary `bson:"uuid"`
			} `bson:"info"`
		}
		if err := cur.All(ctx, &specs); err != nil {
			return nil, opError("listCollections", n.addr, fromDriver(err))
		}
		for _, s := range specs {
			if len(s.Info.UUID.Data) == 16 {
				out[UUIDString(s.Info.UUID.Data)] = db + "." + s.Name
			}
		}
	}
	return out, nil
}

// UUIDString formats 16 bytes as mongod names rollback directories: 8-4-4-4-12 hex.
func UUIDString(u []byte) string {
	if len(u) != 16 {
		return fmt.Sprintf("%x", u)
	}
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}
