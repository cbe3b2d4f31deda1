package graph

import (
	"math"
	"sort"
	"time"
)

// meter paces one quota two ways at once. A token bucket as deep as the
// quota, refilled at quota/window, spreads spending evenly; a sliding
// window log makes sure no span of one window ever holds more than the
// quota, whether Graph counts with a continuously refilled bucket (graph.md
// §6.2) or with a window whose units come back one span after they were
// spent (the fake tenant). Spending that satisfies the window satisfies
// both.
//
// The quota in force (limit) starts at the configured one (full) and drops
// when Graph throttles anyway, which means someone else spends from the
// same budget; it climbs back step by step while Graph stays quiet.
type meter struct {
	full  float64
	limit float64
	span  time.Duration

	tokens float64
	last   time.Time // bucket refilled up to here; in the future during a pause
	// log holds the spends of the last window. A spend is dated by when it
	// was booked until its answer comes back, then by the answer's time: Graph
	// counted it somewhere in between, so the log never lets a spend leave
	// before Graph's own window lets it go.
	log []*spend
}

type spend struct {
	at   time.Time
	n    float64
	done bool
}

const (
	// minShare is the least of its quota a meter keeps after throttling.
	minShare = 0.05
	// maxCut is the most one throttling episode takes off the quota.
	maxCut = 0.5
	// recoverStep is what a quiet period gives back, as a share of the
	// configured quota.
	recoverStep = 0.05
)

func newMeter(quota int, span time.Duration, burst int, headroom float64, now time.Time) *meter {
	full := math.Max(1, math.Floor(float64(quota)*(1-headroom)+1e-6))
	return &meter{full: full, limit: full, span: span, tokens: math.Min(float64(burst), full), last: now}
}

func (m *meter) rate() float64 { return m.limit / m.span.Seconds() }

func (m *meter) refill(now time.Time) {
	if now.After(m.last) {
		m.tokens = math.Min(m.limit, m.tokens+m.rate()*now.Sub(m.last).Seconds())
		m.last = now
	}
}

// bucketTime takes n tokens and returns when the bucket has paid for them.
func (m *meter) bucketTime(now time.Time, n float64) time.Time {
	m.refill(now)
	m.tokens -= n
	at := latest(now, m.last)
	if m.tokens < 0 {
		at = at.Add(time.Duration(-m.tokens / m.rate() * float64(time.Second)))
	}
	return at
}

// windowTime is the first time from t on at which n more units fit in the
// window. Reservations come in time order, so a finished spend that has
// left the window at t has left for good. A spend still on the wire is
// assumed to end by t.
func (m *meter) windowTime(t time.Time, n float64) time.Time {
	used := m.expire(t)
	need := used + n - m.limit
	if need <= 0 || n > m.limit {
		return t
	}
	ends := make([]time.Time, len(m.log))
	order := make([]int, len(m.log))
	for i, e := range m.log {
		ends[i] = latest(e.at, t).Add(m.span)
		if e.done {
			ends[i] = e.at.Add(m.span)
		}
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return ends[order[a]].Before(ends[order[b]]) })
	for _, i := range order {
		need -= m.log[i].n
		if need <= 0 {
			return latest(t, ends[i])
		}
	}
	return t
}

// expire drops the finished spends that have left the window at t and
// returns what the window still holds.
func (m *meter) expire(t time.Time) float64 {
	live := m.log[:0]
	used := 0.0
	for _, e := range m.log {
		if e.done && !t.Before(e.at.Add(m.span)) {
			continue
		}
		live = append(live, e)
		used += e.n
	}
	clear(m.log[len(live):])
	m.log = live
	return used
}

func (m *meter) record(at time.Time, n float64) *spend {
	if n <= 0 {
		return nil
	}
	e := &spend{at: at, n: n}
	m.log = append(m.log, e)
	return e
}

// forget removes a spend that never went out.
func (m *meter) forget(e *spend) {
	for i, x := range m.log {
		if x == e {
			m.log = append(m.log[:i], m.log[i+1:]...)
			return
		}
	}
}

// pause empties the bucket until until: Graph said its own is empty.
func (m *meter) pause(now, until time.Time) {
	m.refill(now)
	m.tokens, m.last = 0, latest(m.last, until)
}

// cut lowers the quota in force after Graph refused a request on it. What
// this client spent in the window is what Graph let it have, so the quota
// drops to a little under that, but never by more than half at once nor
// below minShare of the configured quota.
func (m *meter) cut(now time.Time) {
	spent := 0.95 * m.expire(now)
	m.limit = math.Min(m.limit, math.Max(spent, m.limit*(1-maxCut)))
	m.limit = math.Max(m.limit, m.full*minShare)
	m.tokens = math.Min(m.tokens, m.limit)
}

// raise gives back one step of the quota.
func (m *meter) raise(at time.Time) {
	m.refill(at)
	m.limit = math.Min(m.full, m.limit+m.full*recoverStep)
}
