package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/rsguard/rsguard/api"
	"github.com/rsguard/rsguard/apiclient"
	"github.com/rsguard/rsguard/drill"
)

// The demo's second half: what an operator does with the API (the CLI's verbs, the dashboard's
// buttons): a planned switchover back to the former primary, a resync of a member from
// scratch, and the set's history, all through the one API client.

// operatorWait bounds one operator action (a resync of the demo's small data set included).
const operatorWait = 2 * time.Minute

// operator is an API client with the admin token, talking to sidecar s.
func (d *demo) operator(s *sidecar) (*apiclient.Client, error) {
	tok, err := d.set.Sidecars.Token(s.Sidecar)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	return apiclient.New(apiclient.Options{Addr: s.http, Token: tok, Timeout: 10 * time.Second})
}

// operate runs the operator's part and returns what went wrong, "" when nothing did.
func (d *demo) operate(ctx context.Context, res *failoverResult) string {
	fmt.Fprintf(d.out, "\noperator: the same actions as `supervisor switchover|resync|history` and the dashboard at %s/ui/\n", d.cars[0].base())
	cl, err := d.operator(d.cars[len(d.cars)-1]) // ask the arbiter sidecar: any sidecar answers for the set
	if err != nil {
		return err.Error()
	}
	// 1. Planned switchover back to the member that was killed (it rejoined as SECONDARY).
	to := res.killed
	c, err := cl.Cluster(ctx)
	if err != nil {
		return "reading the cluster: " + err.Error()
	}
	from := c.Primary
	d.say("planned switchover %s -> %s, asked of sidecar %s", from, to, d.cars[len(d.cars)-1].id)
	var sw api.ActionResult
	_, err = d.waitFor(ctx, time.Minute, "a switchover plan to "+to, func(ctx context.Context) (string, error) {
		plan, err := cl.Do(ctx, api.ActionSwitchover, "", api.ActionRequest{Actor: "demo", To: to, Why: "demo: hand the primary back"}, apiclient.DoOptions{DryRun: true})
		if err != nil {
			return "", err // e.g. refused_target_lagging while it catches up, or refused_election_quiet
		}
		sw = plan
		return "", nil
	})
	if err != nil {
		return "switchover: " + err.Error()
	}
	for _, st := range sw.Steps {
		fmt.Fprintf(d.out, "           plan: %-13s %-18s %s\n", st.Do, st.Host, st.Detail)
	}
	before := time.Now()
	sw, err = cl.Do(ctx, api.ActionSwitchover, "", api.ActionRequest{Actor: "demo", To: to, Why: "demo: hand the primary back"}, apiclient.DoOptions{Wait: operatorWait})
	after := time.Now()
	if err != nil {
		return "switchover: " + err.Error()
	}
	gap := drill.LongestGap(d.load.snapshot(), drill.OpMajority, before, after)
	d.say("switchover %s (%s) by sidecar %s in %dms; the w:\"majority\" workload paused %dms at most", sw.State, sw.Reason, sw.Executor, sw.DurationMs, gap.Milliseconds())

	// 2. Resync the member that was primary before the switchover, from scratch.
	member := from
	d.say("resync %s from scratch (stop mongod, keep its dbpath aside, initial sync)", member)
	done := make(chan struct{})
	for _, car := range d.cars {
		if car.host != nil && car.host.name() == member {
			if own, err := d.operator(car); err == nil {
				go d.narrateResync(ctx, own, done) // its own sidecar knows the phase and the progress
			}
		}
	}
	// Right after the switchover the asked sidecar may not see the new primary yet: the dry run
	// says so (refused_no_primary) until it does.
	if _, err := d.waitFor(ctx, time.Minute, "a resync plan for "+member, func(ctx context.Context) (string, error) {
		_, err := cl.Do(ctx, api.ActionResync, member, api.ActionRequest{Actor: "demo"}, apiclient.DoOptions{DryRun: true})
		return "", err
	}); err != nil {
		close(done)
		return "resync: " + err.Error()
	}
	rs, err := cl.Do(ctx, api.ActionResync, member, api.ActionRequest{Actor: "demo", Why: "demo: rebuild a member"}, apiclient.DoOptions{Wait: operatorWait})
	close(done)
	if err != nil {
		return "resync: " + err.Error()
	}
	d.say("resync %s (%s) by sidecar %s in %.1fs: %s", rs.State, rs.Reason, rs.Executor, float64(rs.DurationMs)/1000, rs.Message)

	// 3. The history, as any sidecar tells it.
	h, err := cl.History(ctx, apiclient.HistoryQuery{Since: d.started})
	if err != nil {
		return "history: " + err.Error()
	}
	fmt.Fprintln(d.out, "\nhistory (`supervisor history`):")
	for _, ev := range h.Events {
		fmt.Fprintf(d.out, "  %s  %-16s %s\n", ev.Time.Local().Format("15:04:05.000"), ev.Kind, ev.Summary)
	}
	return ""
}

// narrateResync prints the resync's phase and progress as the cluster view reports them.
func (d *demo) narrateResync(ctx context.Context, cl *apiclient.Client, done <-chan struct{}) {
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	last := ""
	for {
		select {
		case <-ctx.Done():
			return
		case <-done:
			return
		case <-t.C:
		}
		c, err := cl.Cluster(ctx)
		if err != nil || c.Resync == nil {
			continue
		}
		line := c.Resync.Phase
		if c.Resync.Percent >= 0 {
			line += fmt.Sprintf(" %.0f%%", c.Resync.Percent)
		}
		if line != last {
			d.say("  resync of %s: %s", c.Resync.Member, line)
			last = line
		}
	}
}
