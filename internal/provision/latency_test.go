package provision_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/o365prov/o365prov/internal/bench"
	"github.com/o365prov/o365prov/internal/engine"
	"github.com/o365prov/o365prov/internal/faketenant"
)

// The default configuration (maxThreads 4) against a Graph that takes 1 s
// or 3 s to answer each exchange: the engine and the client keep enough
// requests in flight (rate × latency) to write at Graph's ceiling. With a
// fixed 20 operations in flight the rate could not pass 20 per latency
// (0.33 of the ceiling at 3 s). Tenant time runs ten times faster, so each
// case takes about six seconds; the rate is counted in tenant time, not
// timed: the writes past the first 20 (the pacer's start) per second from
// one latency after the client was opened (the tenant counts a write once
// its latency has passed) to the last accepted write. Time spent
// reading the directory and planning counts against the client, as does a
// stall of this busy machine: the pacer lets the budget they left unused be
// caught up, and only a pipeline wide enough for the latency does so.
func TestTheCeilingIsReachedWhateverGraphsLatency(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 1,000 users at Graph's rate twice")
	}
	const users = 1000
	for _, latency := range []time.Duration{time.Second, 3 * time.Second} {
		t.Run(fmt.Sprintf("answers taking %v still leave the rate at 0.95 of the ceiling or more", latency), func(t *testing.T) {
			w := newWorld(t, withLDIF(orgLDIF(users)), withScale(tenantTimeScale),
				withReplaced("    maxThreads: 8\n", ""),
				withReplaced("skuId: '${o365Sku}'", "skuId: ''\n        manager: ''"),
				withTenant(func(c *faketenant.Config) {
					c.Latency = faketenant.LatencyConfig{Distribution: "fixed", Mean: latency}
				}))
			if got := w.cfg.Channels[0].MaxThreads; got != 4 {
				t.Fatalf("maxThreads %d, want the default 4", got)
			}
			opened := w.tenant.Now()
			res := w.sync(engine.Full)
			if res.Failed > 0 || res.Succeeded != users {
				t.Fatalf("%d succeeded, %d failed", res.Succeeded, res.Failed)
			}
			c := w.tenant.Counters()
			last := slices.MaxFunc(c.WriteTimes, func(a, b time.Time) int { return a.Compare(b) })
			ratio := float64(c.WritesAccepted-20) / last.Sub(opened.Add(latency)).Seconds() / bench.Ceiling
			t.Logf("latency %v: %.3f of the ceiling, %d answered 429, %d writes, client latency %v", latency, ratio, c.Throttled, c.WritesAccepted, w.sys.Graph.Latency())
			if ratio < 0.95 {
				t.Errorf("%.3f of the ceiling, want 0.95 or more", ratio)
			}
			if most := c.MaxWritesIn(150 * time.Second); most > 3000 {
				t.Errorf("%d writes within 150 s of tenant time", most)
			}
			if c.Throttled > 0 {
				t.Errorf("%d answers 429", c.Throttled)
			}
		})
	}
}
