package faketenant

import (
	"slices"
	"sync"
	"time"
)

// stats counts what the tenant served, for tests, benchmarks and the demo.
type stats struct {
	mu         sync.Mutex
	requests   map[RequestKey]int64
	writes     int64
	throttles  int64
	byScope    map[string]int64
	faults     int64
	writeTimes []time.Time
}

// RequestKey identifies a counter: method, path template and status.
type RequestKey struct {
	Method string `json:"method"`
	Path   string `json:"path"`
	Status int    `json:"status"`
}

// maxWriteTimes bounds the write log; older entries are dropped first.
const maxWriteTimes = 1 << 20

func newStats() *stats {
	return &stats{requests: map[RequestKey]int64{}, byScope: map[string]int64{}}
}

func (s *stats) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests, s.byScope = map[RequestKey]int64{}, map[string]int64{}
	s.writes, s.throttles, s.faults, s.writeTimes = 0, 0, 0, nil
}

func (s *stats) count(method, path string, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests[RequestKey{method, path, status}]++
}

func (s *stats) write(at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes++
	if len(s.writeTimes) >= maxWriteTimes {
		s.writeTimes = append(s.writeTimes[:0:0], s.writeTimes[maxWriteTimes/2:]...)
	}
	s.writeTimes = append(s.writeTimes, at)
}

func (s *stats) throttled(scope string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttles++
	s.byScope[scope]++
}

func (s *stats) fault() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults++
}

// Counters is a snapshot of the tenant's counters.
type Counters struct {
	Requests []RequestCount `json:"requests"`
	// WritesAccepted counts writes that passed throttling (each inner
	// request of a $batch on its own).
	WritesAccepted int64 `json:"writesAccepted"`
	// Throttled counts 429 answers, outer or inside a batch.
	Throttled        int64            `json:"throttled"`
	ThrottledByScope map[string]int64 `json:"throttledByScope"`
	Faults           int64            `json:"faults"`
	// WriteTimes are the tenant times at which writes were accepted, oldest
	// first (the most recent 2^20 at most).
	WriteTimes []time.Time `json:"writeTimes,omitempty"`
}

// RequestCount is one counter.
type RequestCount struct {
	RequestKey
	Count int64 `json:"count"`
}

func (s *stats) snapshot(withTimes bool) Counters {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := Counters{WritesAccepted: s.writes, Throttled: s.throttles, Faults: s.faults, ThrottledByScope: map[string]int64{}}
	for k, v := range s.requests {
		c.Requests = append(c.Requests, RequestCount{k, v})
	}
	slices.SortFunc(c.Requests, func(a, b RequestCount) int {
		if a.Path != b.Path {
			if a.Path < b.Path {
				return -1
			}
			return 1
		}
		if a.Method != b.Method {
			if a.Method < b.Method {
				return -1
			}
			return 1
		}
		return a.Status - b.Status
	})
	for k, v := range s.byScope {
		c.ThrottledByScope[k] = v
	}
	if withTimes {
		c.WriteTimes = append([]time.Time(nil), s.writeTimes...)
	}
	return c
}

// Count returns the number of requests with the given method, path template
// and status (0 status matches any).
func (c Counters) Count(method, path string, status int) int64 {
	var n int64
	for _, r := range c.Requests {
		if r.Method == method && r.Path == path && (status == 0 || r.Status == status) {
			n += r.Count
		}
	}
	return n
}

// MaxWritesIn is the largest number of accepted writes within any span of
// length w (tenant time): the figure to hold against "3,000 per 150 s".
func (c Counters) MaxWritesIn(w time.Duration) int {
	times := slices.Clone(c.WriteTimes)
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	best, lo := 0, 0
	for hi := range times {
		for times[hi].Sub(times[lo]) >= w {
			lo++
		}
		if n := hi - lo + 1; n > best {
			best = n
		}
	}
	return best
}
