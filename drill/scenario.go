package drill

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Scenario is one rehearsed failure: what it needs, the fault, what it waits for, and what a
// run must show to pass.
type Scenario struct {
	Name    string
	Summary string
	// Faults are what the target must be able to inject (Target.Can); a run on a target that
	// cannot is skipped with its reason.
	Faults []Fault
	// Needs checks the set before anything is done ("an arbiter exists"); an error skips.
	Needs func(ms []Member) error
	// Subject picks the member the fault hits; nil: the primary.
	Subject func(ms []Member) string
	// Inject starts the fault and returns its undo.
	Inject func(ctx context.Context, e *Env) (Undo, error)
	// Hold is how long the fault stays at least, then Until (if any) is waited for before the
	// undo.
	Hold  time.Duration
	Until func(ctx context.Context, e *Env) error
	// Expect is what the run must show.
	Expect Expect
}

// ErrPrecondition is wrapped by Needs errors: the set does not fit the scenario.
var ErrPrecondition = errors.New("precondition not met")

// registry is the closed list of scenarios, in the order --all runs them.
func registry() []Scenario {
	return []Scenario{
		killPrimary(), freezePrimary(), isolatePrimary(), stallPrimaryDisk(), lagSecondaries(),
		killSecondary(), flapNetwork(), killCoordinatorMidFailover(), rollbackFormerPrimary(),
		staleSecondaryResync(), loseArbiter(), switchover(),
	}
}

// Scenarios returns every scenario.
func Scenarios() []Scenario { return registry() }

// Names lists the scenario names.
func Names() []string {
	var out []string
	for _, s := range registry() {
		out = append(out, s.Name)
	}
	return out
}

// Lookup returns the scenarios named, in the order given; an unknown name is an error listing
// the known ones.
func Lookup(names []string) ([]Scenario, error) {
	all := registry()
	var out []Scenario
	for _, n := range names {
		n = strings.TrimSpace(n)
		i := slices.IndexFunc(all, func(s Scenario) bool { return s.Name == n })
		if i < 0 {
			return nil, fmt.Errorf("scenario %q: unknown (known: %s)", n, strings.Join(Names(), ", "))
		}
		out = append(out, all[i])
	}
	if len(out) == 0 {
		return nil, errors.New("no scenario given")
	}
	return out, nil
}

// needPrimary is the precondition of every scenario that hits the primary.
func needPrimary(ms []Member) error {
	if primaryOf(ms) == "" {
		return fmt.Errorf("%w: the set has no primary", ErrPrecondition)
	}
	return nil
}

// needSecondaries requires n SECONDARY members besides a primary.
func needSecondaries(n int) func([]Member) error {
	return func(ms []Member) error {
		if err := needPrimary(ms); err != nil {
			return err
		}
		if got := len(withRole(ms, RoleSecondary)); got < n {
			return fmt.Errorf("%w: %d secondaries, the scenario needs %d", ErrPrecondition, got, n)
		}
		return nil
	}
}

// firstSecondary is a Subject: the first SECONDARY.
func firstSecondary(ms []Member) string {
	if s := withRole(ms, RoleSecondary); len(s) > 0 {
		return s[0]
	}
	return ""
}
