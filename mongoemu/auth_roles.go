package mongoemu

import "strings"

// resource is a ResourcePattern (auth/resource_pattern.h): the cluster, a database, or one
// collection.
type resource struct {
	cluster  bool
	db, coll string
}

func clusterRes() resource             { return resource{cluster: true} }
func dbRes(db string) resource         { return resource{db: db} }
func nsRes(db, coll string) resource   { return resource{db: db, coll: coll} }
func (r resource) system() bool        { return strings.HasPrefix(r.coll, "system.") }
func (r resource) inDB(db string) bool { return !r.cluster && r.db == db && !r.system() }
func (r resource) normalAnyDB() bool {
	return !r.cluster && !r.system() && r.db != "local" && r.db != "config"
}
func (r resource) onSystemUsersOf() bool {
	return !r.cluster && r.db == "admin" && r.coll == "system.users"
}
func actionIn(action string, set []string) bool {
	for _, a := range set {
		if a == action {
			return true
		}
	}
	return false
}

// privilege is an action required on a resource.
type privilege struct {
	res    resource
	action string
}

// The action sets of the built-in roles, from auth/builtin_roles.yml (7.0) / the older
// role_graph_builtin_roles.cpp, limited to the actions of commands mongoemu implements.
var (
	readActions = []string{"changeStream", "collStats", "dbHash", "dbStats", "find", "killCursors",
		"listCollections", "listIndexes", "listSearchIndexes"}
	readWriteOnly = []string{"convertToCapped", "createCollection", "createIndex", "dropCollection", "dropIndex",
		"insert", "remove", "renameCollectionSameDB", "update"}
	dbAdminActions = []string{"bypassDocumentValidation", "collMod", "collStats", "compact", "convertToCapped",
		"createCollection", "createIndex", "dbStats", "dropCollection", "dropDatabase", "dropIndex", "enableProfiler",
		"listCollections", "listIndexes", "reIndex", "renameCollectionSameDB", "validate"}
	userAdminActions = []string{"changeCustomData", "changePassword", "createRole", "createUser", "dropRole",
		"dropUser", "grantRole", "revokeRole", "setAuthenticationRestriction", "viewRole", "viewUser"}
	clusterMonitorActions = []string{"connPoolStats", "getCmdLineOpts", "getDefaultRWConcern", "getLog",
		"getParameter", "hostInfo", "inprog", "listDatabases", "listSessions", "netstat", "replSetGetConfig",
		"replSetGetStatus", "serverStatus", "top"}
	clusterManagerActions = []string{"appendOplogNote", "applicationMessage", "getDefaultRWConcern", "listSessions",
		"replSetConfigure", "replSetGetConfig", "replSetGetStatus", "replSetStateChange", "resync",
		"setDefaultRWConcern", "setFeatureCompatibilityVersion"}
	hostManagerActions = []string{"applicationMessage", "connPoolSync", "dropConnections", "flushRouterConfig",
		"fsync", "invalidateUserCache", "killAnyCursor", "killAnySession", "killop", "logRotate", "resync",
		"rotateCertificates", "setParameter", "shutdown", "touch", "unlock"}
)

// roleAllows reports whether a built-in role grants action on res. Unknown (user-defined) roles
// grant nothing: createRole is not emulated.
func roleAllows(role roleName, action string, res resource) bool {
	readWrite := append(append([]string{}, readActions...), readWriteOnly...)
	switch role.role {
	case "read":
		return res.inDB(role.db) && actionIn(action, readActions)
	case "readWrite":
		return res.inDB(role.db) && actionIn(action, readWrite)
	case "dbAdmin":
		return res.inDB(role.db) && actionIn(action, dbAdminActions)
	case "userAdmin":
		return res.inDB(role.db) && actionIn(action, userAdminActions)
	case "dbOwner":
		return roleAllows(roleName{"readWrite", role.db}, action, res) || roleAllows(roleName{"dbAdmin", role.db}, action, res) ||
			roleAllows(roleName{"userAdmin", role.db}, action, res)
	}
	if role.db != "admin" { // the remaining built-in roles exist only on admin
		return false
	}
	listDBs := res.cluster && action == "listDatabases"
	switch role.role {
	case "readAnyDatabase":
		return listDBs || res.normalAnyDB() && actionIn(action, readActions)
	case "readWriteAnyDatabase":
		return listDBs || res.normalAnyDB() && actionIn(action, readWrite)
	case "dbAdminAnyDatabase":
		return listDBs || res.normalAnyDB() && actionIn(action, dbAdminActions)
	case "userAdminAnyDatabase":
		return listDBs || !res.cluster && actionIn(action, userAdminActions) ||
			res.onSystemUsersOf() && actionIn(action, []string{"find", "insert", "update", "remove"})
	case "clusterMonitor":
		return res.cluster && actionIn(action, clusterMonitorActions)
	case "hostManager":
		return res.cluster && actionIn(action, hostManagerActions)
	case "clusterManager":
		// clusterManager also reads and writes the local and config databases.
		return res.cluster && actionIn(action, clusterManagerActions) ||
			!res.cluster && (res.db == "local" || res.db == "config") && actionIn(action, readWrite)
	case "clusterAdmin":
		return roleAllows(roleName{"clusterManager", "admin"}, action, res) || roleAllows(roleName{"clusterMonitor", "admin"}, action, res) ||
			roleAllows(roleName{"hostManager", "admin"}, action, res) || res.normalAnyDB() && action == "dropDatabase"
	case "backup":
		return listDBs || !res.cluster && actionIn(action, readActions)
	case "root":
		for _, r := range []string{"readWriteAnyDatabase", "dbAdminAnyDatabase", "userAdminAnyDatabase", "clusterAdmin", "backup"} {
			if roleAllows(roleName{r, "admin"}, action, res) {
				return true
			}
		}
		// root's restore role writes any collection, system ones included.
		return !res.cluster && actionIn(action, readWrite)
	case "__system":
		return true
	}
	return false
}

// localhostPrivileges are what the localhost exception grants while no user exists
// (auth/authorization_session_impl.cpp _getDefaultPrivileges): create the first user and
// initiate or inspect the replica set.
// An arbiter, which never holds users, also lets local clients read serverStatus and shut it down.
func localhostAllows(action string, res resource, arbiter bool) bool {
	switch {
	case res.cluster && arbiter && (action == "serverStatus" || action == "shutdown"):
		return true
	case res.cluster:
		return actionIn(action, []string{"addShard", "replSetConfigure", "replSetGetStatus", "issueDirectShardOperations"})
	case res.db == "admin" && res.coll == "":
		return action == "createUser" || action == "grantRole"
	case res.db == "$external" && res.coll == "":
		return action == "createUser"
	}
	return false
}

// builtinRole reports whether name is a built-in role usable on db (createUser/grantRoles
// validation: RoleNotFound otherwise).
func builtinRole(r roleName) bool {
	switch r.role {
	case "read", "readWrite", "dbAdmin", "userAdmin", "dbOwner":
		return true
	case "readAnyDatabase", "readWriteAnyDatabase", "dbAdminAnyDatabase", "userAdminAnyDatabase", "clusterMonitor",
		"hostManager", "clusterManager", "clusterAdmin", "backup", "restore", "root", "__system", "enableSharding":
		return r.db == "admin"
	}
	return false
}
