package graph

import (
	"context"
	"math"
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

// pacer spends the write and resource-unit budgets at Graph's own rate,
// and slows down when Graph throttles anyway (someone else spends the same
// budget: another instance, the tenant-wide limit, a loaded service).
type pacer struct {
	clock Clock

	mu     sync.Mutex
	writes *meter
	ru     *meter
	// lastAt is the latest reservation: reservations are handed out in
	// time order.
	lastAt time.Time
	// lastChange is when a quota last dropped or climbed; climbs come one
	// recoverPeriod apart.
	lastChange    time.Time
	recoverPeriod time.Duration
	pausedUntil   time.Time
	// epoch counts throttling episodes; a reservation made before the
	// latest one is void and is made again.
	epoch int
}

// recoverWindows is the quiet time between two climbs, in write windows:
// 10 s for Graph's 150 s.
const recoverWindows = 1.0 / 15

func newPacer(l Limits, clock Clock) *pacer {
	l = l.withDefaults()
	now := clock.Now()
	return &pacer{
		clock:         clock,
		writes:        newMeter(l.Writes, l.WriteWindow, l.WriteBurst, l.Headroom, now),
		ru:            newMeter(l.ResourceUnits, l.RUWindow, l.RUBurst, l.Headroom, now),
		lastChange:    now,
		recoverPeriod: time.Duration(float64(l.WriteWindow) * recoverWindows),
	}
}

// writeRate is the write quota in force, per second.
func (p *pacer) writeRate() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.writes.rate()
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
	at = latest(at, p.writes.bucketTime(now, w))
	at = latest(at, p.ru.bucketTime(now, r))
	at = latest(p.writes.windowTime(at, w), p.ru.windowTime(at, r))
	p.lastAt = at
	return &ticket{writes: p.writes.record(w), ru: p.ru.record(r), w: writes, r: ru, epoch: p.epoch}, at
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
	p.writes.shrink(t.writes, float64(writes))
	p.ru.shrink(t.ru, float64(ru))
	t.w, t.r = t.w-writes, t.r-ru
}

// finish dates a reservation's spends by now, when Graph has answered, and
// corrects the resource units by what Graph said they cost
// (x-ms-resource-unit); actualRU < 0 means Graph did not say.
func (p *pacer) finish(t *ticket, actualRU int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := latest(p.clock.Now(), p.lastAt)
	if t.writes != nil {
		p.writes.answer(t.writes, now, t.writes.n)
	}
	ru := -1.0
	if t.ru != nil {
		ru = t.ru.n
	}
	if actualRU >= 0 && actualRU != t.r {
		p.ru.tokens = math.Min(p.ru.limit, p.ru.tokens-float64(actualRU-t.r))
		ru = float64(actualRU)
	}
	switch {
	case t.ru != nil:
		p.ru.answer(t.ru, now, ru)
	case ru > 0:
		p.ru.add(now, ru)
	}
}

// throttled records a 429: nothing more is sent until retryAfter has
// passed, the bucket Graph says is exhausted is emptied (Graph's is), and,
// at the start of a new throttling episode, its quota is cut.
func (p *pacer) throttled(retryAfter time.Duration, information string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.clock.Now()
	until := now.Add(retryAfter)
	var hit []*meter
	switch information {
	case "ResourceUnitLimitExceeded":
		hit = []*meter{p.ru}
	case "WriteLimitExceeded":
		hit = []*meter{p.writes}
	default:
		hit = []*meter{p.writes, p.ru}
	}
	newEpisode := !now.Before(p.pausedUntil)
	for _, m := range hit {
		if newEpisode {
			m.cut(now)
		}
		m.pause(now, until)
	}
	if newEpisode {
		p.lastChange = now
	}
	p.pausedUntil = latest(p.pausedUntil, until)
	p.epoch++
}

// recover climbs back toward the configured quotas, one step per quiet
// period.
func (p *pacer) recover(now time.Time) {
	for (p.writes.limit < p.writes.full || p.ru.limit < p.ru.full) && now.Sub(p.lastChange) >= p.recoverPeriod {
		at := p.lastChange.Add(p.recoverPeriod)
		p.writes.raise(at)
		p.ru.raise(at)
		p.lastChange = at
	}
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
