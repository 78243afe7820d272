package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/rsguard/rsguard/e2e/harness"
)

// silenceSeconds is one sidecar's rsguard_supervisor_mongod_silence_seconds for one mongod and
// outcome: observations, their sum, and the cumulative count per bucket bound.
type silenceSeconds struct {
	count   uint64
	sum     float64
	buckets map[float64]uint64
}

// scrapeSilences reads rsguard_supervisor_mongod_silence_seconds{mongod, outcome} from c.
func scrapeSilences(ctx context.Context, c *sidecar, mongod, outcome string) (silenceSeconds, error) {
	out := silenceSeconds{buckets: map[float64]uint64{}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+c.HTTP+"/metrics", nil)
	if err != nil {
		return out, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return out, fmt.Errorf("scrape %s: %w", c.ID, err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		return out, fmt.Errorf("parse the metrics of %s: %w", c.ID, err)
	}
	mf := mfs["rsguard_supervisor_mongod_silence_seconds"]
	if mf == nil {
		return out, nil // no silence yet: the histogram has no series
	}
	for _, m := range mf.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		if labels["mongod"] != mongod || labels["outcome"] != outcome {
			continue
		}
		h := m.GetHistogram()
		out.count, out.sum = h.GetSampleCount(), h.GetSampleSum()
		for _, b := range h.GetBucket() {
			out.buckets[b.GetUpperBound()] = b.GetCumulativeCount()
		}
	}
	return out, nil
}

// TestDrillBlipsReadShorterThanUnreachableAfter is the must-not-fire side of the silence watch
// with real processes, the real driver and iptables: 2-second blips of the primary's host (its
// mongod and sidecar cut from every other host, the arbiter sidecar's included), at random phases of the sidecars' probe rounds,
// change nothing, and every other sidecar reads each of them as a silence that ended below
// probe.unreachable_after (3 s), none as one that made the primary unreachable. The spread of
// the readings is the margin a 2 s blip keeps: it goes to the report.
func TestDrillBlipsReadShorterThanUnreachableAfter(t *testing.T) {
	_, supBin := harness.BuildOnce(t)
	fw, err := harness.NewFirewall(t)
	if err != nil {
		t.Fatal(err)
	}
	blips := shortOrFull(3, 30)
	q := newQuietSet(t, supBin, fw)
	d, p := q.drillSet, q.p
	ctx := context.Background()
	t0 := time.Now()
	invariant := q.unchanged(t, &t0, func(*harness.Host) bool { return false })

	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 11))
	for i := range blips {
		// A quiet gap of 4 to 6 s: the blips fall at every phase of the 1 s probe rounds, each
		// one alone. Closer blips are a flapping link, not a blip: a write probe the blip
		// delayed (TCP retransmits it about 3 s after it was sent) runs into the next one, and
		// with gaps of 2 s the write-stall evidence of the sick-primary rule was sustained
		// across blips for 5 s once in 30 (it failed the primary over, sick_primary).
		holdWhile(t, 4*time.Second+time.Duration(rng.Int64N(int64(2*time.Second))), "before a blip", invariant)
		d.c.Timeline.Mark("blip %d of %d: isolate the primary's host %s for 2s", i+1, blips, p.Addr)
		fw.Isolate(p, append(d.c.Others(p), d.bare...)...)
		holdWhile(t, 2*time.Second, "during a 2s blip of the primary's host", invariant)
		fw.HealAll()
	}
	holdWhile(t, 5*time.Second, "after the last blip", invariant)

	rep := newDrillReport(fmt.Sprintf("Drill 4b: %d blips of 2 s of the primary's host, read by the other sidecars", blips))
	var total, under2, under25 uint64
	var sum float64
	for _, c := range q.cars.cars {
		if c.Host == p {
			continue // its own sidecar still reaches its mongod
		}
		lost, err := scrapeSilences(ctx, c, p.String(), "unreachable")
		if err != nil {
			t.Fatal(err)
		}
		if lost.count != 0 {
			t.Errorf("sidecar %s declared the primary %s unreachable %d times during 2s blips", c.ID, p, lost.count)
		}
		read, err := scrapeSilences(ctx, c, p.String(), "answered")
		if err != nil {
			t.Fatal(err)
		}
		if read.count < uint64(blips) {
			t.Errorf("sidecar %s read %d silences of %s for %d blips: are the blips effective?", c.ID, read.count, p, blips)
		}
		if n := read.buckets[3]; n != read.count {
			t.Errorf("sidecar %s: %d of %d silences of %s reached 3s (probe.unreachable_after)", c.ID, read.count-n, read.count, p)
		}
		total, sum = total+read.count, sum+read.sum
		under2, under25 = under2+read.buckets[2], under25+read.buckets[2.5]
		rep.note("sidecar %s: %d silences, mean %.2fs, %d at most 2.5s, all below 3s: %v", c.ID, read.count, read.sum/float64(max(read.count, 1)), read.buckets[2.5], read.buckets[3] == read.count)
	}
	if total > 0 {
		rep.note("all observers: %d silences read, mean %.2fs; %d (%.0f%%) at most 2s, %d (%.0f%%) at most 2.5s; none made the primary unreachable, no action, primary %s kept its term",
			total, sum/float64(total), under2, 100*float64(under2)/float64(total), under25, 100*float64(under25)/float64(total), p)
	}
	rep.publish(t)
}
