package mongoemu

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
	"github.com/rsguard/rsguard/mongoemu/storage"
	"github.com/rsguard/rsguard/mongoemu/wire"
)

// statePoller records every distinct member state a client sees (replSetGetStatus.myState over
// fresh connections), from the moment the port is bound.
type statePoller struct {
	mu   sync.Mutex
	seen []string
	stop chan struct{}
	done chan struct{}
}

func pollStates(addr string) *statePoller {
	p := &statePoller{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		var c *wire.Client
		for {
			select {
			case <-p.stop:
				if c != nil {
					_ = c.Close()
				}
				return
			default:
			}
			if c == nil {
				var err error
				if c, err = wire.Dial(context.Background(), addr, 200*time.Millisecond); err != nil {
					c = nil
					time.Sleep(2 * time.Millisecond)
					continue
				}
			}
			reply, err := c.Command(context.Background(), bson.D{{Key: "replSetGetStatus", Value: 1}, {Key: "$db", Value: "admin"}}, time.Second)
			if err != nil {
				_ = c.Close()
				c = nil
				continue
			}
			st := memberState(i32(reply, "myState")).String()
			p.mu.Lock()
			if len(p.seen) == 0 || p.seen[len(p.seen)-1] != st {
				p.seen = append(p.seen, st)
			}
			p.mu.Unlock()
			time.Sleep(2 * time.Millisecond)
		}
	}()
	return p
}

func (p *statePoller) states() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.seen)
}

func (p *statePoller) close() { close(p.stop); <-p.done }

// inStartupOrder: every state seen comes later in STARTUP, STARTUP2, RECOVERING, SECONDARY than
// the one before.
func inStartupOrder(seen []string) bool {
	order := []string{"STARTUP", "STARTUP2", "RECOVERING", "SECONDARY"}
	last := -1
	for _, s := range seen {
		i := slices.Index(order, s)
		if i <= last {
			return false
		}
		last = i
	}
	return true
}

func rbidOf(t *testing.T, tn *testNode) int32 {
	t.Helper()
	reply, err := runAdmin(t, tn.client(t), bson.D{{Key: "replSetGetRBID", Value: 1}})
	if err != nil {
		t.Fatal(err)
	}
	return i32(reply, "rbid")
}

// TestRestartAfterUncleanShutdown: a member restarted after a crash bumps its rollback ID
// (replication_coordinator_impl.cpp _startLoadLocalConfig, log 501401; the crash is detected by
// a non-empty mongod.lock, log 22271), and a client polling it sees STARTUP, STARTUP2,
// RECOVERING, SECONDARY in that order; started with failpoint.rsSyncApplyStop (how mongod's
// tests hold a restarted node) it stays RECOVERING, because the applier pauses before
// finishRecoveryIfEligible, until the fail point is turned off. A clean restart keeps the RBID.
func TestRestartAfterUncleanShutdown(t *testing.T) {
	ts := startTestSet(t, 3, 0, fastSettings)
	p := ts.waitPrimary(20 * time.Second)
	maj := ts.clients[p].Database("t").Collection("c", options.Collection().SetWriteConcern(writeconcern.Majority()))
	if _, err := maj.InsertOne(context.Background(), bson.D{{Key: "_id", Value: 1}}); err != nil {
		t.Fatal(err)
	}
	s := (p + 1) % 3
	old := ts.nodes[s]
	rbid := rbidOf(t, old)
	dbpath, port := old.opts.DBPath, old.Port()
	restart := func(params map[string]string) *testNode {
		o := Options{ReplSet: "rs0", DBPath: dbpath, Port: port, Parameters: map[string]string{"enableTestCommands": "1"}}
		for k, v := range params {
			o.Parameters[k] = v
		}
		return startTestNode(t, o)
	}

	// Clean stop and restart: the RBID stays.
	old.Stop(nil)
	tn := restart(nil)
	eventually(t, 20*time.Second, "SECONDARY after a clean restart", func() bool { st, _ := memberStateOf(tn); return st == stateSecondary })
	if got := rbidOf(t, tn); got != rbid {
		t.Fatalf("a clean restart changed the RBID from %d to %d", rbid, got)
	}

	// Crash: the lock file keeps the dead process's pid.
	tn.Stop(nil)
	if err := os.WriteFile(filepath.Join(dbpath, storage.LockFileName), []byte("4242\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	poll := pollStates(old.Addr())
	tn = restart(map[string]string{"failpoint.rsSyncApplyStop": `{"mode": "alwaysOn"}`})
	eventually(t, 20*time.Second, "RECOVERING held by rsSyncApplyStop", func() bool {
		seen := poll.states()
		return len(seen) > 0 && seen[len(seen)-1] == "RECOVERING"
	})
	time.Sleep(300 * time.Millisecond) // the hold must last, not be a passing state
	if st, _ := memberStateOf(tn); st != stateRecovering {
		t.Fatalf("with rsSyncApplyStop on, the restarted member left RECOVERING: %v", st)
	}
	if got := rbidOf(t, tn); got != rbid+1 {
		t.Fatalf("RBID after an unclean shutdown: got %d, want %d", got, rbid+1)
	}
	if !logHas(tn, 501401) || !logHas(tn, 22271) {
		t.Fatal("no 501401/22271 log line after an unclean shutdown")
	}
	if _, err := runAdmin(t, tn.client(t), bson.D{{Key: "configureFailPoint", Value: "rsSyncApplyStop"}, {Key: "mode", Value: "off"}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "SECONDARY once the applier runs", func() bool {
		seen := poll.states()
		return len(seen) > 0 && seen[len(seen)-1] == "SECONDARY"
	})
	poll.close()
	seen := poll.states()
	if !inStartupOrder(seen) || !slices.Contains(seen, "RECOVERING") {
		t.Fatalf("states seen during the restart: %v, want a subsequence of STARTUP, STARTUP2, RECOVERING, SECONDARY with RECOVERING", seen)
	}
	t.Logf("states seen by a polling client: %v", seen)
}

// TestStartupHidesConfigUntilInstalled: between opening and installing its stored config (after
// the listener is up, _finishLoadLocalConfig) a member is in STARTUP with no config: hello says
// "Does not have a valid replica set config" and heartbeats get NotYetInitialized (94,
// replication_coordinator_impl.cpp processHeartbeat), as on mongod in kConfigStartingUp.
func TestStartupHidesConfigUntilInstalled(t *testing.T) {
	tn := initiateSet(t, 1, 1000, func(nodes []*testNode) bool {
		st, writable := memberStateOf(nodes[0])
		return st == statePrimary && writable
	})[0]
	dbpath, port := tn.opts.DBPath, tn.Port()
	tn.Stop(nil)
	n, err := New(Options{ReplSet: "rs0", DBPath: dbpath, Port: port, BindIP: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	n.mu.Lock()
	st := n.repl.stateLocked()
	hello := n.repl.helloFieldsLocked(true)
	n.mu.Unlock()
	if st != stateStartup {
		t.Fatalf("before startup completes: state %v, want STARTUP", st)
	}
	helloRaw, _ := bson.Marshal(hello)
	if str(helloRaw, "info") != "Does not have a valid replica set config" || str(helloRaw, "setName") != "" {
		t.Fatalf("hello before the config is installed: %v", bson.Raw(helloRaw))
	}
	hb, _ := bson.Marshal(bson.D{{Key: "replSetHeartbeat", Value: "rs0"}, {Key: "from", Value: "127.0.0.1:1"}, {Key: "term", Value: int64(1)}})
	_, err = n.repl.handleHeartbeat(context.Background(), &request{cmd: hb, name: "replSetHeartbeat", db: "admin"})
	var me *mongoerr.Error
	if !errors.As(err, &me) || me.Code != 94 || me.Msg != "Received heartbeat while still initializing replication system" {
		t.Fatalf("heartbeat before the config is installed: want NotYetInitialized (94), got %v", err)
	}

	errc := make(chan error, 1)
	go func() { errc <- n.Serve(context.Background()) }()
	t.Cleanup(func() { n.Stop(nil); <-errc })
	eventually(t, 20*time.Second, "the config installed and PRIMARY again", func() bool {
		n.mu.Lock()
		defer n.mu.Unlock()
		return n.repl.cfg != nil && n.repl.stateLocked() == statePrimary
	})
}
