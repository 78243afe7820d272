package drill

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rsguard/rsguard/api"
	"github.com/rsguard/rsguard/apiclient"
	"github.com/rsguard/rsguard/drill/check"
	"github.com/rsguard/rsguard/mongo"
)

// DialStore is the default StoreOpener: a replica-set client (the official driver, through
// package mongo) on database rsguard_drill for the inserts and reads, and a register client
// (mongo.RegisterClient: no driver retries, so every error answers one attempt) for the register
// workload.
func DialStore(ctx context.Context, seeds Seeds, coll string) (Store, func(context.Context) error, error) {
	return DialStoreWith(ctx, StoreOptions{Seeds: seeds, Collection: coll})
}

// StoreOptions say where a Store writes and how long its clients wait for a primary.
type StoreOptions struct {
	Seeds Seeds
	// Database defaults to rsguard_drill; the register collection is Collection + "_register".
	Database, Collection string
	// ServerSelectionTimeout defaults to mongo.SetOptions' (1 s).
	ServerSelectionTimeout time.Duration
	// AppName defaults to rsguard-drill.
	AppName string
}

// DialStoreWith is DialStore with its options.
func DialStoreWith(_ context.Context, o StoreOptions) (Store, func(context.Context) error, error) {
	if o.Database == "" {
		o.Database = "rsguard_drill"
	}
	if o.AppName == "" {
		o.AppName = "rsguard-drill"
	}
	s := o.Seeds
	c, err := mongo.DialSet(mongo.SetOptions{Set: s.Set, Hosts: s.Hosts, URI: s.URI, Database: o.Database, Collection: o.Collection,
		ServerSelectionTimeout: o.ServerSelectionTimeout, AppName: o.AppName})
	if err != nil {
		return nil, nil, err
	}
	reg, err := mongo.DialRegisters(mongo.RegisterOptions{Set: s.Set, Hosts: s.Hosts, URI: s.URI, Database: o.Database, Collection: o.Collection + "_register",
		ServerSelectionTimeout: o.ServerSelectionTimeout, AppName: o.AppName})
	if err != nil {
		_ = c.Close(context.Background())
		return nil, nil, err
	}
	st := setStore{SetClient: c, reg: reg}
	return st, func(ctx context.Context) error { return errors.Join(reg.Close(ctx), c.Close(ctx)) }, nil
}

// setStore is the Store over both clients.
type setStore struct {
	*mongo.SetClient
	reg *mongo.RegisterClient
}

// WriteRegister sets key to v with w:"majority"; every write carries a unique v, so a stale
// read cannot pass by coincidence.
func (s setStore) WriteRegister(ctx context.Context, key string, v int64) error {
	return s.reg.Write(ctx, key, v)
}

// ReadRegister reads key at level (linearizable: the read a deposed primary cannot serve;
// majority with afterClusterTime of every completed operation).
func (s setStore) ReadRegister(ctx context.Context, key string, level mongo.ReadLevel) (int64, error) {
	return s.reg.Read(ctx, key, level)
}

// CASRegister sets key to new if it holds old, with w:"majority".
func (s setStore) CASRegister(ctx context.Context, key string, old, new int64) (bool, error) {
	return s.reg.CAS(ctx, key, old, new)
}

// RegisterOutcome is drill/check's Classifier for register errors: failed only when the
// operation certainly did not apply (mongo.NotApplied), of unknown outcome otherwise.
func RegisterOutcome(err error) check.Outcome {
	if mongo.NotApplied(err) {
		return check.OutcomeFailed
	}
	return check.OutcomeUnknown
}

// readBack reads every id with a majority read and accounts the inserts of each kind.
func (r *Runner) readBack(ctx context.Context, env *Env, rec *Recording) {
	var present map[int64]bool
	err := r.within(ctx, r.opts.RecoverTimeout, func(ctx context.Context) error {
		return env.Poll(ctx, "the documents read back", func(ctx context.Context) (bool, error) {
			rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			var err error
			present, err = env.storeIDs(rctx)
			return err == nil, err
		})
	})
	if err != nil {
		rec.ReadBackErr = err.Error()
		return
	}
	rec.Majority, rec.W1 = env.load.Account(present)
}

// collect gathers the sidecars' history and audit lines since the run started, merged: an
// event once by its id, an audit line once by its content, sidecars that do not answer skipped.
func (r *Runner) collect(ctx context.Context, rec *Recording) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
	defer cancel()
	if errs := r.collectEvents(ctx, rec); len(errs) > 0 && len(errs) == len(r.target.Sidecars()) {
		rec.Problems = append(rec.Problems, "no sidecar told its history, nothing rsguard did is known: "+strings.Join(errs, "; "))
	}
	seen := map[string]bool{}
	var lines [][]byte
	for _, s := range r.target.Sidecars() {
		a, err := s.Client.Audit(ctx, 0)
		if err != nil {
			continue // an audit log off, or a sidecar a scenario left down: the others tell
		}
		for _, rec0 := range a.Records {
			b, err := json.Marshal(rec0)
			if err != nil || seen[string(b)] {
				continue
			}
			seen[string(b)] = true
			if l, ok := parseAudit(b); ok && !l.Time.Before(rec.Start) {
				lines = append(lines, b)
			}
		}
	}
	slices.SortStableFunc(lines, func(a, b []byte) int {
		la, _ := parseAudit(a)
		lb, _ := parseAudit(b)
		if c := la.Time.Compare(lb.Time); c != 0 {
			return c
		}
		return bytes.Compare(a, b)
	})
	for _, l := range lines {
		rec.Audit = append(rec.Audit, json.RawMessage(l))
	}
}

// collectEvents adds to rec.Events the sidecars' history events of the run's window (from
// its start: an earlier run's events stay out), each once by its id, sorted by time; it
// returns the errors of the sidecars that did not answer.
func (r *Runner) collectEvents(ctx context.Context, rec *Recording) []string {
	seen := map[string]bool{}
	for _, ev := range rec.Events {
		seen[ev.ID] = true
	}
	var errs []string
	for _, s := range r.target.Sidecars() {
		h, err := s.Client.History(ctx, apiclient.HistoryQuery{Since: rec.Start})
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", s.Addr, err))
		}
		for _, ev := range h.Events {
			if !seen[ev.ID] && !ev.Time.Before(rec.Start) {
				seen[ev.ID] = true
				rec.Events = append(rec.Events, ev)
			}
		}
	}
	slices.SortStableFunc(rec.Events, func(a, b api.Event) int { return a.Time.Compare(b.Time) })
	return errs
}
