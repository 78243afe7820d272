package mongoemu

import "testing"

// TestBuiltinRolePrivileges spot-checks the built-in roles against builtin_roles.yml (7.0) and
// the localhost exception against authorization_session_impl.cpp _getDefaultPrivileges.
func TestBuiltinRolePrivileges(t *testing.T) {
	app := nsRes("app", "items")
	cases := []struct {
		role   roleName
		action string
		res    resource
		want   bool
	}{
		{roleName{"read", "app"}, "find", app, true},
		{roleName{"read", "app"}, "insert", app, false},
		{roleName{"read", "app"}, "find", nsRes("other", "items"), false},
		{roleName{"readWrite", "app"}, "insert", app, true},
		{roleName{"readWrite", "app"}, "find", nsRes("admin", "system.users"), false},
		{roleName{"readAnyDatabase", "admin"}, "find", app, true},
		{roleName{"readAnyDatabase", "admin"}, "find", nsRes("local", "oplog.rs"), false},
		{roleName{"readAnyDatabase", "app"}, "find", app, false}, // only exists on admin
		{roleName{"clusterMonitor", "admin"}, "replSetGetStatus", clusterRes(), true},
		{roleName{"clusterMonitor", "admin"}, "serverStatus", clusterRes(), true},
		{roleName{"clusterMonitor", "admin"}, "replSetStateChange", clusterRes(), false},
		{roleName{"clusterManager", "admin"}, "replSetStateChange", clusterRes(), true},
		{roleName{"clusterManager", "admin"}, "replSetConfigure", clusterRes(), true},
		{roleName{"clusterManager", "admin"}, "serverStatus", clusterRes(), false},
		{roleName{"clusterManager", "admin"}, "find", nsRes("local", "oplog.rs"), true},
		{roleName{"hostManager", "admin"}, "shutdown", clusterRes(), true},
		{roleName{"clusterAdmin", "admin"}, "fsync", clusterRes(), true},
		{roleName{"clusterAdmin", "admin"}, "insert", app, false},
		{roleName{"userAdmin", "app"}, "createUser", dbRes("app"), true},
		{roleName{"userAdminAnyDatabase", "admin"}, "createUser", dbRes("app"), true},
		{roleName{"root", "admin"}, "insert", app, true},
		{roleName{"root", "admin"}, "replSetStateChange", clusterRes(), true},
		{roleName{"root", "admin"}, "internal", clusterRes(), false}, // only __system
		{roleName{"__system", "admin"}, "internal", clusterRes(), true},
	}
	for _, c := range cases {
		if got := roleAllows(c.role, c.action, c.res); got != c.want {
			t.Errorf("%s %s on %+v = %v, want %v", c.role, c.action, c.res, got, c.want)
		}
	}
	if !localhostAllows("createUser", dbRes("admin"), false) || !localhostAllows("replSetConfigure", clusterRes(), false) ||
		localhostAllows("find", app, false) || localhostAllows("serverStatus", clusterRes(), false) ||
		!localhostAllows("serverStatus", clusterRes(), true) || localhostAllows("createUser", dbRes("app"), false) {
		t.Error("localhost exception privileges differ from _getDefaultPrivileges")
	}
}
