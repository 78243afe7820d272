package e2e

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver"

	"github.com/rsguard/rsguard/e2e/harness"
)

// rstlCap is the fassertOnLockTimeoutForStepUpDown of this test (mongod's default is 15 s).
const rstlCap = 5 * time.Second

// TestReplSetRSTLFsyncLockedPrimary: an fsyncLocked primary holds the replication state transition
// lock (RSTL) in IX for as long as it is locked (commands/fsync.cpp takes the global lock in S),
// so no state transition can take it in X:
//
//  1. replSetStepDown fails with LockTimeout (24) once secondaryCatchUpPeriodSecs pass
//     (replication_coordinator_impl.cpp stepDown, locker_impl.cpp _lockComplete);
//  2. once another member is stepped up, the old primary learns of the new term and starts its
//     stepdown: the kill-op step interrupts the retryable write blocked behind fsyncLock with
//     InterruptedDueToReplStateChange (11602), at once, and the driver retries it on the new
//     primary (auto_get_rstl_for_stepup_stepdown.cpp, kill_sessions_local.cpp);
//  3. the stepdown cannot get the RSTL: when fassertOnLockTimeoutForStepUpDown (here 5 s,
//     through --setParameter) passes, the node logs 5675600 and aborts: the process is gone,
//     killed by SIGABRT.
func TestReplSetRSTLFsyncLockedPrimary(t *testing.T) {
	c := harness.NewCluster(t, harness.Options{Members: 3, Settings: fastSettings,
		ExtraParams: map[string]string{"fassertOnLockTimeoutForStepUpDown": "5"}})
	defer c.Timeline.Log(t)
	ctx := context.Background()
	p := c.WaitPrimary(t, 30*time.Second)
	mon := &insertEvents{}
	cl, err := mongo.Connect(options.Client().ApplyURI(c.URI()).
		SetWriteConcern(writeconcern.W1()).SetRetryWrites(true).
		SetServerSelectionTimeout(10 * time.Second).SetHeartbeatInterval(500 * time.Millisecond).
		SetMonitor(mon.monitor()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		dctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = cl.Disconnect(dctx)
	})
	coll := cl.Database("rs").Collection("rstl")
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "before"}}); err != nil {
		t.Fatal(err)
	}

	mustCommand(t, p, bson.D{{Key: "fsync", Value: 1}, {Key: "lock", Value: true}})
	c.Timeline.Mark("fsyncLock on the primary %s", p)

	// 1. replSetStepDown cannot take the RSTL.
	start := time.Now()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	_, err = p.Command(sctx, bson.D{{Key: "replSetStepDown", Value: 60}, {Key: "secondaryCatchUpPeriodSecs", Value: 2}})
	cancel()
	took := time.Since(start)
	c.Timeline.Mark("replSetStepDown {60, secondaryCatchUpPeriodSecs: 2} answered after %.2fs: %v", took.Seconds(), err)
	wantCode(t, "replSetStepDown on the fsyncLocked primary", err, 24)
	if took < 1900*time.Millisecond || took > 6*time.Second {
		t.Errorf("replSetStepDown answered after %v, want about secondaryCatchUpPeriodSecs (2s)", took)
	}

	// 2. A retryable write blocks behind fsyncLock; another member steps up.
	type result struct {
		err error
		at  time.Time
	}
	written := make(chan result, 1)
	go func() {
		wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		_, err := coll.InsertOne(wctx, bson.D{{Key: "_id", Value: "during"}})
		written <- result{err, time.Now()}
	}()
	harness.WaitFor(t, 5*time.Second, "the insert sent to "+p.String(), func(context.Context) error {
		if !mon.started(p.HostPort()) {
			return errors.New("not sent yet")
		}
		return nil
	})
	select {
	case r := <-written:
		t.Fatalf("the write on the fsyncLocked primary returned: %v", r.err)
	default:
	}
	s := c.Others(p)[0]
	var stepUp time.Time // the attempt that won: an election can be lost on a loaded machine
	harness.WaitFor(t, 15*time.Second, "replSetStepUp on "+s.String(), func(ctx context.Context) error {
		stepUp = time.Now()
		_, err := s.Command(ctx, bson.D{{Key: "replSetStepUp", Value: 1}})
		return err
	})
	c.Timeline.Mark("replSetStepUp on %s", s)

	var r result
	select {
	case r = <-written:
	case <-time.After(30 * time.Second):
		t.Fatal("the write is still blocked 30s after the stepup")
	}
	if r.err != nil {
		t.Fatalf("the retryable write: %v", r.err)
	}
	failAt, failErr, ok := mon.failedOn(p.HostPort())
	if !ok {
		t.Fatalf("the write on %s was never answered with an error", p)
	}
	c.Timeline.Mark("+%.3fs the blocked write on %s failed: %v", failAt.Sub(stepUp).Seconds(), p, failErr)
	if code, network := failureOf(failErr); code != 11602 && !network {
		t.Errorf("the blocked write failed with %v (code %d), want 11602 or a network error", failErr, code)
	}
	if d := failAt.Sub(stepUp); d > time.Second {
		t.Errorf("the blocked write was interrupted %v after the stepup, want within a second", d)
	}
	okAt, ok := mon.succeededOn(s.HostPort())
	if !ok {
		t.Errorf("the retried write did not land on the new primary %s", s)
	}
	c.Timeline.Mark("+%.3fs the retry succeeded on %s; the driver returned +%.3fs", okAt.Sub(stepUp).Seconds(), s, r.at.Sub(stepUp).Seconds())
	if np := c.WaitPrimary(t, 10*time.Second, p); np != s {
		t.Errorf("new primary %s, want %s", np, s)
	}

	// 3. The old primary aborts when the cap passes.
	select {
	case <-p.Proc().Done():
	case <-time.After(rstlCap + 10*time.Second):
		t.Fatalf("%s still running %v after the stepup (cap %v)", p, time.Since(stepUp), rstlCap)
	}
	gone := time.Since(stepUp)
	state := p.Proc().ExitState()
	c.Timeline.Mark("+%.2fs %s exited: %s", gone.Seconds(), p, state)
	if !strings.Contains(state, "aborted") {
		t.Errorf("%s ended with %q, want death by SIGABRT (abort())", p, state)
	}
	if gone < rstlCap-time.Second {
		t.Errorf("%s aborted %v after the stepup, before the %v cap", p, gone, rstlCap)
	}
	if !strings.Contains(p.LogTail(200), `"id":5675600`) {
		t.Errorf("%s's log lacks the fatal line 5675600:\n%s", p, p.LogTail(20))
	}
	if nc, err := net.DialTimeout("tcp", p.HostPort(), time.Second); err == nil {
		_ = nc.Close()
		t.Errorf("%s still accepts connections after its abort", p)
	}
	t.Logf("replSetStepDown LockTimeout after %v; blocked write interrupted %v after the stepup (%v), retried on %s at %v; old primary gone after %v (%s)",
		took, failAt.Sub(stepUp), failErr, s, okAt.Sub(stepUp), gone, state)
}

// failureOf reads a CommandFailedEvent's failure (the driver's own error type): the server's code,
// or whether it was a network error.
func failureOf(err error) (code int32, network bool) {
	var de driver.Error
	if errors.As(err, &de) {
		return de.Code, de.NetworkError()
	}
	return 0, false
}

// insertEvents records, per server, when insert commands were sent, failed and succeeded.
type insertEvents struct {
	mu        sync.Mutex
	sent      map[string]bool
	failAt    map[string]time.Time
	failErr   map[string]error
	succeeded map[string]time.Time
}

func hostOf(connID string) string {
	// "host:port[-N]": the driver's connection id starts with the server address.
	if i := strings.LastIndex(connID, "["); i > 0 {
		return connID[:i]
	}
	return connID
}

func (m *insertEvents) monitor() *event.CommandMonitor {
	m.sent, m.failAt, m.failErr, m.succeeded = map[string]bool{}, map[string]time.Time{}, map[string]error{}, map[string]time.Time{}
	return &event.CommandMonitor{
		Started: func(_ context.Context, e *event.CommandStartedEvent) {
			if e.CommandName == "insert" {
				m.mu.Lock()
				m.sent[hostOf(e.ConnectionID)] = true
				m.mu.Unlock()
			}
		},
		Succeeded: func(_ context.Context, e *event.CommandSucceededEvent) {
			if e.CommandName == "insert" {
				m.mu.Lock()
				m.succeeded[hostOf(e.ConnectionID)] = time.Now()
				m.mu.Unlock()
			}
		},
		Failed: func(_ context.Context, e *event.CommandFailedEvent) {
			if e.CommandName == "insert" {
				m.mu.Lock()
				h := hostOf(e.ConnectionID)
				if _, seen := m.failAt[h]; !seen {
					m.failAt[h], m.failErr[h] = time.Now(), e.Failure
				}
				m.mu.Unlock()
			}
		},
	}
}

func (m *insertEvents) started(host string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sent[host]
}

func (m *insertEvents) failedOn(host string) (time.Time, error, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	at, ok := m.failAt[host]
	return at, m.failErr[host], ok
}

func (m *insertEvents) succeededOn(host string) (time.Time, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	at, ok := m.succeeded[host]
	return at, ok
}
