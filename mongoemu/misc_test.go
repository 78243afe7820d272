package mongoemu

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// runAdmin runs a command on the admin database through the official driver.
func runAdmin(t *testing.T, c *mongo.Client, cmd bson.D) (bson.Raw, error) {
	t.Helper()
	return c.Database("admin").RunCommand(testCtx(t), cmd).Raw()
}

// str, i32, boolean read a reply field by path; a missing or differently typed field is zero.
func str(d bson.Raw, path ...string) string { s, _ := d.Lookup(path...).StringValueOK(); return s }
func i32(d bson.Raw, path ...string) int32  { v, _ := d.Lookup(path...).Int32OK(); return v }
func boolean(d bson.Raw, path ...string) bool {
	b, _ := d.Lookup(path...).BooleanOK()
	return b
}
func arrayLen(d bson.Raw, path ...string) int {
	a, ok := d.Lookup(path...).ArrayOK()
	if !ok {
		return -1
	}
	vals, _ := a.Values()
	return len(vals)
}

// wantCode asserts err is a server error with the code (and, if given, message fragment).
func wantCode(t *testing.T, err error, code int32, msg string) {
	t.Helper()
	var ce mongo.CommandError
	if !errors.As(err, &ce) {
		t.Fatalf("want command error %d, got %v", code, err)
	}
	if ce.Code != code || !strings.Contains(ce.Message, msg) {
		t.Fatalf("want code %d with %q, got %d %q", code, msg, ce.Code, ce.Message)
	}
}

func TestMiscServerInfoCommands(t *testing.T) {
	tn := startTestNode(t, Options{})
	c := tn.client(t)
	bi, err := runAdmin(t, c, bson.D{{Key: "buildinfo", Value: 1}}) // the lower-case alias
	if err != nil || str(bi, "version") != serverVersion {
		t.Fatalf("buildinfo: %v %v", bi, err)
	}
	_, err = runAdmin(t, c, bson.D{{Key: "isdbgrid", Value: 1}})
	wantCode(t, err, 59, "no such command: 'isdbgrid'")

	me, err := runAdmin(t, c, bson.D{{Key: "whatsmyuri", Value: 1}})
	if err != nil || !strings.HasPrefix(str(me, "you"), "127.0.0.1:") {
		t.Fatalf("whatsmyuri: %v %v", me, err)
	}
	cs, err := runAdmin(t, c, bson.D{{Key: "connectionStatus", Value: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if arrayLen(cs, "authInfo", "authenticatedUsers") != 0 || arrayLen(cs, "authInfo", "authenticatedUserRoles") != 0 {
		t.Fatalf("connectionStatus: %v", cs)
	}
	hi, err := runAdmin(t, c, bson.D{{Key: "hostInfo", Value: 1}})
	if err != nil || i32(hi, "system", "cpuAddrSize") != 64 || str(hi, "os", "type") != "Linux" {
		t.Fatalf("hostInfo: %v %v", hi, err)
	}
	opts, err := runAdmin(t, c, bson.D{{Key: "getCmdLineOpts", Value: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if str(opts, "parsed", "storage", "dbPath") != tn.opts.DBPath || i32(opts, "parsed", "net", "port") != int32(tn.Port()) {
		t.Fatalf("getCmdLineOpts: %v", opts)
	}
	lc, err := runAdmin(t, c, bson.D{{Key: "listCommands", Value: 1}})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"hello", "ping", "serverStatus", "shutdown", "replSetGetStatus"} {
		if _, err := lc.LookupErr("commands", name); err != nil {
			t.Errorf("listCommands lacks %s", name)
		}
	}
	if _, err := lc.LookupErr("commands", "configureFailPoint"); err == nil {
		t.Errorf("listCommands shows configureFailPoint without enableTestCommands")
	}
	for _, name := range []string{"endSessions", "killAllSessions", "refreshSessions"} {
		if _, err := runAdmin(t, c, bson.D{{Key: name, Value: bson.A{}}}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	// Admin-only commands refuse other databases.
	err = c.Database("test").RunCommand(testCtx(t), bson.D{{Key: "getParameter", Value: "*"}}).Err()
	wantCode(t, err, 13, "may only be run against the admin database")
}

func TestMiscParameters(t *testing.T) {
	tn := startTestNode(t, Options{Parameters: map[string]string{"enableTestCommands": "1"}})
	c := tn.client(t)
	got, err := runAdmin(t, c, bson.D{{Key: "getParameter", Value: 1}, {Key: "enableElectionHandoff", Value: 1}, {Key: "noSuch", Value: 1}})
	if err != nil || !boolean(got, "enableElectionHandoff") || got.Lookup("noSuch").Type != 0 {
		t.Fatalf("getParameter: %v %v", got, err)
	}
	_, err = runAdmin(t, c, bson.D{{Key: "getParameter", Value: 1}, {Key: "noSuch", Value: 1}})
	wantCode(t, err, 72, "no option found to get")
	fcv, err := runAdmin(t, c, bson.D{{Key: "getParameter", Value: 1}, {Key: "featureCompatibilityVersion", Value: 1}})
	if err != nil || str(fcv, "featureCompatibilityVersion", "version") != "7.0" {
		t.Fatalf("fcv: %v %v", fcv, err)
	}
	all, err := runAdmin(t, c, bson.D{{Key: "getParameter", Value: "*"}})
	if err != nil || !boolean(all, "enableTestCommands") || i32(all, "shutdownTimeoutMillisForSignaledShutdown") != 15000 ||
		str(all, "featureCompatibilityVersion", "version") != "7.0" {
		t.Fatalf("getParameter *: %v %v", all, err)
	}
	was, err := runAdmin(t, c, bson.D{{Key: "setParameter", Value: 1}, {Key: "shutdownTimeoutMillisForSignaledShutdown", Value: 500}})
	if err != nil || i32(was, "was") != 15000 {
		t.Fatalf("setParameter: %v %v", was, err)
	}
	now, _ := runAdmin(t, c, bson.D{{Key: "getParameter", Value: 1}, {Key: "shutdownTimeoutMillisForSignaledShutdown", Value: 1}})
	if i32(now, "shutdownTimeoutMillisForSignaledShutdown") != 500 {
		t.Fatalf("setParameter did not stick: %v", now)
	}
	_, err = runAdmin(t, c, bson.D{{Key: "setParameter", Value: 1}, {Key: "enableTestCommands", Value: false}})
	wantCode(t, err, 20, "not allowed to change [enableTestCommands] at runtime")
	_, err = runAdmin(t, c, bson.D{{Key: "setParameter", Value: 1}, {Key: "noSuch", Value: 1}})
	wantCode(t, err, 72, "unrecognized parameter")
	_, err = runAdmin(t, c, bson.D{{Key: "setParameter", Value: 1}})
	wantCode(t, err, 72, "no option found to set")
}

func TestMiscGetLog(t *testing.T) {
	tn := startTestNode(t, Options{})
	c := tn.client(t)
	names, err := runAdmin(t, c, bson.D{{Key: "getLog", Value: "*"}})
	if err != nil || arrayLen(names, "names") != 2 {
		t.Fatalf("getLog *: %v %v", names, err)
	}
	g, err := runAdmin(t, c, bson.D{{Key: "getLog", Value: "global"}})
	if err != nil {
		t.Fatal(err)
	}
	lines, _ := g.Lookup("log").Array().Values()
	if i32(g, "totalLinesWritten") < 1 || len(lines) == 0 {
		t.Fatalf("getLog global: %v", g)
	}
	found := false
	for _, l := range lines {
		var line struct {
			S, C, Msg string
			ID        int
		}
		if err := bson.UnmarshalExtJSON([]byte(l.StringValue()), false, &line); err != nil {
			t.Fatalf("log line is not extended JSON: %q: %v", l, err)
		}
		found = found || (line.ID == 23016 && line.Msg == "Waiting for connections")
	}
	if !found {
		t.Fatalf("getLog global lacks 'Waiting for connections': %v", lines)
	}
	sw, err := runAdmin(t, c, bson.D{{Key: "getLog", Value: "startupWarnings"}})
	if err != nil || arrayLen(sw, "log") < 0 {
		t.Fatalf("startupWarnings: %v %v", sw, err)
	}
	_, err = runAdmin(t, c, bson.D{{Key: "getLog", Value: 1}})
	wantCode(t, err, 14, "Argument to getLog must be of type String")
}
