package e2e

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/rsguard/rsguard/e2e/harness"
)

// TestReplSetAuthTLS runs a 3-member set as production sets run (mongod 7.0 with --keyFile and
// --tlsMode requireTLS, a root user made through the localhost exception) and checks what the
// supervisor and applications rely on: users and built-in roles (db/auth/builtin_roles.yml) with
// mongod's refusals — "Authentication failed." (18) for a wrong password, "not authorized on
// <db> to execute command { ... }" (13) for a missing role (db/commands.cpp) — a member killed
// and restarted rejoining with the key file, and a member with the wrong key file kept out
// (every internal connection authenticates as __system: db/auth/security_key.cpp), both with
// the Go driver and with pymongo.
func TestReplSetAuthTLS(t *testing.T) {
	c := harness.NewCluster(t, harness.Options{Members: 3, Settings: fastSettings,
		Security: &harness.Security{KeyFile: true, TLS: true}})
	defer c.Timeline.Log(t)
	ctx := context.Background()
	p := c.WaitPrimary(t, 30*time.Second)

	root := c.MajorityClient(t)
	for _, u := range []bson.D{
		{{Key: "createUser", Value: "app"}, {Key: "pwd", Value: "app-pw"},
			{Key: "roles", Value: bson.A{bson.D{{Key: "role", Value: "readWrite"}, {Key: "db", Value: "app"}}}}},
		{{Key: "createUser", Value: "monitor"}, {Key: "pwd", Value: "mon-pw"}, {Key: "roles", Value: bson.A{"clusterMonitor"}}},
	} {
		if err := root.Database("admin").RunCommand(ctx, u).Err(); err != nil {
			t.Fatalf("%v: %v", u[0].Value, err)
		}
	}
	c.Timeline.Mark("users app (readWrite@app) and monitor (clusterMonitor) created")

	app := connectUser(t, c, "app", "app-pw")
	if _, err := app.Database("app").Collection("items").InsertOne(ctx, bson.D{{Key: "_id", Value: "a1"}}); err != nil {
		t.Fatalf("app insert: %v", err)
	}
	err := app.Database("admin").RunCommand(ctx, bson.D{{Key: "replSetGetStatus", Value: 1}}).Err()
	wantUnauthorized(t, "app replSetGetStatus", err, "not authorized on admin to execute command { replSetGetStatus: 1")
	mon := connectUser(t, c, "monitor", "mon-pw")
	if err := mon.Database("admin").RunCommand(ctx, bson.D{{Key: "replSetGetStatus", Value: 1}}).Err(); err != nil {
		t.Fatalf("monitor replSetGetStatus: %v", err)
	}
	_, err = mon.Database("app").Collection("items").InsertOne(ctx, bson.D{{Key: "_id", Value: "m1"}})
	wantUnauthorized(t, "monitor insert", err, `not authorized on app to execute command { insert: "items"`)
	bad := connectUser(t, c, "app", "wrong-pw")
	err = bad.Database("app").RunCommand(ctx, bson.D{{Key: "ping", Value: 1}}).Err()
	if err == nil || !strings.Contains(err.Error(), "Authentication failed.") {
		t.Fatalf("wrong password: %v, want AuthenticationFailed", err)
	}

	// A secondary killed and restarted rejoins with the key file and catches up.
	sec := c.Others(p)[0]
	c.Timeline.Zero("SIGKILL secondary %s", sec)
	if err := sec.Kill(); err != nil {
		t.Fatal(err)
	}
	if _, err := app.Database("app").Collection("items").InsertOne(ctx, bson.D{{Key: "_id", Value: "while-down"}}); err != nil {
		t.Fatalf("insert while %s is down: %v", sec, err)
	}
	if err := sec.Start(ctx); err != nil {
		t.Fatal(err)
	}
	c.WaitState(t, sec, "SECONDARY", 60*time.Second)
	waitDocsOn(t, []*harness.Host{sec}, "app", "items", []string{"a1", "while-down"}, nil, 30*time.Second)
	c.Timeline.Mark("%s rejoined with the key file", sec)

	// A member restarted with another key file cannot authenticate to its peers: the primary
	// sees it down and logs "Authentication failed" (20249) for __system.
	wrongKey := filepath.Join(t.TempDir(), "wrong-key")
	if err := harness.WriteKeyFile(wrongKey); err != nil {
		t.Fatal(err)
	}
	if err := sec.Stop(); err != nil {
		t.Fatal(err)
	}
	sec.SetKeyFile(wrongKey)
	if err := sec.Start(ctx); err != nil {
		t.Fatal(err)
	}
	c.Timeline.Mark("%s restarted with a wrong key file", sec)
	harness.WaitFor(t, 30*time.Second, "the primary to log a failed __system authentication", func(ctx context.Context) error {
		evs, err := logEvents(p, 20249)
		if err != nil {
			return err
		}
		for _, ev := range evs {
			if ev.Attr["principalName"] == "__system" {
				return nil
			}
		}
		return errors.New("no failed __system authentication yet")
	})
	secHealth := func(ctx context.Context) (float64, error) {
		ms, err := c.Members(ctx, p)
		if err != nil {
			return -1, err
		}
		for _, m := range ms {
			if m.Name == sec.HostPort() {
				return m.Health, nil
			}
		}
		return -1, errors.New("member missing from replSetGetStatus")
	}
	// Its last good heartbeat was from the old process, so it is marked down once the
	// heartbeats fail (retries or heartbeatTimeoutSecs), and it stays down.
	harness.WaitFor(t, 30*time.Second, sec.String()+" marked down by the primary", func(ctx context.Context) error {
		if h, err := secHealth(ctx); err != nil || h != 0 {
			return fmt.Errorf("health %v, %v", h, err)
		}
		return nil
	})
	holdFor(t, 3*time.Second, sec.String()+" kept out of the set", func(ctx context.Context) error {
		if h, err := secHealth(ctx); err == nil && h == 1 {
			return errors.New("the member with the wrong key file is seen healthy")
		}
		return nil
	})
	if _, err := app.Database("app").Collection("items").InsertOne(ctx, bson.D{{Key: "_id", Value: "while-locked-out"}}); err != nil {
		t.Fatalf("w:majority insert with one member locked out: %v", err)
	}
	// Back with the right key, it rejoins and gets the writes it missed.
	if err := sec.Stop(); err != nil {
		t.Fatal(err)
	}
	sec.SetKeyFile("")
	if err := sec.Start(ctx); err != nil {
		t.Fatal(err)
	}
	c.WaitState(t, sec, "SECONDARY", 60*time.Second)
	waitDocsOn(t, []*harness.Host{sec}, "app", "items", []string{"while-locked-out"}, nil, 30*time.Second)

	// pymongo against the same set: its own users, roles and refusals.
	py := pythonWithPymongo(t)
	seeds := make([]string, 0, 3)
	for _, h := range c.DataHosts() {
		seeds = append(seeds, h.HostPort())
	}
	pctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	rc := c.RootCredential()
	out, err := exec.CommandContext(pctx, py, "testdata/pymongo_auth_set.py", strings.Join(seeds, ","), "rs0",
		c.CAFile(), rc.Username, rc.Password).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "OK") {
		t.Fatalf("pymongo against the auth+TLS set: %v\n%s", err, out)
	}
}

func connectUser(t *testing.T, c *harness.Cluster, user, pwd string) *mongo.Client {
	t.Helper()
	cl, err := mongo.Connect(c.UserClientOptions(user, pwd))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = cl.Disconnect(ctx)
	})
	return cl
}

func wantUnauthorized(t *testing.T, what string, err error, msg string) {
	t.Helper()
	var ce mongo.CommandError
	var we mongo.WriteException
	switch {
	case errors.As(err, &ce) && ce.Code == 13 && strings.Contains(ce.Message, msg):
	case errors.As(err, &we) && codeOf(err) == 13 && strings.Contains(err.Error(), msg):
	default:
		t.Fatalf("%s: %v, want Unauthorized (13) %q", what, err, msg)
	}
}

// pythonWithPymongo finds an interpreter that imports pymongo (.ci/run installs python3-pymongo).
func pythonWithPymongo(t *testing.T) string {
	t.Helper()
	for _, py := range []string{"python3", "/usr/bin/python3"} {
		path, err := exec.LookPath(py)
		if err != nil {
			continue
		}
		if exec.Command(path, "-c", "import pymongo").Run() == nil {
			return path
		}
	}
	t.Skip("pymongo is not importable; install python3-pymongo to run the pymongo half")
	return ""
}
