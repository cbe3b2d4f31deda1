package graph

import (
	"sort"
	"sync"
	"time"
)

// Metrics receives what the client observes. The console's Prometheus
// adapter implements it; the default discards everything. Path labels are
// templates ("/users/{id}"), never raw paths. Implementations must be safe
// for concurrent use and fast: they are called on the request path.
type Metrics interface {
	// ObserveRequest is called once per Graph request answered, inner
	// requests of a $batch included (their duration is the batch's).
	ObserveRequest(method, pathTemplate string, status int, dur time.Duration, resourceUnits int)
	// ObserveHTTP is called once per HTTP exchange with Graph: batchSize
	// is the number of requests in a $batch, 0 for a request sent alone;
	// status is 0 when no answer came.
	ObserveHTTP(batchSize, status int, dur time.Duration)
	// Throttled is called for every 429.
	Throttled(method, pathTemplate string, retryAfter time.Duration)
	// Retried is called each time a request is queued again, with the reason.
	Retried(method, pathTemplate string, reason RetryReason)
}

// RetryReason says why a request was sent again.
type RetryReason string

// Retry reasons.
const (
	RetryThrottled   RetryReason = "throttled"   // 429
	RetryTransient   RetryReason = "transient"   // 5xx, timeout, transport
	RetryLag         RetryReason = "replication" // 404 on an object this client just created
	RetryAuth        RetryReason = "auth"        // 401, token refreshed
	RetryFailedBatch RetryReason = "dependency"  // skipped (424) because its dependency is retried
)

// NopMetrics discards everything.
type NopMetrics struct{}

func (NopMetrics) ObserveRequest(string, string, int, time.Duration, int) {}
func (NopMetrics) ObserveHTTP(int, int, time.Duration)                    {}
func (NopMetrics) Throttled(string, string, time.Duration)                {}
func (NopMetrics) Retried(string, string, RetryReason)                    {}

// Stats is a Metrics that keeps counters and a latency histogram in memory;
// tests, benchmarks and the CLI read it with Snapshot.
type Stats struct {
	mu sync.Mutex
	s  StatsSnapshot
}

// latencyBounds are the upper bounds of the latency histogram.
func latencyBounds() []time.Duration {
	return []time.Duration{
		10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond,
		100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
		time.Second, 2500 * time.Millisecond, 5 * time.Second, 10 * time.Second,
	}
}

// StatsSnapshot is a copy of Stats' counters.
type StatsSnapshot struct {
	// Requests counts Graph requests answered (inner batch requests
	// included), Writes the POST/PATCH/PUT/DELETE among them.
	Requests int
	Writes   int
	// Batches counts $batch exchanges; HTTPRequests every HTTP exchange
	// with Graph (batches plus requests sent alone).
	Batches      int
	HTTPRequests int
	// ByStatus counts Requests by status.
	ByStatus      map[int]int
	Throttled     int
	Retries       map[RetryReason]int
	ResourceUnits int
	// Latency counts requests per bucket: Latency[i] counts durations up to
	// LatencyBounds[i], the last entry those above every bound.
	Latency       []int
	LatencyBounds []time.Duration
}

// ObserveRequest implements Metrics.
func (s *Stats) ObserveRequest(method, _ string, status int, dur time.Duration, ru int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	s.s.Requests++
	if method != "GET" {
		s.s.Writes++
	}
	s.s.ByStatus[status]++
	s.s.ResourceUnits += ru
	b := s.s.LatencyBounds
	i := sort.Search(len(b), func(i int) bool { return dur <= b[i] })
	s.s.Latency[i]++
}

// ObserveHTTP implements Metrics.
func (s *Stats) ObserveHTTP(size, _ int, _ time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	s.s.HTTPRequests++
	if size > 0 {
		s.s.Batches++
	}
}

// Throttled implements Metrics.
func (s *Stats) Throttled(string, string, time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	s.s.Throttled++
}

// Retried implements Metrics.
func (s *Stats) Retried(_, _ string, reason RetryReason) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	s.s.Retries[reason]++
}

func (s *Stats) init() {
	if s.s.ByStatus == nil {
		s.s.ByStatus = map[int]int{}
		s.s.Retries = map[RetryReason]int{}
		s.s.LatencyBounds = latencyBounds()
		s.s.Latency = make([]int, len(s.s.LatencyBounds)+1)
	}
}

// Reset zeroes the counters.
func (s *Stats) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.s = StatsSnapshot{}
}

// Snapshot returns a copy of the counters.
func (s *Stats) Snapshot() StatsSnapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	c := s.s
	c.ByStatus = make(map[int]int, len(s.s.ByStatus))
	for k, v := range s.s.ByStatus {
		c.ByStatus[k] = v
	}
	c.Retries = make(map[RetryReason]int, len(s.s.Retries))
	for k, v := range s.s.Retries {
		c.Retries[k] = v
	}
	c.Latency = append([]int(nil), s.s.Latency...)
	c.LatencyBounds = append([]time.Duration(nil), s.s.LatencyBounds...)
	return c
}
