package drill

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rsguard/rsguard/api"
	"github.com/rsguard/rsguard/apiclient"
	"github.com/rsguard/rsguard/mongo"
)

// DialStore is the default StoreOpener: a replica-set client (the official driver, through
// package mongo) on database rsguard_drill.
func DialStore(_ context.Context, seeds Seeds, coll string) (Store, func(context.Context) error, error) {
	c, err := mongo.DialSet(mongo.SetOptions{Set: seeds.Set, Hosts: seeds.Hosts, URI: seeds.URI, Database: "rsguard_drill", Collection: coll, AppName: "rsguard-drill"})
	if err != nil {
		return nil, nil, err
	}
	return c, c.Close, nil
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
	majority, w1 := map[string]bool{}, map[string]bool{}
	for id := range present {
		if id >= idBase(OpW1, 0) {
			w1[strconv.FormatInt(id, 10)] = true
		} else {
			majority[strconv.FormatInt(id, 10)] = true
		}
	}
	rec.Majority = env.load.Majority.Account(majority)
	rec.W1 = env.load.W1.Account(w1)
}

// collect gathers the sidecars' history and audit lines since the run started, merged: an
// event once by its id, an audit line once by its content, sidecars that do not answer skipped.
func (r *Runner) collect(ctx context.Context, rec *Recording) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
	defer cancel()
	seen := map[string]bool{}
	var lines [][]byte
	var errs []string
	for _, s := range r.target.Sidecars() {
		h, err := s.Client.History(ctx, apiclient.HistoryQuery{Since: rec.Start.Add(-time.Minute)})
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", s.Addr, err))
		}
		for _, ev := range h.Events {
			if !seen["ev:"+ev.ID] {
				seen["ev:"+ev.ID] = true
				rec.Events = append(rec.Events, ev)
			}
		}
		a, err := s.Client.Audit(ctx, 0)
		if err != nil {
			continue // an audit log off, or a sidecar a scenario left down: the others tell
		}
		for _, rec0 := range a.Records {
			b, err := json.Marshal(rec0)
			if err != nil || seen["au:"+string(b)] {
				continue
			}
			seen["au:"+string(b)] = true
			if l, ok := parseAudit(b); ok && !l.Time.Before(rec.Start) {
				lines = append(lines, b)
			}
		}
	}
	if n := len(r.target.Sidecars()); n > 0 && len(errs) == n {
		rec.Problems = append(rec.Problems, "no sidecar told its history, nothing rsguard did is known: "+strings.Join(errs, "; "))
	}
	slices.SortStableFunc(rec.Events, func(a, b api.Event) int { return a.Time.Compare(b.Time) })
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
