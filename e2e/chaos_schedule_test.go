package e2e

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The chaos soak's schedule: a seeded random sequence of faults, each with its target (by role,
// resolved against the set when it is applied), its hold and the quiet gap before it. The same
// seed gives the same sequence, so a failure replays with RSGUARD_CHAOS_SEED.
//
//	RSGUARD_CHAOS=30m             how long faults are injected (default 30s: the default suite's
//	                              short form, about a minute with set-up and the last heal)
//	RSGUARD_CHAOS_SEED=N          the schedule's seed (default: from the clock, printed)
//	RSGUARD_CHAOS_FAULTS=a,b,...  the fault kinds to draw from (default: all of them; link cuts
//	                              need root and iptables and are skipped with a logged reason)
const (
	envChaos       = "RSGUARD_CHAOS"
	envChaosSeed   = "RSGUARD_CHAOS_SEED"
	envChaosFaults = "RSGUARD_CHAOS_FAULTS"
)

// chaosKind is a kind of fault.
type chaosKind string

const (
	chaosKill        chaosKind = "kill"        // SIGKILL of a mongod, restarted after the hold
	chaosFreeze      chaosKind = "freeze"      // SIGSTOP of a host (its mongod and its sidecar), SIGCONT after
	chaosLinkCut     chaosKind = "linkcut"     // all traffic between two hosts dropped (iptables), healed after
	chaosLag         chaosKind = "lag"         // the secondaries stop applying (rsSyncApplyStop), resume after
	chaosDiskStall   chaosKind = "diskstall"   // a mongod's storage writes block, unblocked after
	chaosSidecarKill chaosKind = "sidecarkill" // SIGKILL of a sidecar, restarted after
)

var chaosKinds = []chaosKind{chaosKill, chaosFreeze, chaosLinkCut, chaosLag, chaosDiskStall, chaosSidecarKill}

// chaosHolds are each kind's hold range: from a blip well under MongoDB's electionTimeoutMillis
// (10 s) to well past it, so that some faults are ridden out and some fail over.
var chaosHolds = map[chaosKind][2]time.Duration{
	chaosKill:        {2 * time.Second, 20 * time.Second},
	chaosFreeze:      {2 * time.Second, 20 * time.Second},
	chaosLinkCut:     {2 * time.Second, 20 * time.Second},
	chaosLag:         {2 * time.Second, 15 * time.Second},
	chaosDiskStall:   {3 * time.Second, 20 * time.Second},
	chaosSidecarKill: {2 * time.Second, 15 * time.Second},
}

// chaosMaxGap bounds the quiet time between a heal and the next fault.
const chaosMaxGap = 5 * time.Second

// chaosFault is one drawn fault. Targets are roles: the primary or the Other-th of the other
// candidates (modulo their number when the fault is applied), and for a link cut the Peer-th of
// the remaining hosts.
type chaosFault struct {
	N         int
	Kind      chaosKind
	OnPrimary bool
	Other     int
	Peer      int
	Hold      time.Duration
	Gap       time.Duration
}

func (f chaosFault) String() string {
	role := fmt.Sprintf("other #%d", f.Other)
	if f.OnPrimary {
		role = "primary"
	}
	return fmt.Sprintf("#%d %s (%s, hold %s, after %s quiet)", f.N, f.Kind, role, f.Hold, f.Gap)
}

// chaosSchedule draws faults from a seeded generator.
type chaosSchedule struct {
	rng   *rand.Rand
	kinds []chaosKind
	n     int
}

func newChaosSchedule(seed uint64, kinds []chaosKind) *chaosSchedule {
	return &chaosSchedule{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), kinds: kinds}
}

// next draws the next fault; every field is drawn on every call so that the sequence depends on
// the seed and the kinds only.
func (s *chaosSchedule) next() chaosFault {
	s.n++
	k := s.kinds[s.rng.IntN(len(s.kinds))]
	r := chaosHolds[k]
	f := chaosFault{N: s.n, Kind: k, OnPrimary: s.rng.IntN(2) == 0, Other: s.rng.IntN(16), Peer: s.rng.IntN(16),
		Hold: r[0] + time.Duration(s.rng.Int64N(int64(r[1]-r[0]))), Gap: time.Duration(s.rng.Int64N(int64(chaosMaxGap)))}
	f.Hold, f.Gap = f.Hold.Round(100*time.Millisecond), f.Gap.Round(100*time.Millisecond)
	return f
}

// chaosSettings are the soak's knobs from the environment.
type chaosSettings struct {
	Duration time.Duration
	Seed     uint64
	Kinds    []chaosKind
}

func (c chaosSettings) String() string {
	return fmt.Sprintf("%s=%s %s=%d %s=%s", envChaos, c.Duration, envChaosSeed, c.Seed, envChaosFaults, joinKinds(c.Kinds))
}

func joinKinds(ks []chaosKind) string {
	s := make([]string, len(ks))
	for i, k := range ks {
		s[i] = string(k)
	}
	return strings.Join(s, ",")
}

// chaosSettingsFromEnv reads the knobs; bad values fail the test naming the variable and value.
func chaosSettingsFromEnv(t testing.TB) chaosSettings {
	t.Helper()
	c, err := parseChaosSettings(os.Getenv, uint64(time.Now().UnixNano()))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// parseChaosSettings parses the knobs read by getenv; defSeed is the seed when none is given.
func parseChaosSettings(getenv func(string) string, defSeed uint64) (chaosSettings, error) {
	c := chaosSettings{Duration: 30 * time.Second, Seed: defSeed, Kinds: chaosKinds}
	if v := getenv(envChaos); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 10*time.Second {
			return c, fmt.Errorf("$%s=%q: want a Go duration of at least 10s (e.g. 30m)", envChaos, v)
		}
		c.Duration = d
	}
	if v := getenv(envChaosSeed); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return c, fmt.Errorf("$%s=%q: want an unsigned integer (the seed a failed soak printed)", envChaosSeed, v)
		}
		c.Seed = n
	}
	if v := getenv(envChaosFaults); v != "" {
		c.Kinds = nil
		for _, name := range strings.Split(v, ",") {
			k := chaosKind(strings.TrimSpace(name))
			if !slices.Contains(chaosKinds, k) {
				return c, fmt.Errorf("$%s=%q: unknown fault kind %q; kinds: %s", envChaosFaults, v, k, joinKinds(chaosKinds))
			}
			if !slices.Contains(c.Kinds, k) {
				c.Kinds = append(c.Kinds, k)
			}
		}
	}
	return c, nil
}
