package graph_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/o365prov/o365prov/internal/config"
	"github.com/o365prov/o365prov/internal/faketenant"
	"github.com/o365prov/o365prov/internal/graph"
)

// benchUsers is how many users one benchmark iteration creates.
const benchUsers = 5000

// benchCallers is how many goroutines call CreateUser at once, as the
// engine's executor would: enough to keep MaxThreads (4) senders' batches
// full.
const benchCallers = 200

// BenchmarkCreateUsers drives 5,000 user creations through the client, from
// 200 concurrent callers, against the fake tenant with the entra throttling
// profile and a lognormal latency (median 150 ms), at time scale 100 (the
// figure of record: Graph's 20 writes/s become 2,000 per wall second) and
// at time scale 20 (the same pacing with a fifth of the CPU load, to tell
// the client's pacing from a busy machine). It reports:
//
//   - ceiling-ratio: achieved writes per tenant second ÷ Graph's 20/s;
//   - 429-share: requests answered 429 ÷ all requests;
//   - requests/write: Graph requests (inner $batch requests included) per
//     user created; http/write: HTTP exchanges per user created;
//   - cpu-ms/write: CPU time of the whole process (client and fake tenant)
//     per user created, where the platform tells it.
//
// Run: go test -run '^$' -bench CreateUsers -benchtime 1x ./internal/graph/
func BenchmarkCreateUsers(b *testing.B) {
	for _, scale := range []float64{100, 20} {
		b.Run(fmt.Sprintf("scale=%g", scale), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				runCreateUsers(b, scale, i)
			}
		})
	}
}

func runCreateUsers(b *testing.B, scale float64, iter int) {
	b.StopTimer()
	f := newFixture(b, func(c *faketenant.Config, _ *config.Target, o *graph.Options) {
		c.TimeScale = scale
		c.Throttling.Profile = "entra"
		c.Latency = faketenant.LatencyConfig{Distribution: "lognormal", Median: 150 * time.Millisecond, Sigma: 0.5}
		o.MaxThreads = config.DefaultMaxThreads
	})
	ctx := context.Background()
	// Sign in and open connections first: the measure is the write rate.
	if _, err := f.client.ListDomains(ctx); err != nil {
		b.Fatal(err)
	}
	f.stats.Reset()
	work := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []error
	b.StartTimer()
	cpu0 := processCPU()
	start := f.tenant.Now()
	for range benchCallers {
		wg.Go(func() {
			for n := range work {
				if _, err := f.client.CreateUser(ctx, benchUser(iter, n)); err != nil {
					mu.Lock()
					failures = append(failures, err)
					mu.Unlock()
				}
			}
		})
	}
	for n := range benchUsers {
		work <- n
	}
	close(work)
	wg.Wait()
	elapsed := f.tenant.Now().Sub(start)
	cpu := processCPU() - cpu0
	b.StopTimer()
	if len(failures) > 0 {
		b.Fatalf("%d creations failed, first: %v", len(failures), failures[0])
	}
	s := f.stats.Snapshot()
	b.ReportMetric(benchUsers/elapsed.Seconds()/config.DefaultWriteRate, "ceiling-ratio")
	b.ReportMetric(float64(s.Throttled)/float64(s.Requests), "429-share")
	b.ReportMetric(float64(s.Requests)/benchUsers, "requests/write")
	b.ReportMetric(float64(s.HTTPRequests)/benchUsers, "http/write")
	if cpu > 0 {
		b.ReportMetric(float64(cpu)/float64(time.Millisecond)/benchUsers, "cpu-ms/write")
	}
	if got := len(f.tenant.Users()); got != benchUsers {
		b.Errorf("the tenant holds %d users, want %d", got, benchUsers)
	}
	if w := f.tenant.Counters().MaxWritesIn(150 * time.Second); w > 3000 {
		b.Errorf("%d writes within 150 s of tenant time", w)
	}
}

func benchUser(iter, n int) graph.Properties {
	nick := fmt.Sprintf("bench%d-%05d", iter, n)
	return graph.Properties{
		"accountEnabled": true, "displayName": "Bench " + nick, "mailNickname": nick,
		"userPrincipalName": nick + "@contoso.com",
		"passwordProfile":   map[string]any{"forceChangePasswordNextSignIn": false, "password": "xWwvJ]6NMw+bWH-d" + nick},
		"usageLocation":     "GB", "givenName": "Bench", "surname": nick, "department": "Benchmarks",
	}
}
