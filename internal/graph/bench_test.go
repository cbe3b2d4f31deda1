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

// benchTimeScale is the fake tenant's --time-scale for the benchmark:
// Graph's 20 writes/s become 2,000 per wall second.
const benchTimeScale = 100

// benchUsers is how many users one benchmark iteration creates.
const benchUsers = 5000

// BenchmarkCreateUsers drives 5,000 user creations through the client, from
// 200 concurrent callers as the engine's executor would, against the fake
// tenant with the entra throttling profile at time scale 100. It reports:
//
//   - ceiling-ratio: achieved writes per tenant second ÷ Graph's 20/s;
//   - 429-share: requests answered 429 ÷ all requests;
//   - requests/write: Graph requests (inner $batch requests included) per
//     user created, and http/write: HTTP exchanges per user created.
//
// Run: go test -run '^$' -bench CreateUsers -benchtime 1x ./internal/graph/
func BenchmarkCreateUsers(b *testing.B) {
	for i := 0; i < b.N; i++ {
		runCreateUsers(b, i)
	}
}

func runCreateUsers(b *testing.B, iter int) {
	b.StopTimer()
	f := newFixture(b, func(c *faketenant.Config, _ *config.Target, o *graph.Options) {
		c.TimeScale = benchTimeScale
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
	const callers = 200
	b.StartTimer()
	startTenant := f.tenant.Now()
	for range callers {
		wg.Go(func() {
			for n := range work {
				_, err := f.client.CreateUser(ctx, benchUser(iter, n))
				if err != nil {
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
	elapsed := f.tenant.Now().Sub(startTenant)
	b.StopTimer()
	if len(failures) > 0 {
		b.Fatalf("%d creations failed, first: %v", len(failures), failures[0])
	}
	snap := f.stats.Snapshot()
	rate := float64(benchUsers) / elapsed.Seconds()
	b.ReportMetric(rate/config.DefaultWriteRate, "ceiling-ratio")
	b.ReportMetric(float64(snap.Throttled)/float64(snap.Requests), "429-share")
	b.ReportMetric(float64(snap.Requests)/benchUsers, "requests/write")
	b.ReportMetric(float64(snap.HTTPRequests)/benchUsers, "http/write")
	b.ReportMetric(elapsed.Seconds(), "tenant-s")
	if got := len(f.tenant.Users()); got != benchUsers {
		b.Errorf("the tenant holds %d users, want %d", got, benchUsers)
	}
	if w := f.tenant.Counters().MaxWritesIn(150 * time.Second); w > 3000 {
		b.Errorf("%d writes within 150 s", w)
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
