package graph

import (
	"math"
	"time"
)

// meter paces one quota two ways at once. A token bucket as deep as the
// quota, refilled at quota/window, spreads spending evenly; a sliding
// window makes sure no span of one window ever holds more than the quota,
// whether Graph counts with a continuously refilled bucket (graph.md §6.2)
// or with a window whose units come back one span after they were spent
// (the fake tenant). Spending that satisfies the window satisfies both.
//
// The quota in force (limit) starts at the configured one (full) and drops
// when Graph throttles anyway, which means someone else spends from the
// same budget; it climbs back step by step while Graph stays quiet.
//
// Every operation costs O(1), amortised: the window is a running sum of
// what is on the wire and a queue of answered spends in answer order,
// which leave from its head.
type meter struct {
	full  float64
	limit float64
	span  time.Duration

	tokens float64
	last   time.Time // bucket refilled up to here; in the future during a pause

	// A spend stays in the window while it is on the wire (Graph counts it
	// somewhere between sending and answering), then for one span after its
	// answer, so the window never lets a spend leave before Graph's own
	// window lets it go.
	inflight  float64 // units of spends not answered yet
	onWire    int     // how many such spends
	answered  answeredLog
	granule   time.Duration
	answerSum float64 // units in answered
}

// spend is what one reservation booked in one meter.
type spend struct {
	n    float64
	done bool
}

// answeredLog is a queue of answered spends, oldest first. Answers arrive in
// time order, so the oldest is always the next to leave the window.
type answeredLog struct {
	q    []answer
	head int
}

type answer struct {
	at time.Time
	n  float64
}

const (
	// minShare is the least of its quota a meter keeps after throttling.
	minShare = 0.05
	// maxCut is the most one throttling episode takes off the quota.
	maxCut = 0.5
	// recoverStep is what a quiet period gives back, as a share of the
	// configured quota.
	recoverStep = 0.05
	// granules is how finely the window dates answers: two answers less
	// than span/granules apart are kept as one, dated by the later (which
	// holds them in the window a little longer, never shorter). It bounds
	// the queue at about this many entries however fast requests go.
	granules = 1024
)

func newMeter(quota int, span time.Duration, burst int, headroom float64, now time.Time) *meter {
	full := math.Max(1, math.Floor(float64(quota)*(1-headroom)+1e-6))
	return &meter{full: full, limit: full, span: span, tokens: math.Min(float64(burst), full), last: now, granule: span / granules}
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
// assumed to end by t, so it leaves after every answered one.
func (m *meter) windowTime(t time.Time, n float64) time.Time {
	need := m.expire(t) + n - m.limit
	if need <= 0 || n > m.limit {
		return t
	}
	for _, a := range m.answered.q[m.answered.head:] {
		need -= a.n
		if need <= 0 {
			return latest(t, a.at.Add(m.span))
		}
	}
	if m.inflight > 0 {
		return t.Add(m.span)
	}
	return t
}

// expire drops the answered spends that have left the window at t and
// returns what the window still holds.
func (m *meter) expire(t time.Time) float64 {
	l := &m.answered
	for l.head < len(l.q) && !t.Before(l.q[l.head].at.Add(m.span)) {
		m.answerSum -= l.q[l.head].n
		l.head++
	}
	if l.head == len(l.q) {
		// Empty: start afresh, which also clears rounding drift.
		l.q, l.head, m.answerSum = l.q[:0], 0, 0
	} else if l.head > granules && l.head*2 > len(l.q) {
		l.q = append(l.q[:0], l.q[l.head:]...)
		l.head = 0
	}
	return m.answerSum + m.inflight
}

// record books n units going on the wire.
func (m *meter) record(n float64) *spend {
	if n <= 0 {
		return nil
	}
	m.inflight += n
	m.onWire++
	return &spend{n: n}
}

// shrink takes n units off a spend still on the wire (they will not be
// sent).
func (m *meter) shrink(e *spend, n float64) {
	if e == nil || e.done {
		return
	}
	n = math.Min(n, e.n)
	e.n -= n
	m.inflight -= n
	if e.n <= 0 {
		e.done = true
		m.landed()
	}
}

// answered moves a spend off the wire into the window, dated at, costing n
// units (what Graph said it cost, or what was booked).
func (m *meter) answer(e *spend, at time.Time, n float64) {
	if e == nil || e.done {
		return
	}
	m.inflight -= e.n
	e.done, e.n = true, n
	m.landed()
	m.add(at, n)
}

// landed notes that one spend left the wire; when none is left the sum is
// reset, so rounding never leaves a phantom unit in flight.
func (m *meter) landed() {
	m.onWire--
	if m.onWire <= 0 {
		m.onWire, m.inflight = 0, 0
	}
}

// add puts n answered units in the window, dated at (never before the
// latest answer: answers are dated in time order).
func (m *meter) add(at time.Time, n float64) {
	if n <= 0 {
		return
	}
	l := &m.answered
	m.answerSum += n
	if last := len(l.q) - 1; last >= l.head {
		tail := &l.q[last]
		if at.Before(tail.at) {
			at = tail.at
		}
		if at.Sub(tail.at) < m.granule {
			tail.at, tail.n = at, tail.n+n
			return
		}
	}
	l.q = append(l.q, answer{at: at, n: n})
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
