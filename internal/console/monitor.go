package console

import (
	"sync"
	"time"

	"github.com/o365prov/o365prov/internal/graph"
)

// Monitor observes o365prov while it runs: Graph's requests (it is the
// graph client's Metrics), the operations and cycles recorded in state
// (through Observe), and each channel's progress. It feeds /metrics, the
// charts and the overview's last-hour figures. It is safe for concurrent
// use; the hooks are cheap, as they sit on the request path.
type Monitor struct {
	clock   func() time.Time
	ceiling float64 // writes per second the pacing allows
	started time.Time
	prom    *promMetrics
	counts  *countCache

	mu       sync.Mutex
	minutes  [minutesKept]minuteBucket
	seconds  [secondsKept]secondBucket
	progress map[string]*progress
}

// How much activity history is kept in memory.
const (
	minutesKept = 24 * 60
	secondsKept = 60 * 60
)

// minuteBucket is one minute of activity.
type minuteBucket struct {
	minute     int64 // unix minute this bucket holds; another value means empty
	operations int
	failed     int
	throttled  int
	requests   int
}

// secondBucket is one second of Graph writes.
type secondBucket struct {
	second int64
	writes int
}

// NewMonitor returns a monitor. ceiling is the write rate (writes per
// second) the Graph client paces to; clock may be nil (the wall clock).
func NewMonitor(ceiling float64, clock func() time.Time) *Monitor {
	if clock == nil {
		clock = time.Now
	}
	m := &Monitor{clock: clock, ceiling: ceiling, started: clock(), progress: map[string]*progress{}, counts: newCountCache()}
	m.prom = newPromMetrics(m)
	return m
}

var _ graph.Metrics = (*Monitor)(nil)

// isWrite reports whether a Graph request spends the write budget.
func isWrite(method string) bool { return method != "GET" && method != "HEAD" }

// ObserveRequest implements graph.Metrics.
func (m *Monitor) ObserveRequest(method, path string, status int, dur time.Duration, ru int) {
	m.prom.observeRequest(method, path, status, dur, ru)
	now := m.clock()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.minute(now).requests++
	if isWrite(method) && status < 400 {
		m.second(now).writes++
	}
}

// ObserveHTTP implements graph.Metrics.
func (m *Monitor) ObserveHTTP(batchSize, status int, dur time.Duration) {
	m.prom.observeHTTP(batchSize, status, dur)
}

// Throttled implements graph.Metrics.
func (m *Monitor) Throttled(method, path string, retryAfter time.Duration) {
	m.prom.throttled(method, path)
	now := m.clock()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.minute(now).throttled++
}

// Retried implements graph.Metrics.
func (m *Monitor) Retried(method, path string, reason graph.RetryReason) {
	m.prom.retried(string(reason))
}

// operation counts one operation o365prov recorded in its audit log.
func (m *Monitor) operation(channel, op, result string) {
	m.prom.operation(channel, op, result)
	now := m.clock()
	m.mu.Lock()
	defer m.mu.Unlock()
	b := m.minute(now)
	b.operations++
	if result == "failed" {
		b.failed++
	}
}

// minute returns now's bucket, emptied if it held an older minute.
// Callers hold mu.
func (m *Monitor) minute(now time.Time) *minuteBucket {
	u := now.Unix() / 60
	b := &m.minutes[u%minutesKept]
	if b.minute != u {
		*b = minuteBucket{minute: u}
	}
	return b
}

func (m *Monitor) second(now time.Time) *secondBucket {
	u := now.Unix()
	b := &m.seconds[u%secondsKept]
	if b.second != u {
		*b = secondBucket{second: u}
	}
	return b
}

// MinutePoint is one minute of activity, for the charts and the API.
type MinutePoint struct {
	Time       time.Time `json:"time"`
	Operations int       `json:"operations"`
	Failed     int       `json:"failed"`
	Throttled  int       `json:"throttled"`
	Requests   int       `json:"requests"`
}

// SecondPoint is one second of writes.
type SecondPoint struct {
	Time   time.Time `json:"time"`
	Writes int       `json:"writes"`
}

// perMinute returns the last n minutes up to now, oldest first.
func (m *Monitor) perMinute(now time.Time, n int) []MinutePoint {
	m.mu.Lock()
	defer m.mu.Unlock()
	last := now.Unix() / 60
	out := make([]MinutePoint, 0, n)
	for u := last - int64(n) + 1; u <= last; u++ {
		p := MinutePoint{Time: time.Unix(u*60, 0).UTC()}
		if b := m.minutes[((u%minutesKept)+minutesKept)%minutesKept]; b.minute == u {
			p.Operations, p.Failed, p.Throttled, p.Requests = b.operations, b.failed, b.throttled, b.requests
		}
		out = append(out, p)
	}
	return out
}

// perSecond returns the writes of each second in [from, to], at most an
// hour back.
func (m *Monitor) perSecond(from, to time.Time) []SecondPoint {
	m.mu.Lock()
	defer m.mu.Unlock()
	first, last := from.Unix(), to.Unix()
	if last-first >= secondsKept {
		first = last - secondsKept + 1
	}
	out := make([]SecondPoint, 0, last-first+1)
	for u := first; u <= last; u++ {
		p := SecondPoint{Time: time.Unix(u, 0).UTC()}
		if b := m.seconds[((u%secondsKept)+secondsKept)%secondsKept]; b.second == u {
			p.Writes = b.writes
		}
		out = append(out, p)
	}
	return out
}

// budgetWindow is the span Graph counts writes over (3,000 per 150 s).
const budgetWindow = 150

// tenantActivity sums the last hour.
func (m *Monitor) tenantActivity(now time.Time) TenantActivity {
	t := TenantActivity{CeilingPerSec: m.ceiling, Since: m.started.UTC().Format(time.RFC3339)}
	for _, p := range m.perMinute(now, 60) {
		t.Throttled += p.Throttled
		t.Requests += p.Requests
	}
	secs := m.perSecond(now.Add(-time.Hour+time.Second), now)
	window := 0
	peak := 0
	for i, p := range secs {
		t.Writes += p.Writes
		window += p.Writes
		if i >= budgetWindow {
			window -= secs[i-budgetWindow].Writes
		}
		peak = max(peak, window)
	}
	if m.ceiling > 0 {
		t.PeakBudgetShare = float64(peak) / (m.ceiling * budgetWindow)
	}
	return t
}
