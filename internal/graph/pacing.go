package graph

import (
	"context"
	"math"
	"sort"
	"sync"
	"time"
)

// Limits size the client's pacing after Graph's quotas for one application
// in one tenant (graph.md §6.2): Writes per WriteWindow (3,000 per 150 s)
// and ResourceUnits per RUWindow (3,500 per 10 s in the smallest tenants).
type Limits struct {
	Writes        int
	WriteWindow   time.Duration
	ResourceUnits int
	RUWindow      time.Duration
	// WriteBurst and RUBurst are how much may leave at once when the client
	// starts; after that spending is spread evenly at quota/window, and
	// budget left unused (a stall, a quiet spell) accumulates up to the
	// quota to be caught up later, as in Graph's own bucket. Defaults: one
	// $batch of writes (20), a tenth of the RU quota. Starting low keeps a
	// restarted client from spending a window its previous run already
	// spent.
	WriteBurst int
	RUBurst    int
	// Headroom keeps the client this fraction under each quota, for the
	// jitter between when the client sends and when Graph counts; default
	// 0.01.
	Headroom float64
}

// EntraLimits are the documented limits for one app in one small tenant.
func EntraLimits() Limits {
	return Limits{Writes: 3000, WriteWindow: 150 * time.Second, ResourceUnits: 3500, RUWindow: 10 * time.Second}
}

// Scaled returns the limits for a tenant whose clock runs timeScale times
// faster than the wall clock (the fake tenant's --time-scale): the same
// quotas over windows that many times shorter.
func (l Limits) Scaled(timeScale float64) Limits {
	if timeScale > 0 {
		l.WriteWindow = time.Duration(float64(l.WriteWindow) / timeScale)
		l.RUWindow = time.Duration(float64(l.RUWindow) / timeScale)
	}
	return l
}

// limitsFrom sizes the quotas from config's writes/s and RU per 10 s, with
// the write window as long as Graph's (rate × 150 s).
func limitsFrom(writeRate float64, resourceUnits int) Limits {
	l := EntraLimits()
	if writeRate > 0 {
		l.Writes = int(math.Round(writeRate * l.WriteWindow.Seconds()))
	}
	if resourceUnits > 0 {
		l.ResourceUnits = resourceUnits
	}
	return l
}

func (l Limits) withDefaults() Limits {
	if l.WriteBurst <= 0 {
		l.WriteBurst = maxBatch
	}
	if l.RUBurst <= 0 {
		l.RUBurst = max(l.ResourceUnits/10, maxBatch)
	}
	if l.Headroom <= 0 || l.Headroom >= 1 {
		l.Headroom = 0.01
	}
	return l
}

// meter paces one quota two ways at once. A token bucket as deep as the
// quota, refilled at quota/window, spreads spending evenly; a sliding
// window log makes sure no span of one window ever holds more than the
// quota, whether Graph counts with a continuously refilled bucket (graph.md
// §6.2) or with a window whose units come back one span after they were
// spent (the fake tenant). Spending that satisfies the window satisfies
// both.
type meter struct {
	limit float64
	span  time.Duration
	rate  float64 // units per second at full speed

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

func newMeter(quota int, span time.Duration, burst int, headroom float64, now time.Time) *meter {
	limit := math.Max(1, math.Floor(float64(quota)*(1-headroom)+1e-6))
	return &meter{limit: limit, span: span, rate: limit / span.Seconds(), tokens: math.Min(float64(burst), limit), last: now}
}

// bucketTime takes n tokens and returns when the bucket has paid for them.
func (m *meter) bucketTime(now time.Time, n, factor float64) time.Time {
	if now.After(m.last) {
		m.tokens = math.Min(m.limit, m.tokens+m.rate*factor*now.Sub(m.last).Seconds())
		m.last = now
	}
	m.tokens -= n
	at := latest(now, m.last)
	if m.tokens < 0 {
		at = at.Add(time.Duration(-m.tokens / (m.rate * factor) * float64(time.Second)))
	}
	return at
}

// windowTime is the first time from t on at which n more units fit in the
// window. Reservations come in time order, so a finished spend that has
// left the window at t has left for good. A spend still on the wire is
// assumed to end by t.
func (m *meter) windowTime(t time.Time, n float64) time.Time {
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
func (m *meter) pause(now, until time.Time, factor float64) {
	m.bucketTime(now, 0, factor)
	m.tokens, m.last = 0, latest(m.last, until)
}

// pacer spends the write and resource-unit budgets at Graph's own rate, and
// slows down when Graph throttles anyway (someone else spends the same
// budget: another instance, the tenant-wide limit, a loaded service).
type pacer struct {
	clock Clock

	mu     sync.Mutex
	writes *meter
	ru     *meter
	// lastAt is the latest reservation: reservations are handed out in
	// time order.
	lastAt time.Time
	// factor scales both refill rates: cut on a new throttling episode,
	// raised back step by step while none comes.
	factor        float64
	lastChange    time.Time
	recoverPeriod time.Duration
	pausedUntil   time.Time
	// epoch counts throttling episodes; a reservation made before the
	// latest one is void and is made again.
	epoch int
}

const (
	throttleCut = 0.8
	minFactor   = 0.25
	recoverStep = 0.05
	// recoverWindows is the quiet time between two raises, in write
	// windows: 10 s for Graph's 150 s.
	recoverWindows = 1.0 / 15
)

func newPacer(l Limits, clock Clock) *pacer {
	l = l.withDefaults()
	now := clock.Now()
	return &pacer{
		clock:  clock,
		writes: newMeter(l.Writes, l.WriteWindow, l.WriteBurst, l.Headroom, now),
		ru:     newMeter(l.ResourceUnits, l.RUWindow, l.RUBurst, l.Headroom, now),
		factor: 1, lastChange: now,
		recoverPeriod: time.Duration(float64(l.WriteWindow) * recoverWindows),
	}
}

// ticket is a reservation: what it booked in each meter.
type ticket struct {
	writes, ru *spend
	w, r       int
	epoch      int
}

// wait blocks until the client may send requests costing writes writes and
// ru resource units, and returns the reservation to finish once they are
// answered.
func (p *pacer) wait(ctx context.Context, writes, ru int) (*ticket, error) {
	for {
		t, at := p.reserve(writes, ru)
		for {
			now := p.clock.Now()
			p.mu.Lock()
			voided := p.epoch != t.epoch
			p.mu.Unlock()
			if voided {
				p.cancel(t, 0, 0)
				break
			}
			if !at.After(now) {
				return t, nil
			}
			if err := sleep(ctx, p.clock, at.Sub(now)); err != nil {
				p.cancel(t, writes, ru)
				return nil, err
			}
		}
	}
}

// reserve books writes and ru and returns when they may be sent.
func (p *pacer) reserve(writes, ru int) (*ticket, time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.clock.Now()
	p.recover(now)
	w, r := float64(writes), float64(ru)
	at := latest(now, latest(p.lastAt, p.pausedUntil))
	at = latest(at, p.writes.bucketTime(now, w, p.factor))
	at = latest(at, p.ru.bucketTime(now, r, p.factor))
	at = latest(p.writes.windowTime(at, w), p.ru.windowTime(at, r))
	p.lastAt = at
	return &ticket{writes: p.writes.record(at, w), ru: p.ru.record(at, r), w: writes, r: ru, epoch: p.epoch}, at
}

// cancel takes back part of a reservation that will not be sent (its
// callers gave up, or a throttling episode voided it): writes and ru leave
// the windows and return to the buckets.
func (p *pacer) cancel(t *ticket, writes, ru int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if writes == 0 && ru == 0 {
		// Voided: the buckets were emptied since; only the windows forget.
		writes, ru = t.w, t.r
	} else if t.epoch == p.epoch {
		p.writes.tokens = math.Min(p.writes.limit, p.writes.tokens+float64(writes))
		p.ru.tokens = math.Min(p.ru.limit, p.ru.tokens+float64(ru))
	}
	shrink(p.writes, t.writes, float64(writes))
	shrink(p.ru, t.ru, float64(ru))
	t.w, t.r = t.w-writes, t.r-ru
}

func shrink(m *meter, e *spend, n float64) {
	if e == nil {
		return
	}
	e.n -= n
	if e.n <= 0 {
		m.forget(e)
	}
}

// finish dates a reservation's spends by now, when Graph has answered, and
// corrects the resource units by what Graph said they cost
// (x-ms-resource-unit); actualRU < 0 means Graph did not say.
func (p *pacer) finish(t *ticket, actualRU int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := latest(p.clock.Now(), p.lastAt)
	for _, e := range []*spend{t.writes, t.ru} {
		if e != nil {
			e.at, e.done = latest(e.at, now), true
		}
	}
	if actualRU < 0 || actualRU == t.r {
		return
	}
	p.ru.tokens = math.Min(p.ru.limit, p.ru.tokens-float64(actualRU-t.r))
	switch {
	case t.ru != nil:
		t.ru.n = float64(actualRU)
	case actualRU > 0:
		if e := p.ru.record(now, float64(actualRU)); e != nil {
			e.done = true
		}
	}
}

// throttled records a 429: nothing more is sent until retryAfter has
// passed, the bucket Graph says is exhausted is emptied (Graph's is), and,
// at the start of a new throttling episode, the rate is cut.
func (p *pacer) throttled(retryAfter time.Duration, information string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.clock.Now()
	until := now.Add(retryAfter)
	if !now.Before(p.pausedUntil) {
		p.factor = math.Max(minFactor, p.factor*throttleCut)
		p.lastChange = now
	}
	p.pausedUntil = latest(p.pausedUntil, until)
	switch information {
	case "ResourceUnitLimitExceeded":
		p.ru.pause(now, until, p.factor)
	case "WriteLimitExceeded":
		p.writes.pause(now, until, p.factor)
	default:
		p.ru.pause(now, until, p.factor)
		p.writes.pause(now, until, p.factor)
	}
	p.epoch++
}

// recover raises the rate back toward full speed, one step per quiet
// period.
func (p *pacer) recover(now time.Time) {
	for p.factor < 1 && now.Sub(p.lastChange) >= p.recoverPeriod {
		at := p.lastChange.Add(p.recoverPeriod)
		p.writes.bucketTime(at, 0, p.factor)
		p.ru.bucketTime(at, 0, p.factor)
		p.factor = math.Min(1, p.factor+recoverStep)
		p.lastChange = at
	}
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
