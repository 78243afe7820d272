package recovery

import (
	"testing"

	"github.com/rsguard/rsguard/mongo"
	"github.com/rsguard/rsguard/topology"
)

const (
	raA = "a:27017"
	raB = "b:27017"
	raC = "c:27017"
)

// The must-not-fire cases first, then the two steps and the end.
func TestPlanReAdd(t *testing.T) {
	two := psaConfig(t, 5, cfgMember{host: raA}, cfgMember{host: raB})
	three := psaConfig(t, 5, cfgMember{host: raA}, cfgMember{host: raB}, cfgMember{host: raC})
	for _, tc := range []struct {
		name   string
		in     ReAddInput
		action ReAddAction
		reason string
	}{
		{"every wanted member in the config", ReAddInput{Config: three, Wanted: []string{raA, raB, raC},
			Answering: map[string]bool{raA: true, raB: true, raC: true}}, ReAddNone, ""},
		{"a member missing from the config but not from the sidecars' either (removed on purpose)", ReAddInput{Config: two,
			Wanted: []string{raA, raB}, Answering: map[string]bool{raA: true, raB: true, raC: true}}, ReAddNone, ""},
		{"missing and not answering", ReAddInput{Config: two, Wanted: []string{raA, raB, raC},
			Answering: map[string]bool{raA: true, raB: true}}, ReAddNone, RefusedReAddNotAnswering},
		{"missing while another member is newlyAdded", ReAddInput{Config: withNewlyAdded(two, raB), Wanted: []string{raA, raB, raC},
			Answering: map[string]bool{raC: true}}, ReAddNone, RefusedReAddPending},
		{"missing and answering", ReAddInput{Config: two, Wanted: []string{raA, raB, raC},
			Answering: map[string]bool{raA: true, raB: true, raC: true}}, ReAddMember, ReAddMissing},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := PlanReAdd(tc.in)
			if p.Action != tc.action || p.Reason != tc.reason {
				t.Errorf("got %s/%s (%v), want %s/%s", p.Action, p.Reason, p.Evidence, tc.action, tc.reason)
			}
		})
	}
}

func TestReAddLifecycle(t *testing.T) {
	two := psaConfig(t, 5, cfgMember{host: raA}, cfgMember{host: raB})
	in := ReAddInput{Config: two, Wanted: []string{raA, raB, raC}, Answering: map[string]bool{raA: true, raB: true, raC: true}}
	p := PlanReAdd(in)
	if p.Action != ReAddMember || p.NewConfig.Version != 6 {
		t.Fatalf("add: %+v", p)
	}
	added := p.NewConfig.Members[2]
	if added.Host != raC || added.ID != 2 || added.Votes != 1 || added.Priority != 0 || added.Tags[ReAddedTag] != "1" {
		t.Fatalf("added member %+v", added)
	}
	// Back in the config but still syncing: wait.
	in.Config = p.NewConfig
	in.States = map[string]topology.MemberState{raC: topology.StateStartup2}
	if p := PlanReAdd(in); p.Action != ReAddNone || p.Reason != RefusedReAddNotCaughtUp {
		t.Fatalf("while syncing: %+v", p)
	}
	in.States[raC], in.CaughtUp = topology.StateSecondary, map[string]bool{raC: true}
	p = PlanReAdd(in)
	if p.Action != ReAddRestorePriority || p.NewConfig.Version != 7 {
		t.Fatalf("restore: %+v", p)
	}
	m := p.NewConfig.Members[2]
	if m.Priority != 1 || m.Votes != 1 || m.Tags[ReAddedTag] != "" {
		t.Fatalf("restored member %+v", m)
	}
	in.Config = p.NewConfig
	if p := PlanReAdd(in); p.Action != ReAddNone || p.Reason != "" {
		t.Fatalf("after the restore: %+v", p)
	}
}

func withNewlyAdded(c mongo.ReplConfig, host string) mongo.ReplConfig {
	c = c.Clone()
	for i := range c.Members {
		if c.Members[i].Host == host {
			c.Members[i].NewlyAdded = true
		}
	}
	return c
}
