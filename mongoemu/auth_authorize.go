package mongoemu

import (
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
	"github.com/rsguard/rsguard/mongoemu/storage"
)

// cmdAuthKind says what a command asks of the session before it runs.
type cmdAuthKind int

const (
	authNone       cmdAuthKind = iota // requiresAuth() false and no privilege (hello, saslStart...)
	authPrivileges                    // the privileges privs returns
	authLoggedIn                      // authenticated, no privilege (startSession, getMore...)
)

type cmdAuth struct {
	kind  cmdAuthKind
	privs func(r *request) []privilege
}

func onCluster(action string) cmdAuth {
	return cmdAuth{kind: authPrivileges, privs: func(*request) []privilege { return []privilege{{clusterRes(), action}} }}
}

func onDB(action string) cmdAuth {
	return cmdAuth{kind: authPrivileges, privs: func(r *request) []privilege { return []privilege{{dbRes(r.db), action}} }}
}

func onNS(actions ...string) cmdAuth {
	return cmdAuth{kind: authPrivileges, privs: func(r *request) []privilege {
		coll, _ := r.firstValue().StringValueOK()
		out := make([]privilege, 0, len(actions))
		for _, a := range actions {
			out = append(out, privilege{nsRes(r.db, coll), a})
		}
		return out
	}}
}

// commandAuth is each command's checkAuthForOperation, reduced to the action types of
// auth/action_type.idl: requiresAuth false for the handshake and authentication commands
// (commands.cpp, hello, sasl_commands.cpp, authentication_commands.cpp, fail_point_cmd.cpp,
// generic.cpp ping), cluster actions for the administrative ones, namespace actions for CRUD.
// Commands not listed (added later) require the __system or root role, never less.
func commandAuth(name string) cmdAuth {
	switch name {
	case "hello", "isMaster", "ismaster", "saslStart", "saslContinue", "authenticate", "logout", "buildInfo",
		"buildinfo", "ping", "connectionStatus", "configureFailPoint", "endSessions", "listCommands":
		return cmdAuth{kind: authNone}
	case "getMore":
		// The cursor's user is not tracked; getMore still needs find on the namespace
		// (AuthorizationSession::checkAuthForGetMore).
		return cmdAuth{kind: authPrivileges, privs: func(r *request) []privilege {
			coll, _ := r.cmd.Lookup("collection").StringValueOK()
			return []privilege{{nsRes(r.db, coll), "find"}}
		}}
	case "startSession", "refreshSessions", "killSessions", "killCursors", "listDatabases", "whatsmyuri":
		// listDatabases answers with the databases the user may see (authorizedDatabases).
		return cmdAuth{kind: authLoggedIn}
	case "find", "count", "distinct", "aggregate":
		return onNS("find")
	case "insert":
		return onNS("insert")
	case "update":
		return updateAuth()
	case "delete":
		return onNS("remove")
	case "findAndModify", "findandmodify":
		return findAndModifyAuth()
	case "create":
		return onNS("createCollection")
	case "drop":
		return onNS("dropCollection")
	case "createIndexes":
		return onNS("createIndex")
	case "dropIndexes", "deleteIndexes":
		return onNS("dropIndex")
	case "listIndexes":
		return onNS("listIndexes")
	case "collStats":
		return onNS("collStats")
	case "dbStats":
		return onDB("dbStats")
	case "listCollections":
		return onDB("listCollections")
	case "dropDatabase":
		return onDB("dropDatabase")
	case "serverStatus", "hostInfo", "getCmdLineOpts", "getParameter", "setParameter", "getLog", "shutdown",
		"replSetGetStatus", "replSetGetConfig", "getDefaultRWConcern", "setDefaultRWConcern", "fsync":
		return onCluster(name)
	case "fsyncUnlock":
		return onCluster("unlock")
	// Commands mongoemu may grow (other fidelity work): their mongod action types, so they do
	// not fall back to root-only.
	case "currentOp":
		return onCluster("inprog")
	case "killOp":
		return onCluster("killop")
	case "top", "connPoolStats", "logRotate", "appendOplogNote", "setFeatureCompatibilityVersion":
		return onCluster(name)
	case "collMod", "validate":
		return onNS(name)
	case "dbHash":
		return onDB("dbHash")
	case "profile":
		return onDB("enableProfiler")
	case "killAllSessions":
		return onCluster("killAnySession")
	case "replSetInitiate", "replSetReconfig":
		return onCluster("replSetConfigure")
	case "replSetStepDown", "replSetStepUp", "replSetFreeze", "replSetMaintenance", "replSetSyncFrom",
		"replSetAbortPrimaryCatchUp":
		return onCluster("replSetStateChange")
	case "replSetHeartbeat", "replSetRequestVotes", "replSetUpdatePosition", "replSetGetRBID":
		return onCluster("internal")
	}
	if a, ok := userCommandAuth(name); ok {
		return a
	}
	return onCluster("internal")
}

func updateAuth() cmdAuth {
	return cmdAuth{kind: authPrivileges, privs: func(r *request) []privilege {
		coll, _ := r.firstValue().StringValueOK()
		out := []privilege{{nsRes(r.db, coll), "update"}}
		if arr, ok := r.cmd.Lookup("updates").ArrayOK(); ok {
			vals, _ := arr.Values()
			for _, v := range vals {
				if d, ok := v.DocumentOK(); ok {
					if up, _ := d.Lookup("upsert").BooleanOK(); up {
						return append(out, privilege{nsRes(r.db, coll), "insert"})
					}
				}
			}
		}
		return out
	}}
}

func findAndModifyAuth() cmdAuth {
	return cmdAuth{kind: authPrivileges, privs: func(r *request) []privilege {
		coll, _ := r.firstValue().StringValueOK()
		ns := nsRes(r.db, coll)
		out := []privilege{{ns, "find"}}
		if rm, _ := r.cmd.Lookup("remove").BooleanOK(); rm {
			return append(out, privilege{ns, "remove"})
		}
		out = append(out, privilege{ns, "update"})
		if up, _ := r.cmd.Lookup("upsert").BooleanOK(); up {
			out = append(out, privilege{ns, "insert"})
		}
		return out
	}}
}

// authorize is checkAuthorizationImplPreParse followed by the command's privilege check
// (db/commands.cpp): "Command X requires authentication" for an anonymous client outside the
// localhost exception, "not authorized on <db> to execute command <cmd>" when a privilege is
// missing; both Unauthorized (13).
func (n *Node) authorize(r *request) error {
	if n.auth == nil || !n.auth.enabled {
		return nil
	}
	spec := commandAuth(r.name)
	if spec.kind == authNone {
		return nil
	}
	user := n.sessionUser(r.c)
	localhost := user == nil && n.localhostException(r.c)
	if user == nil && !localhost {
		return n.authzFailed(mongoerr.New(mongoerr.Unauthorized, "Command %s requires authentication", r.name))
	}
	if spec.kind == authLoggedIn {
		return nil
	}
	var roles []roleName
	if user != nil {
		roles = n.rolesOf(*user)
	}
	arbiter := false
	if localhost && n.repl != nil {
		n.mu.Lock()
		arbiter = n.repl.isArbiterLocked()
		n.mu.Unlock()
	}
	for _, p := range spec.privs(r) {
		if !privilegeHeld(p, roles, localhost, arbiter) {
			return n.authzFailed(mongoerr.New(mongoerr.Unauthorized, "not authorized on %s to execute command %s",
				r.db, storage.FormatDocument(r.cmd)))
		}
	}
	return nil
}

// authzFailed logs "Checking authorization failed" (20436, commands.cpp) and returns err.
func (n *Node) authzFailed(err *mongoerr.Error) error {
	n.events.info("ACCESS", 20436, "Checking authorization failed", "error", bson.D{
		{Key: "code", Value: int32(err.Code)}, {Key: "codeName", Value: err.Code.Name()}, {Key: "errmsg", Value: err.Msg}})
	return err
}

func privilegeHeld(p privilege, roles []roleName, localhost, arbiter bool) bool {
	if localhost && localhostAllows(p.action, p.res, arbiter) {
		return true
	}
	for _, rn := range roles {
		if roleAllows(rn, p.action, p.res) {
			return true
		}
	}
	return false
}

// sessionUser is the connection's user, dropped when its document is gone, as
// _refreshUserInfoAsNeeded removes deleted users from the session (log 20245).
func (n *Node) sessionUser(c *conn) *userName {
	u := c.authn.current()
	if u == nil || (u.user == internalUserName && u.db == internalUserDB) {
		return u
	}
	if _, ok := n.lookupUser(*u); !ok {
		c.authn.set(nil)
		n.events.info("ACCESS", 20245, "Removed deleted user from session cache of user information", "user", u.doc())
		return nil
	}
	return u
}

// rolesOf reads a user's current roles (mongod's user cache is invalidated on every change).
func (n *Node) rolesOf(u userName) []roleName {
	if u.user == internalUserName && u.db == internalUserDB {
		return []roleName{{"__system", "admin"}}
	}
	doc, ok := n.lookupUser(u)
	if !ok {
		return nil
	}
	return userRoles(doc)
}

// localhostException is shouldAllowLocalhost: a loopback client while admin.system.users is
// empty; once users exist the session never re-checks (_checkShouldAllowLocalhost), and the
// first time it applies mongod logs id 20248.
func (n *Node) localhostException(c *conn) bool {
	c.authn.mu.Lock()
	denied := c.authn.noLocalhost
	c.authn.mu.Unlock()
	if denied || !c.isLocalhost() {
		return false
	}
	if n.hasUsers() {
		c.authn.mu.Lock()
		c.authn.noLocalhost = true
		c.authn.mu.Unlock()
		return false
	}
	if n.auth.localhostLogged.CompareAndSwap(false, true) {
		n.events.info("ACCESS", 20248, "note: no users configured in admin.system.users, allowing localhost access")
	}
	return true
}

// mayListDatabase is listDatabases' authorizedDatabases filter (commands/list_databases.cpp):
// without the cluster listDatabases action a user sees only the databases it holds some
// privilege in (isAuthorizedForAnyActionOnAnyResourceInDB); the localhost exception's only
// database privileges are on admin.
func (n *Node) mayListDatabase(r *request, db string) bool {
	if n.auth == nil || !n.auth.enabled {
		return true
	}
	user := n.sessionUser(r.c)
	if user == nil {
		return db == "admin" && n.localhostException(r.c)
	}
	roles := n.rolesOf(*user)
	if privilegeHeld(privilege{clusterRes(), "listDatabases"}, roles, false, false) {
		return true
	}
	all := append(append(append(append([]string{}, readActions...), readWriteOnly...), dbAdminActions...), userAdminActions...)
	for _, a := range all {
		if privilegeHeld(privilege{dbRes(db), a}, roles, false, false) || privilegeHeld(privilege{nsRes(db, "any"), a}, roles, false, false) {
			return true
		}
	}
	return false
}
