package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/e2e/harness"
	"github.com/rsguard/rsguard/election"
	"github.com/rsguard/rsguard/supervisor"
)

// TestAuthTLSFailoverWithArbiterSidecar is the issue's done-when "an auth + TLS set with an
// arbiter sidecar: kill-primary failover works". Three data members run as production sets do (--keyFile, --tlsMode requireTLS, a root user), with MongoDB's default
// election settings. The data sidecars log in with the root user over TLS; the arbiter sidecar
// runs on its own address (the harness leases it with an arbiter mongod, removed from the set
// and stopped before the sidecars start), has the lowest id, so it coordinates, and runs without credentials (it only probes and must
// never be addressed an action) or with a credentials section. SIGKILL of the primary's mongod
// must end with rsguard's replSetStepUp executed by the new primary's own sidecar (audit) and a
// new writable primary taking w:"majority" writes, well before MongoDB's own election would
// (electionTimeoutMillis 10 s): the step-up is rsguard's, not the set's.
func TestAuthTLSFailoverWithArbiterSidecar(t *testing.T) {
	_, supBin := harness.BuildOnce(t)
	for _, withCreds := range []bool{false, true} {
		name := "arbiter_sidecar_without_credentials"
		if withCreds {
			name = "arbiter_sidecar_with_credentials"
		}
		t.Run(name, func(t *testing.T) { authFailover(t, supBin, withCreds) })
	}
}

func authFailover(t *testing.T, supBin string, arbiterCreds bool) {
	c := harness.NewCluster(t, harness.Options{Members: 3, Arbiters: 1, Timeout: 90 * time.Second,
		Security: &harness.Security{KeyFile: true, TLS: true}})
	defer c.Timeline.Log(t)
	hosts := c.Hosts()
	dropArbiterMongod(t, c, hosts[3])
	cars := newSidecars(t, supBin, "rs0", c.DataHosts(), hosts[3:], sidecarOpts{})
	arb := cars.ByHost(hosts[3])
	if arb == nil || arb.Mode != "arbiter" || arb.ID >= cars.cars[0].ID {
		t.Fatalf("the arbiter sidecar must have the lowest id (test premise): %+v", arb)
	}
	secureSidecars(t, c, cars, arbiterCreds)
	cars.Start(t)
	cars.WaitSettled(t, 90*time.Second)
	for _, car := range cars.cars {
		if r, err := cars.Status(context.Background(), car); err != nil || r.Coordinator != arb.ID {
			t.Fatalf("%s: coordinator %q (%v), want the arbiter sidecar %s", car.ID, r.Coordinator, err, arb.ID)
		}
	}

	ctx := context.Background()
	cl := c.MajorityClient(t)
	coll := cl.Database("app").Collection("auth_failover")
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "before"}}); err != nil {
		t.Fatalf("w:majority insert before the kill: %v", err)
	}
	p := c.WaitPrimary(t, 30*time.Second)
	c.Timeline.Zero("SIGKILL primary %s", p)
	t0 := time.Now()
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	var np *harness.Host
	harness.WaitFor(t, 45*time.Second, "a new primary", func(ctx context.Context) error {
		h, err := c.Primary(ctx)
		if err != nil {
			return err
		}
		if h == p {
			return errors.New("still the killed primary")
		}
		np = h
		return nil
	})
	c.Timeline.Mark("new primary %s", np)
	harness.WaitFor(t, 45*time.Second, "a w:majority write on the new primary", func(ctx context.Context) error {
		_, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "after"}})
		return err
	})
	took := time.Since(t0)
	c.Timeline.Mark("w:majority write acknowledged")
	t.Logf("SIGKILL -> new primary %s -> first w:majority write: %s", np, took.Round(time.Millisecond))
	cars.LogAudit(t, t0)

	own := cars.ByHost(np)
	var stepUp *supervisor.AuditRecord
	harness.WaitFor(t, 10*time.Second, "the step-up's audit line", func(context.Context) error {
		for _, r := range cars.Executed(t, t0) {
			if r.Decision.Action == election.StepUp && r.Decision.Target == np.HostPort() && r.Result == supervisor.ResultExecuted {
				stepUp = &r
				return nil
			}
		}
		return fmt.Errorf("no executed step-up of %s audited yet", np)
	})
	if stepUp.Sidecar != own.ID || stepUp.Decision.Executor != own.ID || stepUp.Coordinator != arb.ID {
		t.Errorf("step-up audited by %s (executor %q, coordinator %q), want %s's own sidecar %s with coordinator %s",
			stepUp.Sidecar, stepUp.Decision.Executor, stepUp.Coordinator, np, own.ID, arb.ID)
	}
	for _, r := range cars.Executed(t, t0) {
		if r.Sidecar == arb.ID {
			t.Errorf("the arbiter sidecar executed %s on %s (%s)", r.Decision.Action, r.Decision.Target, r.Result)
		}
		if strings.HasPrefix(r.Result, "failed") {
			t.Errorf("%s: %s %s failed: %s", r.Sidecar, r.Decision.Action, r.Decision.Target, r.Result)
		}
	}
}

// secureSidecars adds the root user's credentials and the test CA to the data sidecars' mongod
// sections and, when arbiterCreds, a credentials section to the arbiter sidecar's file.
func secureSidecars(t *testing.T, c *harness.Cluster, cars *sidecarSet, arbiterCreds bool) {
	t.Helper()
	cred := c.RootCredential()
	pwFile := filepath.Join(t.TempDir(), "mongo.pass")
	if err := os.WriteFile(pwFile, []byte(cred.Password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	login := fmt.Sprintf("  username: %s\n  password_file: %q\n  auth_source: admin\n  tls: {ca_file: %q}\n",
		cred.Username, pwFile, c.CAFile())
	for _, car := range cars.cars {
		raw, err := os.ReadFile(car.Config)
		if err != nil {
			t.Fatal(err)
		}
		text := string(raw)
		switch {
		case car.Mode == "data":
			uri := fmt.Sprintf("  uri: mongodb://%s/?directConnection=true\n", car.Host.HostPort())
			if strings.Count(text, uri) != 1 {
				t.Fatalf("%s: no mongod.uri line %q in\n%s", car.ID, uri, text)
			}
			text = strings.Replace(text, uri, uri+login, 1)
		case arbiterCreds:
			text += "credentials:\n" + login
		}
		if err := os.WriteFile(car.Config, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// dropArbiterMongod removes the arbiter mongod the harness started on h from the set and stops
// it, leaving h as a bare address for the arbiter sidecar: with three data members and an arbiter,
// w:"majority" would need all three data members once one is killed (spec: the write majority
// counts data-bearing voters).
func dropArbiterMongod(t *testing.T, c *harness.Cluster, h *harness.Host) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	admin := c.MajorityClient(t).Database("admin")
	var got struct {
		Config bson.M `bson:"config"`
	}
	if err := admin.RunCommand(ctx, bson.D{{Key: "replSetGetConfig", Value: 1}}).Decode(&got); err != nil {
		t.Fatalf("replSetGetConfig: %v", err)
	}
	cfg := got.Config
	var keep bson.A
	for _, m := range cfg["members"].(bson.A) {
		raw, err := bson.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if host, _ := bson.Raw(raw).Lookup("host").StringValueOK(); host != h.HostPort() {
			keep = append(keep, m)
		}
	}
	v, err := asInt64(cfg["version"])
	if err != nil {
		t.Fatal(err)
	}
	cfg["members"], cfg["version"] = keep, v+1
	// Dropping the arbiter changes the implicit default write concern, which mongod refuses
	// unless a cluster-wide default is set (NewReplicaSetConfigurationIncompatible).
	if err := admin.RunCommand(ctx, bson.D{{Key: "setDefaultRWConcern", Value: 1},
		{Key: "defaultWriteConcern", Value: bson.D{{Key: "w", Value: "majority"}}}}).Err(); err != nil {
		t.Fatalf("setDefaultRWConcern: %v", err)
	}
	if err := admin.RunCommand(ctx, bson.D{{Key: "replSetReconfig", Value: cfg}}).Err(); err != nil {
		t.Fatalf("replSetReconfig without %s: %v", h, err)
	}
	if err := h.Kill(); err != nil {
		t.Fatal(err)
	}
	c.Timeline.Mark("arbiter mongod %s removed from the set and stopped: %s is the arbiter sidecar's bare address", h, h.Addr)
	// Every data member must have installed the new config before the sidecars start: a hello
	// that still names the removed arbiter would make them count it as a voter.
	harness.WaitFor(t, 60*time.Second, "the three data members healthy on the new config", func(ctx context.Context) error {
		if _, err := c.HealthyOf(ctx, c.DataHosts()); err != nil {
			return err
		}
		for _, d := range c.DataHosts() {
			raw, err := d.Command(ctx, bson.D{{Key: "hello", Value: 1}})
			if err != nil {
				return err
			}
			sv, _ := raw.Lookup("setVersion").AsInt64OK()
			if _, named := raw.Lookup("arbiters").ArrayOK(); named || sv != v+1 {
				return fmt.Errorf("%s: setVersion %d, arbiters listed %v", d, sv, named)
			}
		}
		return nil
	})
}
