package e2e

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readconcern"

	"github.com/rsguard/rsguard/api"
	"github.com/rsguard/rsguard/apiclient"
	"github.com/rsguard/rsguard/e2e/harness"
	"github.com/rsguard/rsguard/election"
	"github.com/rsguard/rsguard/supervisor"
)

// The soak's evidence readers: audit lines and history events as the pure checkers'
// observations, and the acknowledged inserts read back with a majority read.

// chaosAudit reads every sidecar's audit log since since.
func chaosAudit(t testing.TB, cars *sidecarSet, since time.Time) []actionRec {
	t.Helper()
	var out []actionRec
	for _, r := range cars.AllAudit(t) {
		if !r.Time.Before(since) {
			out = append(out, actionRecOf(r))
		}
	}
	slices.SortFunc(out, func(a, b actionRec) int { return a.At.Compare(b.At) })
	return out
}

func actionRecOf(r supervisor.AuditRecord) actionRec {
	return actionRec{At: r.Time, Sidecar: r.Sidecar, Action: string(r.Decision.Action), Target: r.Decision.Target,
		Primary: r.Analysis.Primary, Term: r.Analysis.Term, Kind: r.Analysis.Kind.String(), Reason: string(r.Reason),
		Actor: r.Actor, Result: r.Result, Coordinator: r.Coordinator, Witnesses: r.Analysis.Witnesses}
}

// chaosHistory reads the failovers in every sidecar's history since since (each event once: the
// sidecars derive the same events with the same ids from the shared memory).
func chaosHistory(ctx context.Context, cars *sidecarSet, since time.Time) ([]actionSeen, error) {
	ids := map[string]bool{}
	var out []actionSeen
	for _, c := range cars.cars {
		hctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		h, err := cars.api(c, "").History(hctx, apiclient.HistoryQuery{Since: since.Add(-time.Second), Kind: api.EventFailover})
		cancel()
		if err != nil {
			return nil, fmt.Errorf("history of %s: %w", c.ID, err)
		}
		for _, ev := range h.Events {
			if ids[ev.ID] || ev.Time.Before(since) {
				continue
			}
			ids[ev.ID] = true
			out = append(out, actionSeen{At: ev.Time, Source: "history", Primary: ev.From, Target: ev.To})
		}
	}
	return out, nil
}

// chaosQuorum is the verdict rule of the drills' sidecars, at the documented defaults.
func chaosQuorum(cars *sidecarSet) quorumRule {
	q := quorumRule{SickObservers: election.DefaultPolicy().SickObservers}
	for _, c := range cars.cars {
		q.Sidecars = append(q.Sidecars, c.ID)
	}
	return q
}

// chaosAcks reads the acknowledged inserts back from the primary p with a majority read (a
// direct client per host, kept for the soak). A new primary's majority snapshot may trail the
// writes acknowledged just before it was elected until it commits in its own term, so the read
// is repeated for a while before a missing id counts as lost.
type chaosAcks struct {
	t       testing.TB
	w       *workload
	clients map[*harness.Host]*mongo.Collection
}

func newChaosAcks(t testing.TB, w *workload) *chaosAcks {
	return &chaosAcks{t: t, w: w, clients: map[*harness.Host]*mongo.Collection{}}
}

func (a *chaosAcks) check(ctx context.Context, p *harness.Host) (acked int, vs []chaosViolation) {
	coll := a.clients[p]
	if coll == nil {
		coll = p.Client(a.t).Database("drill").Collection(a.w.coll,
			options.Collection().SetReadConcern(readconcern.Majority()))
		a.clients[p] = coll
	}
	want := a.w.acked() // every id acknowledged before the read starts
	var readErr error
	err := harness.Poll(ctx, 20*time.Second, func(ctx context.Context) error {
		have, err := majorityIDs(ctx, coll)
		if err != nil {
			readErr = err
			return err
		}
		vs = checkNoLostAcks(time.Now(), p.String(), want, have)
		if len(vs) > 0 {
			return fmt.Errorf("%s", vs[0])
		}
		return nil
	})
	if err != nil && len(vs) == 0 {
		vs = []chaosViolation{{Invariant: invNoLostAck, At: time.Now(), Hosts: []string{p.String()},
			Detail: fmt.Sprintf("cannot read the acknowledged inserts back: %v (%v)", err, readErr)}}
	}
	return len(want), vs
}

func majorityIDs(ctx context.Context, coll *mongo.Collection) (map[int64]bool, error) {
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	cur, err := coll.Find(rctx, bson.D{}, options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, err
	}
	var docs []struct {
		ID int64 `bson:"_id"`
	}
	if err := cur.All(rctx, &docs); err != nil {
		return nil, err
	}
	have := make(map[int64]bool, len(docs))
	for _, d := range docs {
		have[d.ID] = true
	}
	return have, nil
}
