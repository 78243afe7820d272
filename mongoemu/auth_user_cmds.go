package mongoemu

import (
	"context"
	"sort"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
	"github.com/rsguard/rsguard/mongoemu/storage"
)

// The user management commands (db/commands/user_management_commands.cpp). They write
// admin.system.users on the primary like any replicated write, so secondaries learn users
// through the oplog.
func (n *Node) registerUserCommands(t commandTable) {
	t["createUser"] = &command{fn: n.cmdCreateUser, kind: kindWrite}
	t["updateUser"] = &command{fn: n.cmdUpdateUser, kind: kindWrite}
	t["dropUser"] = &command{fn: n.cmdDropUser, kind: kindWrite}
	t["dropAllUsersFromDatabase"] = &command{fn: n.cmdDropAllUsers, kind: kindWrite}
	t["grantRolesToUser"] = &command{fn: n.cmdGrantRoles, kind: kindWrite}
	t["revokeRolesFromUser"] = &command{fn: n.cmdRevokeRoles, kind: kindWrite}
	t["usersInfo"] = &command{fn: n.cmdUsersInfo, kind: kindRead}
}

// userCommandAuth is the privilege check of each user management command.
func userCommandAuth(name string) (cmdAuth, bool) {
	onRoles := func(first string, action string) func(r *request) []privilege {
		return func(r *request) []privilege {
			out := []privilege{}
			if first != "" {
				out = append(out, privilege{dbRes(r.db), first})
			}
			roles, _ := parseRoles(r, "roles")
			for _, rn := range roles {
				out = append(out, privilege{dbRes(rn.db), action})
			}
			return out
		}
	}
	switch name {
	case "createUser":
		return cmdAuth{kind: authPrivileges, privs: onRoles("createUser", "grantRole")}, true
	case "updateUser":
		return cmdAuth{kind: authPrivileges, privs: func(r *request) []privilege {
			var out []privilege
			if _, ok := r.arg("pwd"); ok {
				out = append(out, privilege{dbRes(r.db), "changePassword"})
			}
			if _, ok := r.arg("customData"); ok {
				out = append(out, privilege{dbRes(r.db), "changeCustomData"})
			}
			if _, ok := r.arg("roles"); ok {
				out = append(out, onRoles("", "grantRole")(r)...)
				out = append(out, privilege{dbRes(r.db), "revokeRole"})
			}
			return out
		}}, true
	case "dropUser", "dropAllUsersFromDatabase":
		return onDB("dropUser"), true
	case "grantRolesToUser":
		return cmdAuth{kind: authPrivileges, privs: onRoles("", "grantRole")}, true
	case "revokeRolesFromUser":
		return cmdAuth{kind: authPrivileges, privs: onRoles("", "revokeRole")}, true
	case "usersInfo":
		// A user may always look itself up (isAuthorizedToViewUser... usersInfo checkAuth).
		return cmdAuth{kind: authPrivileges, privs: func(r *request) []privilege {
			if u := r.c.authn.current(); u != nil {
				if name, ok := r.firstValue().StringValueOK(); ok && (userName{user: name, db: r.db}) == *u {
					return nil
				}
			}
			return []privilege{{dbRes(r.db), "viewUser"}}
		}}, true
	}
	return cmdAuth{}, false
}

// parseRoles reads a roles array: "name" means the role on the command's database.
func parseRoles(r *request, field string) ([]roleName, error) {
	v, ok := r.arg(field)
	if !ok {
		return nil, nil
	}
	arr, ok := v.ArrayOK()
	if !ok {
		return nil, wrongType(r.name+"."+field, v, "array")
	}
	vals, _ := arr.Values()
	out := make([]roleName, 0, len(vals))
	for _, e := range vals {
		if s, ok := e.StringValueOK(); ok {
			out = append(out, roleName{role: s, db: r.db})
			continue
		}
		d, ok := e.DocumentOK()
		if !ok {
			return nil, mongoerr.New(mongoerr.BadValue, "Role names must be either strings or objects")
		}
		role, _ := d.Lookup("role").StringValueOK()
		db, _ := d.Lookup("db").StringValueOK()
		out = append(out, roleName{role: role, db: db})
	}
	for _, rn := range out {
		if !builtinRole(rn) {
			return nil, mongoerr.New(mongoerr.RoleNotFound, "Could not find role: %s", rn)
		}
	}
	return out, nil
}

func rolesValue(roles []roleName) bson.A {
	a := bson.A{}
	for _, rn := range roles {
		a = append(a, bson.D{{Key: "role", Value: rn.role}, {Key: "db", Value: rn.db}})
	}
	return a
}

// credentialsFor builds credentials for the requested mechanisms (both SCRAM ones by default);
// $external users have {external: true} and no password.
func credentialsFor(r *request, u userName, pwd string) (bson.D, error) {
	if u.db == "$external" {
		return bson.D{{Key: "external", Value: true}}, nil
	}
	mechs := []string{mechSCRAMSHA1, mechSCRAMSHA256}
	if v, ok := r.arg("mechanisms"); ok {
		arr, _ := v.ArrayOK()
		vals, _ := arr.Values()
		mechs = mechs[:0:0]
		for _, e := range vals {
			m, _ := e.StringValueOK()
			if _, ok := scramHash(m); !ok {
				return nil, mongoerr.New(mongoerr.BadValue, "Unknown auth mechanism '%s'", m)
			}
			mechs = append(mechs, m)
		}
	}
	creds := bson.D{}
	for _, m := range mechs {
		iters := scramSHA1Iterations
		if m == mechSCRAMSHA256 {
			iters = scramSHA256Iterations
		}
		c, err := makeCredential(m, u.user, pwd, iters)
		if err != nil {
			return nil, mongoerr.New(mongoerr.BadValue, "%s", err.Error())
		}
		creds = append(creds, bson.E{Key: m, Value: c})
	}
	return creds, nil
}

// userDoc is the stored shape of a user (auth/user_document_parser.cpp).
func userDoc(u userName, userID bson.Binary, creds bson.D, roles []roleName, custom bson.RawValue) bson.D {
	d := bson.D{{Key: "_id", Value: u.id()}, {Key: "userId", Value: userID}, {Key: "user", Value: u.user},
		{Key: "db", Value: u.db}, {Key: "credentials", Value: creds}, {Key: "roles", Value: rolesValue(roles)}}
	if custom.Type != 0 {
		d = append(d, bson.E{Key: "customData", Value: custom})
	}
	return d
}

func (n *Node) userArg(r *request) (userName, error) {
	name, ok := r.firstValue().StringValueOK()
	if !ok || name == "" {
		return userName{}, mongoerr.New(mongoerr.BadValue, "User document needs 'user' field to be non-empty")
	}
	return userName{user: name, db: r.db}, nil
}

func (n *Node) passwordArg(r *request, u userName, required bool) (string, bool, error) {
	v, ok := r.arg("pwd")
	if !ok {
		if required && u.db != "$external" {
			return "", false, mongoerr.New(mongoerr.BadValue, "Must provide a 'pwd' field for all user documents, except those with '$external' as the user's source db")
		}
		return "", false, nil
	}
	if u.db == "$external" {
		return "", false, mongoerr.New(mongoerr.BadValue, "Cannot set the password for users defined on the '$external' database")
	}
	pwd, isStr := v.StringValueOK()
	if !isStr {
		return "", false, wrongType(r.name+".pwd", v, "string")
	}
	if pwd == "" {
		return "", false, mongoerr.New(mongoerr.BadValue, "Password cannot be empty")
	}
	return pwd, true, nil
}

var usersTarget = target{db: "admin", coll: "system.users", ns: usersNS}

// writeUsers runs fn in a replicated write on admin.system.users and waits for the write concern.
func (n *Node) writeUsers(ctx context.Context, r *request, fields func() bson.D, fn func(tx *storage.Tx, w *collWriter) error) (bson.D, error) {
	if err := n.precheckWriteConcern(r); err != nil {
		return nil, err
	}
	res, err := n.runWrite(ctx, r, func(tx *storage.Tx, ol *opLog) error {
		return fn(tx, newCollWriter(tx, ol, usersTarget))
	})
	if err != nil {
		return nil, err
	}
	return n.finishWrite(ctx, r, res, fields())
}

func idValue(u userName) bson.RawValue {
	return bson.RawValue{Type: bson.TypeString, Value: bsonString(u.id())}
}

func (n *Node) cmdCreateUser(ctx context.Context, r *request) (bson.D, error) {
	u, err := n.userArg(r)
	if err != nil {
		return nil, err
	}
	pwd, _, err := n.passwordArg(r, u, true)
	if err != nil {
		return nil, err
	}
	if _, ok := r.arg("roles"); !ok {
		return nil, missingField("createUser", "roles")
	}
	roles, err := parseRoles(r, "roles")
	if err != nil {
		return nil, err
	}
	creds, err := credentialsFor(r, u, pwd)
	if err != nil {
		return nil, err
	}
	custom, _ := r.arg("customData")
	uid := bson.Binary{Subtype: 4, Data: newUUIDBytes()}
	raw, err := bson.Marshal(userDoc(u, uid, creds, roles, custom))
	if err != nil {
		return nil, err
	}
	return n.writeUsers(ctx, r, func() bson.D { return bson.D{} }, func(tx *storage.Tx, w *collWriter) error {
		if _, found, _ := tx.Get(usersNS, idValue(u)); found {
			return mongoerr.New(mongoerr.Location51003, "User \"%s\" already exists", u)
		}
		return w.insert(raw)
	})
}

// modifyUser rewrites an existing user document with change applied.
func (n *Node) modifyUser(ctx context.Context, r *request, change func(doc bson.Raw) (bson.D, error)) (bson.D, error) {
	u, err := n.userArg(r)
	if err != nil {
		return nil, err
	}
	return n.writeUsers(ctx, r, func() bson.D { return bson.D{} }, func(tx *storage.Tx, w *collWriter) error {
		old, found, _ := tx.Get(usersNS, idValue(u))
		if !found {
			return mongoerr.New(mongoerr.UserNotFound, "Could not find user \"%s\" for db \"%s\"", u.user, u.db)
		}
		d, err := change(old)
		if err != nil {
			return err
		}
		raw, err := bson.Marshal(d)
		if err != nil {
			return err
		}
		return w.replace(idValue(u), raw)
	})
}

func storedParts(doc bson.Raw) (bson.Binary, bson.D, bson.RawValue) {
	var uid bson.Binary
	if st, data, ok := doc.Lookup("userId").BinaryOK(); ok {
		uid = bson.Binary{Subtype: st, Data: data}
	}
	var creds bson.D
	_ = bson.Unmarshal(doc.Lookup("credentials").Document(), &creds)
	custom, _ := doc.LookupErr("customData")
	return uid, creds, custom
}

func (n *Node) cmdUpdateUser(ctx context.Context, r *request) (bson.D, error) {
	u, err := n.userArg(r)
	if err != nil {
		return nil, err
	}
	pwd, hasPwd, err := n.passwordArg(r, u, false)
	if err != nil {
		return nil, err
	}
	_, hasRoles := r.arg("roles")
	newRoles, err := parseRoles(r, "roles")
	if err != nil {
		return nil, err
	}
	custom, hasCustom := r.arg("customData")
	if !hasPwd && !hasRoles && !hasCustom {
		return nil, mongoerr.New(mongoerr.BadValue, "Must specify at least one field to update in updateUser")
	}
	return n.modifyUser(ctx, r, func(old bson.Raw) (bson.D, error) {
		uid, creds, oldCustom := storedParts(old)
		if hasPwd {
			if creds, err = credentialsFor(r, u, pwd); err != nil {
				return nil, err
			}
		}
		roles := userRoles(old)
		if hasRoles {
			roles = newRoles
		}
		if !hasCustom {
			custom = oldCustom
		}
		return userDoc(u, uid, creds, roles, custom), nil
	})
}

func (n *Node) changeRoles(ctx context.Context, r *request, field string, grant bool) (bson.D, error) {
	roles, err := parseRoles(r, "roles")
	if err != nil {
		return nil, err
	}
	if _, ok := r.arg("roles"); !ok {
		return nil, missingField(field, "roles")
	}
	u, _ := n.userArg(r)
	return n.modifyUser(ctx, r, func(old bson.Raw) (bson.D, error) {
		uid, creds, custom := storedParts(old)
		cur := userRoles(old)
		for _, rn := range roles {
			idx := -1
			for i, c := range cur {
				if c == rn {
					idx = i
				}
			}
			switch {
			case grant && idx < 0:
				cur = append(cur, rn)
			case !grant && idx >= 0:
				cur = append(cur[:idx], cur[idx+1:]...)
			}
		}
		return userDoc(u, uid, creds, cur, custom), nil
	})
}

func (n *Node) cmdGrantRoles(ctx context.Context, r *request) (bson.D, error) {
	return n.changeRoles(ctx, r, "grantRolesToUser", true)
}

func (n *Node) cmdRevokeRoles(ctx context.Context, r *request) (bson.D, error) {
	return n.changeRoles(ctx, r, "revokeRolesFromUser", false)
}

func (n *Node) cmdDropUser(ctx context.Context, r *request) (bson.D, error) {
	u, err := n.userArg(r)
	if err != nil {
		return nil, err
	}
	return n.writeUsers(ctx, r, func() bson.D { return bson.D{} }, func(tx *storage.Tx, w *collWriter) error {
		ok, err := w.delete(idValue(u))
		if err != nil {
			return err
		}
		if !ok {
			return mongoerr.New(mongoerr.UserNotFound, "Could not find user \"%s\" for db \"%s\"", u.user, u.db)
		}
		return nil
	})
}

func (n *Node) cmdDropAllUsers(ctx context.Context, r *request) (bson.D, error) {
	count := 0
	return n.writeUsers(ctx, r, func() bson.D { return bson.D{{Key: "n", Value: int32(count)}} }, func(tx *storage.Tx, w *collWriter) error {
		count = 0
		var ids []bson.RawValue
		err := tx.Scan(usersNS, func(doc bson.Raw) (bool, error) {
			if db, _ := doc.Lookup("db").StringValueOK(); db == r.db {
				ids = append(ids, doc.Lookup("_id"))
			}
			return true, nil
		})
		if err != nil && !isNamespaceNotFound(err) {
			return err
		}
		for _, id := range ids {
			if ok, err := w.delete(id); err != nil {
				return err
			} else if ok {
				count++
			}
		}
		return nil
	})
}

// cmdUsersInfo answers {usersInfo: 1 | "name" | {user, db} | [...] | {forAllDBs: true}}.
func (n *Node) cmdUsersInfo(_ context.Context, r *request) (bson.D, error) {
	want := func(u userName) bool { return false }
	v := r.firstValue()
	switch v.Type {
	case bson.TypeString:
		name := v.StringValue()
		want = func(u userName) bool { return u == userName{user: name, db: r.db} }
	case bson.TypeEmbeddedDocument:
		d := v.Document()
		if all, _ := d.Lookup("forAllDBs").BooleanOK(); all {
			want = func(userName) bool { return true }
			break
		}
		user, _ := d.Lookup("user").StringValueOK()
		db, _ := d.Lookup("db").StringValueOK()
		want = func(u userName) bool { return u == userName{user: user, db: db} }
	case bson.TypeArray:
		vals, _ := v.Array().Values()
		var names []userName
		for _, e := range vals {
			if s, ok := e.StringValueOK(); ok {
				names = append(names, userName{user: s, db: r.db})
			} else if d, ok := e.DocumentOK(); ok {
				user, _ := d.Lookup("user").StringValueOK()
				db, _ := d.Lookup("db").StringValueOK()
				names = append(names, userName{user: user, db: db})
			}
		}
		want = func(u userName) bool {
			for _, x := range names {
				if x == u {
					return true
				}
			}
			return false
		}
	default:
		want = func(u userName) bool { return u.db == r.db }
	}
	showCreds, _ := r.boolArg("showCredentials")
	var users []bson.D
	err := n.runRead(func(tx *storage.Tx) error {
		err := tx.Scan(usersNS, func(doc bson.Raw) (bool, error) {
			user, _ := doc.Lookup("user").StringValueOK()
			db, _ := doc.Lookup("db").StringValueOK()
			if !want(userName{user: user, db: db}) {
				return true, nil
			}
			d := bson.D{{Key: "_id", Value: doc.Lookup("_id")}, {Key: "userId", Value: doc.Lookup("userId")},
				{Key: "user", Value: user}, {Key: "db", Value: db}}
			if showCreds {
				d = append(d, bson.E{Key: "credentials", Value: doc.Lookup("credentials")})
			}
			if c, err := doc.LookupErr("customData"); err == nil {
				d = append(d, bson.E{Key: "customData", Value: c})
			}
			mechs := bson.A{}
			for _, m := range userMechanisms(doc) {
				if m != "external" {
					mechs = append(mechs, m)
				}
			}
			d = append(d, bson.E{Key: "roles", Value: doc.Lookup("roles")}, bson.E{Key: "mechanisms", Value: mechs})
			users = append(users, d)
			return true, nil
		})
		if isNamespaceNotFound(err) {
			return nil
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(users, func(i, j int) bool {
		return strings.Compare(users[i][0].Value.(bson.RawValue).StringValue(), users[j][0].Value.(bson.RawValue).StringValue()) < 0
	})
	a := bson.A{}
	for _, u := range users {
		a = append(a, u)
	}
	return bson.D{{Key: "users", Value: a}}, nil
}
