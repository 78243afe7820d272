package mongo

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Command runs cmd against the admin database of this mongod and returns the raw reply. It is
// for tools that drive a set from outside (lab, drills): fail points, replSetInitiate with a
// full config, createUser. Server errors come back as *CommandError naming the command and host.
func (n *DriverNode) Command(ctx context.Context, cmd bson.D) (bson.Raw, error) {
	op := "command"
	if len(cmd) > 0 {
		op = cmd[0].Key
	}
	return n.admin(ctx, op, cmd)
}
