package mongo

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Fault-injection commands for drills against a set rsguard does not run (the remote target):
// what MongoDB's own commands allow without a shell on the host. The sidecar never sends them.

// FsyncLock runs fsyncLock (spec §5.5 on the RSTL it holds): the member flushes and then blocks every write until
// FsyncUnlock, while hello, reads and heartbeats keep flowing: a "sick" primary.
func (n *DriverNode) FsyncLock(ctx context.Context) error {
	_, err := n.admin(ctx, "fsyncLock", bson.D{{Key: "fsync", Value: 1}, {Key: "lock", Value: true}})
	return err
}

// FsyncUnlock releases one FsyncLock.
func (n *DriverNode) FsyncUnlock(ctx context.Context) error {
	_, err := n.admin(ctx, "fsyncUnlock", bson.D{{Key: "fsyncUnlock", Value: 1}})
	return err
}

// ConfigureFailPoint turns a fail point on ("alwaysOn") or off ("off"). Mongod accepts it only
// with enableTestCommands=1 (spec §6.12); otherwise the reply is CommandNotFound or a refusal, returned as is.
func (n *DriverNode) ConfigureFailPoint(ctx context.Context, name, mode string) error {
	_, err := n.admin(ctx, "configureFailPoint", bson.D{{Key: "configureFailPoint", Value: name}, {Key: "mode", Value: mode}})
	return err
}
