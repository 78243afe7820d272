package mongoemu

import (
	"context"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/rsguard/rsguard/mongoemu/testcerts"
)

// authClient connects with credentials (mechanism "" lets the driver negotiate through hello's
// saslSupportedMechs and speculative authentication, as it does against mongod).
func (tn *testNode) authClient(t *testing.T, user, pwd, mech string, extra ...*options.ClientOptions) *mongo.Client {
	t.Helper()
	cred := options.Credential{Username: user, Password: pwd, AuthSource: "admin", AuthMechanism: mech}
	return tn.client(t, append([]*options.ClientOptions{options.Client().SetAuth(cred)}, extra...)...)
}

func runCmd(c *mongo.Client, db string, cmd bson.D) (bson.Raw, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return c.Database(db).RunCommand(ctx, cmd).Raw()
}

// authedUser is connectionStatus' authInfo.authenticatedUsers[0] as "user@db".
func authedUser(st bson.Raw) string {
	u, _ := st.Lookup("authInfo", "authenticatedUsers", "0", "user").StringValueOK()
	db, _ := st.Lookup("authInfo", "authenticatedUsers", "0", "db").StringValueOK()
	return u + "@" + db
}

// wantCode checks a command error's code and that its message contains msg.
func wantAuthCode(t *testing.T, err error, code int32, msg string) {
	t.Helper()
	var ce mongo.CommandError
	if !errors.As(err, &ce) {
		if strings.Contains(fmt.Sprint(err), msg) && msg != "" && code == 18 {
			return // the driver wraps handshake auth failures in its own error type
		}
		t.Fatalf("error = %v, want code %d", err, code)
	}
	if ce.Code != code || !strings.Contains(ce.Message, msg) {
		t.Fatalf("error = %d %q, want %d containing %q", ce.Code, ce.Message, code, msg)
	}
}

// TestAuthSCRAMUsersAndRoles follows a DBA's first session on a mongod started with --auth
// (db/commands.cpp, auth/authorization_session_impl.cpp, user_management_commands.cpp): the
// localhost exception creates the first user and nothing else, then SCRAM-SHA-256 and -1 log in,
// a wrong password is AuthenticationFailed (18), a missing role is Unauthorized (13).
func TestAuthSCRAMUsersAndRoles(t *testing.T) {
	tn := startTestNode(t, Options{Security: Security{Auth: true}})
	anon := tn.client(t)

	// Localhost exception: no users yet, so createUser on admin is allowed, reads are not.
	_, err := runCmd(anon, "test", bson.D{{Key: "find", Value: "c"}})
	wantAuthCode(t, err, 13, "not authorized on test to execute command { find: \"c\"")
	if _, err := runCmd(anon, "admin", bson.D{{Key: "createUser", Value: "root"}, {Key: "pwd", Value: "s3cret"},
		{Key: "roles", Value: bson.A{"root"}}}); err != nil {
		t.Fatalf("createUser through the localhost exception: %v", err)
	}
	// The exception is gone for good once a user exists.
	_, err = runCmd(anon, "admin", bson.D{{Key: "createUser", Value: "other"}, {Key: "pwd", Value: "x"}, {Key: "roles", Value: bson.A{}}})
	wantAuthCode(t, err, 13, "Command createUser requires authentication")
	_, err = runCmd(anon, "test", bson.D{{Key: "find", Value: "c"}})
	wantAuthCode(t, err, 13, "Command find requires authentication")
	if _, err := runCmd(anon, "admin", bson.D{{Key: "ping", Value: 1}}); err != nil {
		t.Fatalf("ping needs no authentication on mongod: %v", err)
	}

	for _, mech := range []string{"", "SCRAM-SHA-256", "SCRAM-SHA-1"} {
		root := tn.authClient(t, "root", "s3cret", mech)
		st, err := runCmd(root, "admin", bson.D{{Key: "connectionStatus", Value: 1}})
		if err != nil {
			t.Fatalf("%q login: %v", mech, err)
		}
		if authedUser(st) != "root@admin" {
			t.Fatalf("%q: connectionStatus = %v", mech, st)
		}
	}
	bad := tn.authClient(t, "root", "wrong", "SCRAM-SHA-256")
	_, err = runCmd(bad, "admin", bson.D{{Key: "ping", Value: 1}})
	if err == nil || !strings.Contains(err.Error(), "Authentication failed") {
		t.Fatalf("wrong password: %v, want AuthenticationFailed", err)
	}
	if !strings.Contains(strings.Join(tn.events.linesText(), "\n"), `"id":20249`) {
		t.Fatalf("no 'Authentication failed' (20249) log line")
	}

	root := tn.authClient(t, "root", "s3cret", "")
	if _, err := runCmd(root, "admin", bson.D{{Key: "createUser", Value: "reader"}, {Key: "pwd", Value: "r"},
		{Key: "roles", Value: bson.A{bson.D{{Key: "role", Value: "read"}, {Key: "db", Value: "test"}}}}}); err != nil {
		t.Fatalf("createUser reader: %v", err)
	}
	_, err = runCmd(root, "admin", bson.D{{Key: "createUser", Value: "reader"}, {Key: "pwd", Value: "r"}, {Key: "roles", Value: bson.A{}}})
	wantAuthCode(t, err, 51003, `User "reader@admin" already exists`)
	_, err = runCmd(root, "admin", bson.D{{Key: "createUser", Value: "x"}, {Key: "pwd", Value: "r"}, {Key: "roles", Value: bson.A{"nosuch"}}})
	wantAuthCode(t, err, 31, "Could not find role: nosuch@admin")

	// Stored shape: both SCRAM credentials with mongod's iteration counts.
	info, err := runCmd(root, "admin", bson.D{{Key: "usersInfo", Value: "reader"}, {Key: "showCredentials", Value: true}})
	if err != nil {
		t.Fatal(err)
	}
	u := info.Lookup("users", "0").Document()
	if u.Lookup("credentials", "SCRAM-SHA-1", "iterationCount").Int32() != 10000 ||
		u.Lookup("credentials", "SCRAM-SHA-256", "iterationCount").Int32() != 15000 {
		t.Fatalf("credentials = %v", u.Lookup("credentials"))
	}
	if u.Lookup("mechanisms").String() != `["SCRAM-SHA-1","SCRAM-SHA-256"]` || u.Lookup("_id").StringValue() != "admin.reader" {
		t.Fatalf("usersInfo = %v", u)
	}

	reader := tn.authClient(t, "reader", "r", "")
	ctx := context.Background()
	if _, err := root.Database("test").Collection("c").InsertOne(ctx, bson.D{{Key: "_id", Value: 1}}); err != nil {
		t.Fatal(err)
	}
	if n, err := reader.Database("test").Collection("c").CountDocuments(ctx, bson.D{}); err != nil || n != 1 {
		t.Fatalf("reader count = %d, %v", n, err)
	}
	_, err = reader.Database("test").Collection("c").InsertOne(ctx, bson.D{{Key: "_id", Value: 2}})
	wantAuthCode(t, err, 13, "not authorized on test to execute command { insert: \"c\"")
	// listDatabases shows a user without the listDatabases action only its own databases.
	if names, err := reader.ListDatabaseNames(ctx, bson.D{}); err != nil || fmt.Sprint(names) != "[test]" {
		t.Fatalf("reader's listDatabases = %v, %v; want [test]", names, err)
	}
	if names, err := root.ListDatabaseNames(ctx, bson.D{}); err != nil || len(names) < 2 {
		t.Fatalf("root's listDatabases = %v, %v", names, err)
	}
	_, err = runCmd(reader, "admin", bson.D{{Key: "replSetGetStatus", Value: 1}})
	wantAuthCode(t, err, 13, "not authorized on admin to execute command { replSetGetStatus: 1")

	// updateUser grants readWrite; the open session sees it at once (user cache invalidation).
	if _, err := runCmd(root, "admin", bson.D{{Key: "updateUser", Value: "reader"},
		{Key: "roles", Value: bson.A{bson.D{{Key: "role", Value: "readWrite"}, {Key: "db", Value: "test"}}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := reader.Database("test").Collection("c").InsertOne(ctx, bson.D{{Key: "_id", Value: 2}}); err != nil {
		t.Fatalf("insert after updateUser: %v", err)
	}
	// A new password works, the old one no longer does.
	if _, err := runCmd(root, "admin", bson.D{{Key: "updateUser", Value: "reader"}, {Key: "pwd", Value: "new"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := runCmd(tn.authClient(t, "reader", "new", "SCRAM-SHA-1"), "admin", bson.D{{Key: "connectionStatus", Value: 1}}); err != nil {
		t.Fatalf("login with the new password: %v", err)
	}
	if _, err := runCmd(tn.authClient(t, "reader", "r", ""), "admin", bson.D{{Key: "ping", Value: 1}}); err == nil {
		t.Fatal("old password still accepted")
	}
	// getMore needs find on the namespace: a cursor opened with the role dies with the role.
	cur, err := reader.Database("test").Collection("c").Find(ctx, bson.D{}, options.Find().SetBatchSize(1))
	if err != nil {
		t.Fatal(err)
	}
	if !cur.Next(ctx) {
		t.Fatalf("first batch: %v", cur.Err())
	}
	if _, err := runCmd(root, "admin", bson.D{{Key: "updateUser", Value: "reader"}, {Key: "roles", Value: bson.A{}}}); err != nil {
		t.Fatal(err)
	}
	for cur.Next(ctx) {
	}
	wantAuthCode(t, cur.Err(), 13, "not authorized on test to execute command { getMore:")
	// dropUser: the open session loses the user.
	if _, err := runCmd(root, "admin", bson.D{{Key: "dropUser", Value: "reader"}}); err != nil {
		t.Fatal(err)
	}
	_, err = reader.Database("test").Collection("c").CountDocuments(ctx, bson.D{})
	wantAuthCode(t, err, 13, "requires authentication")
	_, err = runCmd(root, "admin", bson.D{{Key: "dropUser", Value: "reader"}})
	wantAuthCode(t, err, 11, "Could not find user")
}

// linesText returns the node's log lines (the ring getLog serves).
func (l *eventLog) linesText() []string {
	lines, _ := l.lines()
	return lines
}

// TestAuthOffByDefault: without --auth nothing changes (the suite's other tests rely on it).
func TestAuthOffByDefault(t *testing.T) {
	tn := startTestNode(t, Options{})
	if _, err := runCmd(tn.client(t), "test", bson.D{{Key: "find", Value: "c"}}); err != nil {
		t.Fatal(err)
	}
}

// TestKeyFileRules are readSecurityFile's and setUpSecurityKey's checks (security_file.cpp,
// security_key.cpp).
func TestKeyFileRules(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []struct {
		path, want string
	}{
		{write("open", "abcdefgh", 0o644), "are too open"},
		{write("short", "abc", 0o600), "must be between 6 and 1024"},
		{write("bad", "abc$defg", 0o600), "invalid char in key file"},
		// yaml-cpp loads an empty file as a null node: neither string nor sequence.
		{write("empty", " \n", 0o600), "Only strings and sequences are supported"},
		{write("emptyseq", "[]\n", 0o600), "does not contain any valid keys"},
		{filepath.Join(dir, "missing"), "Error reading file"},
	}
	for _, c := range cases {
		if _, err := readKeyFile(c.path); err == nil || !strings.Contains(err.Msg, c.want) {
			t.Errorf("%s: %v, want %q", c.path, err, c.want)
		}
	}
	keys, err := readKeyFile(write("ok", "abc def\n ghi=\n", 0o400))
	if err != nil || len(keys) != 1 || keys[0] != "abcdefghi=" {
		t.Fatalf("keys = %q, %v (whitespace must be stripped)", keys, err)
	}
	// Key rollover: a YAML sequence of at most two keys.
	keys, err = readKeyFile(write("two", "- newkey123\n- oldkey456\n", 0o400))
	if err != nil || len(keys) != 2 || keys[0] != "newkey123" || keys[1] != "oldkey456" {
		t.Fatalf("rollover keys = %q, %v", keys, err)
	}
	if _, err := readKeyFile(write("three", "- aaaaaaa\n- bbbbbbb\n- ccccccc\n", 0o400)); err == nil ||
		!strings.Contains(err.Msg, "Only two keys are supported") {
		t.Fatalf("three keys: %v", err)
	}
	if _, err := New(Options{DBPath: t.TempDir(), Security: Security{KeyFile: filepath.Join(dir, "open")}}); err == nil {
		t.Fatal("node started with a world-readable key file")
	}
}

// TestTLSRequireAndX509: requireTLS refuses plain clients, serves TLS clients, and
// MONGODB-X509 logs a certificate's subject in as its $external user.
func TestTLSRequireAndX509(t *testing.T) {
	certs, err := testcerts.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	tn := startTestNode(t, Options{Security: Security{Auth: true, TLSMode: "requireTLS",
		TLSCertificateKeyFile: certs.ServerFile, TLSCAFile: certs.CAFile, TLSAllowConnectionsWithoutCertificates: true}})
	plain := tn.client(t, options.Client().SetServerSelectionTimeout(time.Second))
	if _, err := runCmd(plain, "admin", bson.D{{Key: "ping", Value: 1}}); err == nil {
		t.Fatal("plain connection served in requireTLS mode")
	}
	tlsURI := func(extra string) *options.ClientOptions {
		return options.Client().ApplyURI(tn.uri() + "&tls=true&tlsCAFile=" + url.QueryEscape(certs.CAFile) + extra)
	}
	anon := tn.client(t, tlsURI(""))
	// The localhost exception also allows creating the first user in $external.
	if _, err := runCmd(anon, "$external", bson.D{{Key: "createUser", Value: certs.ClientSubject},
		{Key: "roles", Value: bson.A{bson.D{{Key: "role", Value: "root"}, {Key: "db", Value: "admin"}}}}}); err != nil {
		t.Fatalf("create the $external user: %v", err)
	}
	x509c := tn.client(t, tlsURI("&tlsCertificateKeyFile="+url.QueryEscape(certs.ClientFile)+"&authMechanism=MONGODB-X509"))
	st, err := runCmd(x509c, "admin", bson.D{{Key: "connectionStatus", Value: 1}})
	if err != nil {
		t.Fatalf("X.509 login: %v", err)
	}
	if authedUser(st) != certs.ClientSubject+"@$external" {
		t.Fatalf("connectionStatus = %v", st)
	}
}

// TestKeyFileSetAuthenticatesMembers: members with the same key file form a set (every
// internal connection authenticates as __system); a member with another key is refused.
func TestKeyFileSetAuthenticatesMembers(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "key")
	if err := os.WriteFile(key, []byte("c2VjcmV0LWtleS1mb3ItdGVzdHM="), 0o600); err != nil {
		t.Fatal(err)
	}
	ts := startTestSetWith(t, 2, 0, fastSettings, Options{Security: Security{KeyFile: key}})
	p := ts.waitPrimary(20 * time.Second)
	s := 1 - p
	eventually(t, 20*time.Second, "secondary", func() bool { return ts.state(s) == "SECONDARY" })

	// An unauthenticated client (inside the localhost exception: no users yet) may not send
	// internal commands: only __system holds the internal action.
	_, err := runCmd(ts.clients[p], "admin", bson.D{{Key: "replSetHeartbeat", Value: "rs0"}})
	wantAuthCode(t, err, 13, "not authorized on admin to execute command { replSetHeartbeat: \"rs0\"")

	// A third node with a different key cannot take part: its heartbeats fail authentication.
	other := filepath.Join(dir, "other")
	if err := os.WriteFile(other, []byte("ZGlmZmVyZW50LWtleQ=="), 0o600); err != nil {
		t.Fatal(err)
	}
	intruder := startTestNode(t, Options{ReplSet: "rs0", Security: Security{KeyFile: other}})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := intruder.dialPeer(ctx, ts.nodes[p].Addr(), 2*time.Second); err == nil ||
		!strings.Contains(err.Error(), "Authentication failed") {
		t.Fatalf("dial with the wrong key: %v, want AuthenticationFailed", err)
	}
	if _, err := ts.nodes[s].dialPeer(ctx, ts.nodes[p].Addr(), 2*time.Second); err != nil {
		t.Fatalf("dial with the right key: %v", err)
	}
}

// TestAuthUsersSurviveRestartAndDropAll: users live in admin.system.users on disk, so a
// restarted mongod still knows them; a user may look itself up without viewUser;
// dropAllUsersFromDatabase removes one database's users and reports how many.
func TestAuthUsersSurviveRestartAndDropAll(t *testing.T) {
	dir := t.TempDir()
	tn := startTestNode(t, Options{DBPath: dir, Security: Security{Auth: true}})
	anon := tn.client(t)
	for _, u := range []bson.D{
		{{Key: "createUser", Value: "root"}, {Key: "pwd", Value: "pw"}, {Key: "roles", Value: bson.A{"root"}}},
	} {
		if _, err := runCmd(anon, "admin", u); err != nil {
			t.Fatal(err)
		}
	}
	root := tn.authClient(t, "root", "pw", "")
	for _, name := range []string{"a", "b"} {
		cmd := bson.D{{Key: "createUser", Value: name}, {Key: "pwd", Value: "pw"}, {Key: "roles", Value: bson.A{"read"}}}
		if err := root.Database("app").RunCommand(context.Background(), cmd).Err(); err != nil {
			t.Fatal(err)
		}
	}
	port := tn.Port()
	tn.Stop(nil)
	tn2 := startTestNode(t, Options{DBPath: dir, Port: port, Security: Security{Auth: true}})
	cred := options.Credential{Username: "a", Password: "pw", AuthSource: "app"}
	a := tn2.client(t, options.Client().SetAuth(cred))
	self, err := runCmd(a, "app", bson.D{{Key: "usersInfo", Value: "a"}})
	if err != nil {
		t.Fatalf("user a after restart, looking itself up: %v", err)
	}
	if v, _ := self.Lookup("users", "0", "user").StringValueOK(); v != "a" {
		t.Fatalf("usersInfo a = %v", self)
	}
	_, err = runCmd(a, "app", bson.D{{Key: "usersInfo", Value: "b"}})
	wantAuthCode(t, err, 13, "not authorized on app to execute command { usersInfo: \"b\"")
	root2 := tn2.authClient(t, "root", "pw", "")
	res, err := runCmd(root2, "app", bson.D{{Key: "dropAllUsersFromDatabase", Value: 1}})
	if err != nil || res.Lookup("n").Int32() != 2 {
		t.Fatalf("dropAllUsersFromDatabase = %v, %v", res, err)
	}
	if _, err := runCmd(root2, "admin", bson.D{{Key: "connectionStatus", Value: 1}}); err != nil {
		t.Fatalf("admin users must survive dropAllUsersFromDatabase on app: %v", err)
	}
}

// TestTLSAllowModeAndX509ClusterAuth: allowTLS serves plain and TLS clients (and dials peers
// in plain text); with clusterAuthMode x509 members prove membership with their certificate
// (same O and OU) instead of a key file.
func TestTLSAllowModeAndX509ClusterAuth(t *testing.T) {
	certs, err := testcerts.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	allow := startTestNode(t, Options{Security: Security{TLSMode: "allowTLS", TLSCertificateKeyFile: certs.ServerFile}})
	if _, err := runCmd(allow.client(t), "admin", bson.D{{Key: "ping", Value: 1}}); err != nil {
		t.Fatalf("plain client on allowTLS: %v", err)
	}
	tlsOpt := options.Client().ApplyURI(allow.uri() + "&tls=true&tlsCAFile=" + url.QueryEscape(certs.CAFile))
	if _, err := runCmd(allow.client(t, tlsOpt), "admin", bson.D{{Key: "ping", Value: 1}}); err != nil {
		t.Fatalf("TLS client on allowTLS: %v", err)
	}

	sec := Security{ClusterAuthMode: "x509", TLSMode: "requireTLS", TLSCertificateKeyFile: certs.ServerFile,
		TLSCAFile: certs.CAFile, TLSAllowConnectionsWithoutCertificates: true}
	a := startTestNode(t, Options{ReplSet: "rs0", Security: sec})
	b := startTestNode(t, Options{ReplSet: "rs0", Security: sec})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := a.dialPeer(ctx, b.Addr(), 2*time.Second)
	if err != nil {
		t.Fatalf("member dial with x509 cluster auth: %v", err)
	}
	defer c.Close()
	st, err := c.Command(ctx, bson.D{{Key: "connectionStatus", Value: 1}, {Key: "$db", Value: "admin"}}, 2*time.Second)
	if err != nil || authedUser(st) != "__system@local" {
		t.Fatalf("peer connection authenticated as %q (%v), want __system@local", authedUser(st), err)
	}
	// A client certificate from another OU is no member.
	other := filepath.Join(certs.Dir, "other.pem")
	if err := certs.Issue(other, pkix.Name{CommonName: "intruder", Organization: []string{"rsguard"}, OrganizationalUnit: []string{"clients"}}, 9); err != nil {
		t.Fatal(err)
	}
	x := a.client(t, options.Client().ApplyURI(a.uri()+"&tls=true&tlsCAFile="+url.QueryEscape(certs.CAFile)+
		"&tlsCertificateKeyFile="+url.QueryEscape(other)+"&authMechanism=MONGODB-X509"))
	if _, err := runCmd(x, "admin", bson.D{{Key: "ping", Value: 1}}); err == nil || !strings.Contains(err.Error(), "Authentication failed") {
		t.Fatalf("non-member certificate without a $external user: %v, want AuthenticationFailed", err)
	}
}

// TestKeyFileRollover: during a key rotation a member whose file lists the new and the old key
// still talks to members that only know the old one, in both directions: the server accepts
// either key, the client tries its keys in turn (security_key.cpp alternateCredentials,
// client/internal_auth.cpp).
func TestKeyFileRollover(t *testing.T) {
	dir := t.TempDir()
	oldOnly := filepath.Join(dir, "old")
	both := filepath.Join(dir, "both")
	newOnly := filepath.Join(dir, "new")
	for p, content := range map[string]string{oldOnly: "b2xkLWtleS12YWx1ZQ==\n", both: "- bmV3LWtleS12YWx1ZQ==\n- b2xkLWtleS12YWx1ZQ==\n",
		newOnly: "bmV3LWtleS12YWx1ZQ==\n"} {
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	a := startTestNode(t, Options{ReplSet: "rs0", Security: Security{KeyFile: oldOnly}})
	b := startTestNode(t, Options{ReplSet: "rs0", Security: Security{KeyFile: both}})
	c := startTestNode(t, Options{ReplSet: "rs0", Security: Security{KeyFile: newOnly}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, pair := range []struct {
		from, to *testNode
		ok       bool
	}{{a, b, true}, {b, a, true}, {c, b, true}, {b, c, true}, {a, c, false}, {c, a, false}} {
		cl, err := pair.from.dialPeer(ctx, pair.to.Addr(), 3*time.Second)
		if (err == nil) != pair.ok {
			t.Errorf("%s -> %s: %v, want ok=%v", pair.from.Addr(), pair.to.Addr(), err, pair.ok)
		}
		if cl != nil {
			_ = cl.Close()
		}
	}
}
