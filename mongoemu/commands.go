package mongoemu

import "go.mongodb.org/mongo-driver/v2/bson"

// buildCommands assembles the command table; each cmd_*.go file registers its own commands.
// Names are case-sensitive like mongod's, with the aliases mongod has (isMaster/ismaster).
func (n *Node) buildCommands() commandTable {
	t := commandTable{}
	n.registerHello(t)
	n.registerMisc(t)
	n.registerCRUD(t)
	n.registerDDL(t)
	n.registerAdmin(t)
	n.registerRepl(t)
	n.registerAuth(t)
	n.registerRWCDefaults(t)
	return t
}

// applyWCErrorOverride attaches a failCommand writeConcernError to a write's successful reply.
func (r *request) applyWCErrorOverride(fields bson.D) bson.D {
	if r.wcErrorOverride == nil {
		return fields
	}
	return append(fields, bson.E{Key: "writeConcernError", Value: r.wcErrorOverride})
}
