package e2e

import (
	"context"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/e2e/harness"
)

var memberStateNames = map[int32]string{0: "STARTUP", 1: "PRIMARY", 2: "SECONDARY", 3: "RECOVERING", 5: "STARTUP2", 6: "UNKNOWN", 7: "ARBITER", 8: "DOWN", 9: "ROLLBACK", 10: "REMOVED"}

// TestReplSetCrashRestart: a SIGKILLed secondary restarted on its dbpath increments its rollback
// ID (replication_coordinator_impl.cpp, log 501401) and a client polling it sees its states in
// mongod's order, STARTUP, STARTUP2, RECOVERING, SECONDARY; started with
// failpoint.rsSyncApplyStop it is held in RECOVERING until the fail point is turned off.
func TestReplSetCrashRestart(t *testing.T) {
	c := harness.NewCluster(t, harness.Options{Members: 3, Settings: fastSettings})
	defer c.Timeline.Log(t)
	p := c.WaitPrimary(t, 30*time.Second)
	ctx := context.Background()
	if _, err := c.MajorityClient(t).Database("restart").Collection("c").InsertOne(ctx, bson.D{{Key: "_id", Value: 1}}); err != nil {
		t.Fatal(err)
	}
	s := c.Others(p)[0]
	rbid := func() int32 {
		t.Helper()
		raw, err := s.Command(ctx, bson.D{{Key: "replSetGetRBID", Value: 1}})
		if err != nil {
			t.Fatal(err)
		}
		return raw.Lookup("rbid").Int32()
	}
	before := rbid()
	if err := s.Kill(); err != nil {
		t.Fatal(err)
	}
	s.SetStartupParameter("failpoint.rsSyncApplyStop", `{"mode":"alwaysOn"}`)
	defer s.SetStartupParameter("failpoint.rsSyncApplyStop", "")

	var mu sync.Mutex
	var seen []string
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { // poll from the moment the process starts
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			pctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
			raw, err := s.Command(pctx, bson.D{{Key: "replSetGetStatus", Value: 1}})
			cancel()
			if err == nil {
				st := memberStateNames[raw.Lookup("myState").Int32()]
				mu.Lock()
				if len(seen) == 0 || seen[len(seen)-1] != st {
					seen = append(seen, st)
				}
				mu.Unlock()
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	last := func() string {
		mu.Lock()
		defer mu.Unlock()
		if len(seen) == 0 {
			return ""
		}
		return seen[len(seen)-1]
	}
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if t.Failed() {
			t.Log(s.LogTail(80))
		}
	}()
	harness.WaitFor(t, 20*time.Second, "the restarted member held in RECOVERING", func(context.Context) error {
		if last() != "RECOVERING" {
			return errState(last())
		}
		return nil
	})
	if got := rbid(); got != before+1 {
		t.Fatalf("RBID after SIGKILL and restart: got %d, want %d", got, before+1)
	}
	if _, err := s.Command(ctx, bson.D{{Key: "configureFailPoint", Value: "rsSyncApplyStop"}, {Key: "mode", Value: "off"}}); err != nil {
		t.Fatal(err)
	}
	harness.WaitFor(t, 20*time.Second, "SECONDARY once the applier runs", func(context.Context) error {
		if last() != "SECONDARY" {
			return errState(last())
		}
		return nil
	})
	close(stop)
	<-done
	order := []string{"STARTUP", "STARTUP2", "RECOVERING", "SECONDARY"}
	prev := -1
	for _, st := range seen {
		i := slices.Index(order, st)
		if i <= prev {
			t.Fatalf("states seen during the restart out of mongod's order: %v", seen)
		}
		prev = i
	}
	t.Logf("states seen by a polling client: %v", seen)
	logText, err := os.ReadFile(s.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(logText), `"id":501401`) {
		t.Fatalf("no 501401 (Incrementing the rollback ID after unclean shutdown) in %s", s.LogPath)
	}
}

type errState string

func (e errState) Error() string { return "state is " + string(e) }
