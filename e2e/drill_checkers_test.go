package e2e

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/rsguard/rsguard/drill"
	"github.com/rsguard/rsguard/drill/check"
	"github.com/rsguard/rsguard/e2e/harness"
	"github.com/rsguard/rsguard/mongo"
)

// TestDrillCheckersCatchBrokenPolicies proves the checkers can fail, on one set and quickly:
//   - stale reads: a key written w:1 by a primary whose secondaries stopped applying
//     (rsSyncApplyStop), then read with readConcern "local" from a secondary, must make the
//     history not linearizable;
//   - lost w:1 writes: inserts acknowledged w:1 by a primary whose secondaries stopped fetching
//     (stopReplProducer), then SIGKILLed, are missing on the new primary: the insert accounting
//     must report them lost.
func TestDrillCheckersCatchBrokenPolicies(t *testing.T) {
	d := newDrillSet(t, 3, 0, 0)
	defer d.c.Timeline.Log(t)
	p := d.WaitHealthy(t, drillRejoinTimeout)
	ctx := context.Background()
	var followers []*harness.Host
	for _, h := range d.data {
		if h != p {
			followers = append(followers, h)
		}
	}
	// One client writes, another reads from a secondary: the broken read policy.
	writer := dialRegisters(t, d.data, mongo.RegisterOptions{W1: true})
	reader := dialRegisters(t, d.data, mongo.RegisterOptions{ReadPreference: "secondaryPreferred"})
	h := check.NewHistory(check.HistoryOptions{})
	do := func(client int, op check.Op) {
		t.Helper()
		id, err := h.Begin(client, op)
		if err != nil {
			t.Fatal(err)
		}
		octx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		var out check.Output
		switch op.Kind {
		case check.OpWrite:
			err = writer.Write(octx, op.Key, op.Value)
		case check.OpRead:
			out.Value, err = reader.Read(octx, op.Key, mongo.ReadLocal)
		}
		if err != nil {
			t.Fatalf("%s: %v", op, err)
		}
		if err := h.End(id, out, nil, drill.RegisterOutcome); err != nil {
			t.Fatal(err)
		}
	}
	do(0, check.Write("k", 1))
	direct := map[*harness.Host]*mongodrv.Client{}
	for _, s := range followers {
		direct[s] = s.Client(t)
	}
	harness.WaitFor(t, 20*time.Second, "the secondaries to have k=1", func(ctx context.Context) error {
		for _, s := range followers {
			if v, err := secondaryValue(ctx, direct[s], "k"); err != nil || v != 1 {
				return fmt.Errorf("%s: k=%d (%v)", s, v, err)
			}
		}
		return nil
	})
	lagged := time.Now()
	if err := d.c.LagSecondaries(ctx, true, followers...); err != nil {
		t.Fatal(err)
	}
	// The applier stops at its next batch (oplog_applier_impl.cpp logs 21229 there).
	harness.WaitFor(t, 20*time.Second, "the secondaries' appliers to block (log 21229)", func(context.Context) error {
		for _, s := range followers {
			if _, ok := lastLogTime(s, 21229, lagged.Add(-time.Second)); !ok {
				return fmt.Errorf("%s: applier not blocked yet", s)
			}
		}
		return nil
	})
	d.c.Timeline.Mark("secondaries stopped applying; w:1 write k=2, then local reads from a secondary")
	do(0, check.Write("k", 2))
	do(1, check.Read("k"))
	res, err := check.CheckLinearizable(h, time.Minute, artifactPath(t, "linearizable-broken-policy.html"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict != check.NotLinearizable || !errors.Is(res.Err(), check.ErrNotLinearizable) {
		t.Fatalf("stale local read from a lagging secondary after an acknowledged write: verdict %s, want %s", res.Verdict, check.NotLinearizable)
	}
	t.Logf("stale reads caught: %v", res.Err())
	if err := d.c.LagSecondaries(ctx, false, followers...); err != nil {
		t.Fatal(err)
	}

	// Lost w:1 writes.
	d.WaitHealthy(t, drillRejoinTimeout)
	for _, s := range followers {
		setFailPoint(t, s, "stopReplProducer", "alwaysOn")
	}
	ins := check.NewInserts()
	for i := range 20 {
		id := fmt.Sprintf("w1-%02d", i)
		if err := ins.Attempt(id); err != nil {
			t.Fatal(err)
		}
		octx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := writer.Insert(octx, id)
		cancel()
		if err != nil {
			t.Fatalf("w:1 insert %s: %v", id, err)
		}
		if err := ins.Ack(id); err != nil {
			t.Fatal(err)
		}
	}
	d.c.Timeline.Mark("20 w:1 inserts acknowledged by %s, no secondary fetching; SIGKILL it", p)
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	for _, s := range followers {
		setFailPoint(t, s, "stopReplProducer", "off")
	}
	harness.WaitFor(t, drillFailoverTimeout, "a new primary after replSetStepUp", func(ctx context.Context) error {
		if _, err := d.c.Primary(ctx); err == nil {
			return nil
		}
		_, err := followers[0].Command(ctx, bson.D{{Key: "replSetStepUp", Value: 1}})
		return fmt.Errorf("no primary yet (stepUp: %v)", err)
	})
	majority := dialRegisters(t, followers, mongo.RegisterOptions{})
	acc := ins.Account(readBackInserts(t, majority))
	err = acc.Err()
	if !errors.Is(err, check.ErrLostWrites) || len(acc.Lost) != 20 {
		t.Fatalf("w:1 inserts acknowledged by a primary killed before any secondary fetched them: accounting %+v (err %v), want all 20 lost", acc, err)
	}
	t.Logf("lost w:1 writes caught: %v", err)
	if !strings.Contains(err.Error(), "w1-") {
		t.Errorf("the accounting error does not name the lost ids: %v", err)
	}
}
