package mongo_test

import (
	"errors"
	"testing"
	"time"

	"github.com/rsguard/rsguard/mongo"
	"github.com/rsguard/rsguard/mongo/mongotest"
	"github.com/rsguard/rsguard/topology"
)

func primaryFake(t *testing.T) *mongotest.Node {
	n := mongotest.New("127.0.0.2:27017")
	n.SetHello(mongo.DecodeHello(mongo.Fixture(t, "hello_primary.json")))
	n.SetStatus(mongo.DecodeStatus(mongo.Fixture(t, "status_primary.json")))
	n.SetConfig(mongo.DecodeConfig(mongo.Fixture(t, "config.json")))
	return n
}

func TestObserveMapsToTopology(t *testing.T) {
	n := primaryFake(t)
	o, err := mongo.Observe(t.Context(), n)
	if err != nil {
		t.Fatal(err)
	}
	v := o.LocalView()
	elected := time.Date(2024, 5, 29, 16, 20, 1, 0, time.UTC)
	if v.Host != "n1:27017" || !v.Reachable || v.Failure != topology.FailureNone || v.State != topology.StatePrimary ||
		v.Term != 2 || !v.TermSince.Equal(elected) || v.Candidate {
		t.Errorf("local view %+v", v)
	}
	if v.OpTime != topology.MakeOpTime(1717000004, 1, 2) || v.ConfigVersion != 3 || v.ConfigTerm != 2 {
		t.Errorf("optime/config %v %d %d", v.OpTime, v.ConfigVersion, v.ConfigTerm)
	}
	if v.Priority != 2 || v.Votes != 1 || v.Tags["dc"] != "east" || v.LastWrite.IsZero() {
		t.Errorf("member settings %+v", v)
	}
	peers := o.Peers()
	if len(peers) != 2 || peers[0].Host != "n2:27017" || !peers[0].Healthy || !peers[0].HeartbeatHealthy || peers[0].LastHeartbeatRecv.IsZero() || peers[0].SyncSource != "n1:27017" {
		t.Fatalf("peers %+v", peers)
	}
	// mongod stamps lastHeartbeat on a failed heartbeat too (setDownValues): only health tells.
	if p := peers[1]; p.Healthy || p.HeartbeatHealthy || p.State != topology.StateDown || !p.OpTime.IsNull() || p.LastHeartbeat.IsZero() {
		t.Errorf("down peer %+v", p)
	}
	p := o.Primary()
	if p != (topology.PrimarySeen{Host: "n1:27017", Term: 2, ElectionTerm: 2, Reachable: true}) {
		t.Errorf("primary %+v", p)
	}
	if got := len(n.Calls()); got != 3 {
		t.Errorf("calls %d", got)
	}
}

func TestObserveSecondaryAndLag(t *testing.T) {
	n := mongotest.New("127.0.0.3:27017")
	n.SetHello(mongo.Hello{SetName: "rs0", Secondary: true, Me: "n2:27017", Primary: "n1:27017"})
	n.SetStatus(mongo.Status{
		MyState: topology.StateSecondary, Term: 7, Applied: topology.MakeOpTime(1717000002, 1, 7),
		ElectionParticipant: &mongo.ElectionParticipantMetrics{Term: 7, LastVoteDate: time.Unix(1717000000, 0).UTC()},
		Members: []mongo.MemberStatus{
			{Name: "n1:27017", Health: 1, State: topology.StatePrimary, OpTime: topology.MakeOpTime(1717000012, 1, 7)},
			{Name: "n2:27017", Health: 1, State: topology.StateSecondary, Self: true, ConfigVersion: 5, ConfigTerm: 7},
		},
	})
	n.SetConfig(mongo.ReplConfig{Version: 5, Members: []mongo.ConfigMember{mongo.NewConfigMember(1, "n2:27017")}})
	o, err := mongo.Observe(t.Context(), n)
	if err != nil {
		t.Fatal(err)
	}
	v := o.LocalView()
	if v.State != topology.StateSecondary || !v.TermSince.Equal(time.Unix(1717000000, 0)) || v.Priority != 1 {
		t.Errorf("local view %+v", v)
	}
	if o.Lag() != 10*time.Second {
		t.Errorf("lag %v", o.Lag())
	}
	if p := o.Primary(); p.Host != "n1:27017" || p.Reachable || p.ElectionTerm != 0 {
		t.Errorf("primary %+v", p)
	}
}

func TestObserveRemovedSkipsConfig(t *testing.T) {
	n := mongotest.New("127.0.0.4:27017")
	n.SetStatus(mongo.Status{MyState: topology.StateRemoved})
	o, err := mongo.Observe(t.Context(), n)
	if err != nil || o.HasConfig || len(n.CallsOf(mongotest.OpConfig)) != 0 {
		t.Fatalf("removed: %v %+v", err, o)
	}
	if v := o.LocalView(); v.Host != "127.0.0.4:27017" || v.State != topology.StateRemoved {
		t.Errorf("view %+v", v)
	}
}

func TestObserveFailuresClassify(t *testing.T) {
	n := primaryFake(t)
	o, _ := mongo.Observe(t.Context(), n)
	last := o.LocalView()

	n.FailAll(mongotest.Refused(n.Addr()))
	_, err := mongo.Observe(t.Context(), n)
	v := mongo.Unreachable(last, n.Addr(), err)
	if v.Reachable || v.Failure != topology.FailureRefused || v.State != topology.StatePrimary || v.Host != "n1:27017" {
		t.Errorf("refused view %+v (err %v)", v, err)
	}

	n.FailAll(nil)
	n.Fail(mongotest.OpStatus, mongotest.Timeout())
	_, err = mongo.Observe(t.Context(), n)
	if mongo.Classify(err) != topology.FailureTimeout {
		t.Errorf("timeout: %v", err)
	}
	if v := mongo.Unreachable(topology.LocalView{}, n.Addr(), err); v.Host != n.Addr() || v.Failure != topology.FailureTimeout {
		t.Errorf("first failure view %+v", v)
	}
}

func TestFakeRecordsAndReconfigures(t *testing.T) {
	n := primaryFake(t)
	ctx := t.Context()
	n.OnCall(func(c mongotest.Call) error {
		if c.Op == mongotest.OpStepDown {
			n.SetHello(mongo.Hello{SetName: "rs0", Secondary: true})
		}
		return nil
	})
	if err := n.StepDown(ctx, 60, 10*time.Second, false); err != nil {
		t.Fatal(err)
	}
	if h, _ := n.Hello(ctx); h.IsWritablePrimary || !h.Secondary {
		t.Errorf("hook did not run: %+v", h)
	}
	cfg, _ := n.Config(ctx)
	cfg.Members = cfg.Members[:3]
	if err := n.Reconfig(ctx, cfg, false); err != nil {
		t.Fatal(err)
	}
	if got, _ := n.Config(ctx); got.Version != 6 || len(got.Members) != 3 {
		t.Errorf("installed config v%d with %d members", got.Version, len(got.Members))
	}
	n.Fail(mongotest.OpStepUp, mongotest.CommandError(mongo.CodeCommandFailed, "CommandFailed", "Election failed."))
	err := n.StepUp(ctx, true)
	var ce *mongo.CommandError
	if !errors.As(err, &ce) || ce.Code != 125 || err.Error() != "replSetStepUp on 127.0.0.2:27017: CommandFailed (125): Election failed." {
		t.Errorf("stepUp: %v", err)
	}
	n.Fail(mongotest.OpWriteProbe, mongotest.WriteConcernError(mongo.CodeWriteConcernFailed, "WriteConcernFailed", "waiting for replication timed out"))
	if _, err := n.WriteProbe(ctx, "s1"); mongo.ClassifyProbe(err) != mongo.ProbeWriteConcern {
		t.Errorf("probe: %v", err)
	}
	calls := n.CallsOf(mongotest.OpStepDown)
	if len(calls) != 1 || calls[0].Secs != 60 || calls[0].CatchUp != 10*time.Second {
		t.Errorf("stepdown calls %+v", calls)
	}
	if n.Close(ctx); !n.Closed() {
		t.Error("close")
	}
}

// A primary-elect in catch-up or drain is PRIMARY in replSetGetStatus but not writable in hello,
// and its newTermStartDate is not set yet (spec §5.4); a primary attempting a stepdown is not
// writable either, but its term started long ago: it must not read as catching up.
func TestObserveCatchingUp(t *testing.T) {
	elected := time.Unix(1717000000, 0).UTC()
	for _, tt := range []struct {
		name     string
		writable bool
		started  time.Time
		want     bool
	}{
		{"catch-up or drain", false, time.Time{}, true},
		{"writable primary", true, elected, false},
		{"stepping down", false, elected.Add(time.Second), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			n := mongotest.New("127.0.0.2:27017")
			n.SetHello(mongo.Hello{SetName: "rs0", IsWritablePrimary: tt.writable, Me: "n1:27017", ElectionID: "7fffffff0000000000000005"})
			n.SetStatus(mongo.Status{MyState: topology.StatePrimary, Term: 5,
				ElectionCandidate: &mongo.ElectionCandidateMetrics{Term: 5, Date: elected, NewTermStartDate: tt.started}})
			o, err := mongo.Observe(t.Context(), n)
			if err != nil {
				t.Fatal(err)
			}
			if got := o.LocalView().CatchingUp; got != tt.want {
				t.Errorf("CatchingUp = %v, want %v", got, tt.want)
			}
		})
	}
}
