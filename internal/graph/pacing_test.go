package graph

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// manualClock only moves when told; After fires on Advance.
type manualClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []manualWaiter
}

type manualWaiter struct {
	at time.Time
	ch chan time.Time
}

func newManualClock() *manualClock {
	return &manualClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, manualWaiter{c.now.Add(d), ch})
	return ch
}

func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if !w.at.After(c.now) {
			w.ch <- c.now
		} else {
			kept = append(kept, w)
		}
	}
	c.waiters = kept
}

func TestPacerSpendsAFullBucketThenTheRefillRate(t *testing.T) {
	clock := newManualClock()
	p := newPacer(EntraLimits(), clock)
	start := clock.Now()
	at, _ := p.reserve(3000, 3000)
	if !at.Equal(start) {
		t.Fatalf("a full bucket made the first 3,000 writes wait until %v", at.Sub(start))
	}
	at, _ = p.reserve(20, 20)
	if got := at.Sub(start); got != time.Second {
		t.Errorf("20 writes on an empty bucket wait %v, want 1s (20 writes/s)", got)
	}
	at, _ = p.reserve(20, 20)
	if got := at.Sub(start); got != 2*time.Second {
		t.Errorf("the next 20 wait until %v, want 2s: reservations queue in order", got)
	}
}

func TestLimitsFromConfigKeepGraphsWindow(t *testing.T) {
	l := limitsFrom(20, 5000)
	if l.Writes != 3000 || l.WriteWindow != 150*time.Second || l.ResourceUnits != 5000 || l.RUWindow != 10*time.Second {
		t.Errorf("got %+v", l)
	}
}

func TestPacerReadsSpendResourceUnitsOnly(t *testing.T) {
	clock := newManualClock()
	p := newPacer(EntraLimits(), clock)
	at, _ := p.reserve(0, 3500+350)
	if got := at.Sub(clock.Now()); got != time.Second {
		t.Errorf("350 RU past a full 3,500 bucket waits %v, want 1s (350 RU/s)", got)
	}
	at, _ = p.reserve(1, 0)
	if !at.Equal(clock.Now()) {
		t.Error("a write waited for the read budget")
	}
}

func TestPacerThrottledPausesCutsAndRecovers(t *testing.T) {
	clock := newManualClock()
	p := newPacer(EntraLimits(), clock)
	_, epoch := p.reserve(10, 10)
	p.throttled(2*time.Second, "WriteLimitExceeded")
	if p.factor != throttleCut {
		t.Fatalf("factor %v after a 429, want %v", p.factor, throttleCut)
	}
	p.throttled(3*time.Second, "WriteLimitExceeded")
	if p.factor != throttleCut {
		t.Errorf("a second 429 of the same episode cut again: %v", p.factor)
	}
	at, epoch2 := p.reserve(1, 0)
	if epoch2 == epoch {
		t.Error("a throttling episode did not void older reservations")
	}
	if wait := at.Sub(clock.Now()); wait < 3*time.Second {
		t.Errorf("a write after Retry-After 3s may go in %v", wait)
	}
	at, _ = p.reserve(0, 1)
	if wait := at.Sub(clock.Now()); wait < 3*time.Second {
		t.Errorf("a read during the pause may go in %v", wait)
	}
	clock.Advance(3*time.Second + recoverPeriod*4)
	p.reserve(0, 0)
	if p.factor != 1 {
		t.Errorf("after four quiet periods the factor is %v, want back at 1", p.factor)
	}
}

func TestPacerWaitGivesUpWithItsContext(t *testing.T) {
	clock := newManualClock()
	p := newPacer(Limits{Writes: 1, WriteWindow: time.Hour, ResourceUnits: 100, RUWindow: time.Second}, clock)
	if err := p.wait(context.Background(), 1, 1); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error)
	go func() { errc <- p.wait(ctx, 1, 1) }()
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
	if p.writes.tokens != 0 {
		t.Errorf("the abandoned reservation was not refunded: %v tokens", p.writes.tokens)
	}
}

func TestPacerWaitReturnsWhenPaidFor(t *testing.T) {
	clock := newManualClock()
	p := newPacer(Limits{Writes: 1, WriteWindow: time.Second, ResourceUnits: 100, RUWindow: time.Second}, clock)
	_ = p.wait(context.Background(), 1, 0)
	done := make(chan error)
	go func() { done <- p.wait(context.Background(), 1, 0) }()
	for {
		clock.mu.Lock()
		n := len(clock.waiters)
		clock.mu.Unlock()
		if n > 0 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	select {
	case <-done:
		t.Fatal("a write went before its token was paid for")
	default:
	}
	clock.Advance(time.Second)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
