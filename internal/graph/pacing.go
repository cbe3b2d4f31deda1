package graph

import (
	"context"
	"math"
	"sync"
	"time"
)

// Limits size the client-side token buckets. They mirror Graph's own
// buckets for one application in one tenant (graph.md §6.2): Writes per
// WriteWindow (3,000 per 150 s) and ResourceUnits per RUWindow (3,500 per
// 10 s for the smallest tenants). Each bucket holds its quota and refills at
// quota/window, as Graph's does, so the client may spend a full bucket at
// once and then exactly the refill rate, and never more.
type Limits struct {
	Writes        int
	WriteWindow   time.Duration
	ResourceUnits int
	RUWindow      time.Duration
}

// EntraLimits are the documented limits for one app in one small tenant.
func EntraLimits() Limits {
	return Limits{Writes: 3000, WriteWindow: 150 * time.Second, ResourceUnits: 3500, RUWindow: 10 * time.Second}
}

// limitsFrom sizes the buckets from config's writes/s and RU per 10 s, with
// the write bucket as deep as Graph's (rate × 150 s).
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

// bucket is a token bucket whose balance may go negative: a reservation
// takes its tokens at once and is told when the balance will have paid for
// it, so waiters are served in the order they reserved.
type bucket struct {
	capacity float64
	rate     float64 // tokens per second at full speed
	tokens   float64
	last     time.Time // refilled up to here; may be in the future during a pause
}

func newBucket(quota int, window time.Duration, now time.Time) bucket {
	return bucket{capacity: float64(quota), rate: float64(quota) / window.Seconds(), tokens: float64(quota), last: now}
}

func (b *bucket) refill(now time.Time, factor float64) {
	if now.After(b.last) {
		b.tokens = math.Min(b.capacity, b.tokens+b.rate*factor*now.Sub(b.last).Seconds())
		b.last = now
	}
}

// reserve takes n tokens and returns when they are paid for.
func (b *bucket) reserve(now time.Time, n, factor float64) time.Time {
	b.refill(now, factor)
	b.tokens -= n
	at := b.last
	if at.Before(now) {
		at = now
	}
	if b.tokens < 0 {
		at = at.Add(time.Duration(-b.tokens / (b.rate * factor) * float64(time.Second)))
	}
	return at
}

// pacer spends the write and resource-unit budgets at Graph's own rate, and
// slows down when Graph throttles anyway (someone else spends the same
// budget: another instance, the tenant-wide limit, a loaded service).
type pacer struct {
	clock Clock

	mu     sync.Mutex
	writes bucket
	ru     bucket
	// factor scales both refill rates: cut on a new throttling episode,
	// raised back step by step while none comes.
	factor      float64
	lastChange  time.Time
	pausedUntil time.Time
	// epoch counts throttling episodes; a reservation made before the
	// latest one is void and is made again.
	epoch int
}

const (
	throttleCut   = 0.8
	minFactor     = 0.25
	recoverStep   = 0.05
	recoverPeriod = 10 * time.Second
)

func newPacer(l Limits, clock Clock) *pacer {
	now := clock.Now()
	return &pacer{
		clock:  clock,
		writes: newBucket(l.Writes, l.WriteWindow, now),
		ru:     newBucket(l.ResourceUnits, l.RUWindow, now),
		factor: 1, lastChange: now,
	}
}

// wait blocks until the client may send requests costing writes writes and
// ru resource units.
func (p *pacer) wait(ctx context.Context, writes, ru int) error {
	if writes == 0 && ru == 0 {
		return nil
	}
	for {
		at, epoch := p.reserve(writes, ru)
		for {
			now := p.clock.Now()
			p.mu.Lock()
			voided := p.epoch != epoch
			if p.pausedUntil.After(at) {
				at = p.pausedUntil
			}
			p.mu.Unlock()
			if voided {
				break
			}
			if !at.After(now) {
				return nil
			}
			if err := sleep(ctx, p.clock, at.Sub(now)); err != nil {
				p.refund(writes, ru, epoch)
				return err
			}
		}
	}
}

func (p *pacer) reserve(writes, ru int) (time.Time, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.clock.Now()
	p.recover(now)
	at := now
	if writes > 0 {
		at = latest(at, p.writes.reserve(now, float64(writes), p.factor))
	}
	if ru > 0 {
		at = latest(at, p.ru.reserve(now, float64(ru), p.factor))
	}
	return latest(at, p.pausedUntil), p.epoch
}

// refund gives back a reservation that was not used (its caller gave up).
func (p *pacer) refund(writes, ru, epoch int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if epoch != p.epoch {
		return // the throttling reset already forgot it
	}
	p.writes.tokens = math.Min(p.writes.capacity, p.writes.tokens+float64(writes))
	p.ru.tokens = math.Min(p.ru.capacity, p.ru.tokens+float64(ru))
}

// giveBack returns the cost of requests that were paced but not sent
// (their callers gave up).
func (p *pacer) giveBack(writes, ru int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.writes.tokens = math.Min(p.writes.capacity, p.writes.tokens+float64(writes))
	p.ru.tokens = math.Min(p.ru.capacity, p.ru.tokens+float64(ru))
}

// chargeRU corrects the resource-unit balance once Graph says what a
// request really cost (x-ms-resource-unit) against what was reserved.
func (p *pacer) chargeRU(delta int) {
	if delta == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ru.tokens = math.Min(p.ru.capacity, p.ru.tokens-float64(delta))
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
	if until.After(p.pausedUntil) {
		p.pausedUntil = until
	}
	switch information {
	case "ResourceUnitLimitExceeded":
		p.ru.refill(now, p.factor)
		p.ru.tokens, p.ru.last = 0, latest(p.ru.last, until)
	case "WriteLimitExceeded":
		p.writes.refill(now, p.factor)
		p.writes.tokens, p.writes.last = 0, latest(p.writes.last, until)
	default:
		p.ru.refill(now, p.factor)
		p.writes.refill(now, p.factor)
		p.ru.tokens, p.ru.last = 0, latest(p.ru.last, until)
		p.writes.tokens, p.writes.last = 0, latest(p.writes.last, until)
	}
	p.epoch++
}

// recover raises the rate back toward full speed, one step per quiet
// period.
func (p *pacer) recover(now time.Time) {
	for p.factor < 1 && now.Sub(p.lastChange) >= recoverPeriod {
		p.writes.refill(p.lastChange.Add(recoverPeriod), p.factor)
		p.ru.refill(p.lastChange.Add(recoverPeriod), p.factor)
		p.factor = math.Min(1, p.factor+recoverStep)
		p.lastChange = p.lastChange.Add(recoverPeriod)
	}
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
