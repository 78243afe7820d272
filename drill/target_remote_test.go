package drill

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/rsguard/rsguard/mongo"
	"github.com/rsguard/rsguard/mongoemu"
)

// startEmulated starts a one-member set on the emulator (enableTestCommands as asked) and
// waits for it to be PRIMARY.
func startEmulated(t *testing.T, testCommands bool) *mongoemu.Node {
	t.Helper()
	params := map[string]string{}
	if testCommands {
		params["enableTestCommands"] = "1"
	}
	n, err := mongoemu.New(mongoemu.Options{BindIP: "127.0.0.1", DBPath: t.TempDir(), ReplSet: "rs0", Parameters: params})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { _ = n.Serve(ctx) }()
	t.Cleanup(func() { cancel(); n.Stop(nil); <-n.Done() })
	ictx, icancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer icancel()
	if err := mongo.Initiate(ictx, n.Addr(), "rs0", []string{n.Addr()}); err != nil {
		t.Fatal(err)
	}
	return n
}

func newTestRemote(t *testing.T, host string) *Remote {
	t.Helper()
	r, err := NewRemote(slog.New(slog.DiscardHandler), RemoteOptions{URI: "mongodb://" + host + "/?replicaSet=rs0",
		Sidecars: []Sidecar{{Addr: "unused:1", Client: fakeAPI{newFakeSet()}}}})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func waitPrimary(t *testing.T, r *Remote) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := retry(ctx, 100*time.Millisecond, func(ctx context.Context) error {
		ms, err := r.Members(ctx)
		if err != nil {
			return err
		}
		if primaryOf(ms) == "" {
			return errors.New("no primary yet")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestRemoteFaultsOnTheEmulator: the remote target's faults are real commands: fsyncLock blocks
// a write until the undo, the fail point needs test commands, shutdown force stops the member
// and the undo says the drill cannot start it again.
func TestRemoteFaultsOnTheEmulator(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an emulated mongod")
	}
	n := startEmulated(t, false)
	r := newTestRemote(t, n.Addr())
	waitPrimary(t, r)
	ctx := context.Background()
	store, closeStore, err := DialStore(ctx, r.Seeds(), "remote_test")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = closeStore(ctx) }()

	undo, err := r.StallDisk(ctx, n.Addr())
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	err = store.InsertW1(wctx, 1)
	cancel()
	if err == nil {
		t.Error("a write went through the fsyncLock")
	}
	uctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	if err := undo(uctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	wctx, cancel = context.WithTimeout(ctx, 10*time.Second)
	if err := store.InsertMajority(wctx, 2); err != nil {
		t.Errorf("write after the unlock: %v", err)
	}
	if v, err := store.ReadRegister(wctx, "r", mongo.ReadLinearizable); err != nil || v != 0 {
		t.Errorf("a register never written: %d, %v (want 0)", v, err)
	}
	if err := store.WriteRegister(wctx, "r", 7); err != nil {
		t.Error(err)
	}
	if v, err := store.ReadRegister(wctx, "r", mongo.ReadLinearizable); err != nil || v != 7 {
		t.Errorf("register after writing 7: %d, %v (a linearizable read)", v, err)
	}
	cancel()

	if _, err := r.LagSecondaries(ctx, []string{n.Addr()}); !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "enableTestCommands=1") {
		t.Errorf("lag without test commands: %v, want unsupported naming enableTestCommands", err)
	}

	undo, err = r.KillMongod(ctx, n.Addr())
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-n.Done():
	case <-time.After(30 * time.Second):
		t.Fatal("shutdown force did not stop the member")
	}
	uctx, cancel = context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := undo(uctx); err == nil || !strings.Contains(err.Error(), "the remote target cannot start it") {
		t.Errorf("undo of a kill: %v", err)
	}
}

func TestRemoteLagWithTestCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an emulated mongod")
	}
	n := startEmulated(t, true)
	r := newTestRemote(t, n.Addr())
	waitPrimary(t, r)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	undo, err := r.LagSecondaries(ctx, []string{n.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	if err := undo(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestRemoteOptions(t *testing.T) {
	r, err := NewRemote(slog.New(slog.DiscardHandler), RemoteOptions{URI: "mongodb://u:pw@a:1,b:2/?replicaSet=rs0&authSource=admin",
		Sidecars: []Sidecar{{Addr: "a:9216"}}})
	if err != nil {
		t.Fatal(err)
	}
	if s := r.Seeds(); s.Set != "rs0" || strings.Join(s.Hosts, ",") != "a:1,b:2" || r.user != "u" || r.password != "pw" || r.authSrc != "admin" {
		t.Errorf("parsed %+v user %q", s, r.user)
	}
	if strings.Contains(r.Name(), "pw") {
		t.Errorf("Name shows the password: %s", r.Name())
	}
	for _, f := range []Fault{FaultFreeze, FaultIsolate, FaultKillSidecar, FaultStale} {
		if err := r.Can(f); !errors.Is(err, ErrUnsupported) {
			t.Errorf("Can(%s) = %v", f, err)
		}
	}
	for _, f := range []Fault{FaultKill, FaultStallDisk, FaultLag} {
		if err := r.Can(f); err != nil {
			t.Errorf("Can(%s) = %v", f, err)
		}
	}
}

func TestMembersOfTwoPrimaries(t *testing.T) {
	st := mongo.Status{Members: []mongo.MemberStatus{
		{Name: "a:1", Health: 1, StateStr: "PRIMARY", ElectionTime: t0},
		{Name: "b:1", Health: 1, StateStr: "PRIMARY", ElectionTime: t0.Add(time.Second)},
		{Name: "c:1", Health: 0, StateStr: "(not reachable/healthy)"},
		{Name: "d:1", Health: 1, StateStr: "ARBITER"},
	}}
	ms := membersOf(st)
	if primaryOf(ms) != "b:1" || ms[0].Role != RoleOther || ms[0].State != "PRIMARY (deposed)" || ms[2].State != "DOWN" || ms[3].Role != RoleArbiter {
		t.Errorf("%+v", ms)
	}
}
