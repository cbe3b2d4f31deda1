package graph

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/o365prov/o365prov/internal/config"
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

func TestPacerSpreadsWritesAtTheQuotaRate(t *testing.T) {
	clock := newManualClock()
	p := newPacer(Limits{Writes: 3000, WriteWindow: 150 * time.Second, ResourceUnits: 100000, RUWindow: 10 * time.Second, Headroom: 0.01}, clock)
	start := clock.Now()
	_, at := p.reserve(20, 20)
	if !at.Equal(start) {
		t.Fatalf("the first batch waited %v", at.Sub(start))
	}
	_, at = p.reserve(20, 20)
	// 20 writes at 2,970 per 150 s (1 % headroom) take 150/2970*20 s.
	want := 20 * 150 * time.Second / 2970
	if got := at.Sub(start); got < want-time.Millisecond || got > want+time.Millisecond {
		t.Errorf("the second batch waits %v, want %v", got, want)
	}
	_, at2 := p.reserve(20, 20)
	if at2.Sub(at) < want-time.Millisecond {
		t.Errorf("reservations do not queue in order: %v then %v", at.Sub(start), at2.Sub(start))
	}
}

func TestPacerNeverPutsMoreThanTheQuotaInOneWindow(t *testing.T) {
	clock := newManualClock()
	l := Limits{Writes: 100, WriteWindow: 10 * time.Second, WriteBurst: 100, ResourceUnits: 1e6, RUWindow: time.Second, Headroom: 0.01}
	p := newPacer(l, clock)
	var times []time.Time
	for range 400 {
		tk, at := p.reserve(1, 1)
		clock.Advance(at.Sub(clock.Now()))
		p.finish(tk, -1)
		times = append(times, at)
	}
	for i := range times {
		n := 0
		for j := i; j < len(times) && times[j].Sub(times[i]) < l.WriteWindow; j++ {
			n++
		}
		if n > 99 {
			t.Fatalf("%d writes within one window from %v", n, times[i].Sub(times[0]))
		}
	}
	if got := times[len(times)-1].Sub(times[0]); got > 41*time.Second {
		t.Errorf("400 writes at 99 per 10 s took %v, want about 40s", got)
	}
}

func TestLimitsFromConfigKeepGraphsWindow(t *testing.T) {
	l := limitsFrom(20, 5000)
	if l.Writes != 3000 || l.WriteWindow != 150*time.Second || l.ResourceUnits != 5000 || l.RUWindow != 10*time.Second {
		t.Errorf("got %+v", l)
	}
	s := l.Scaled(100)
	if s.Writes != 3000 || s.WriteWindow != 1500*time.Millisecond || s.RUWindow != 100*time.Millisecond {
		t.Errorf("scaled %+v", s)
	}
}

func TestPacerReadsSpendResourceUnitsOnly(t *testing.T) {
	clock := newManualClock()
	p := newPacer(EntraLimits(), clock)
	_, at := p.reserve(0, 350+347)
	// 3,465 RU per 10 s (1 % headroom) is 346.5 RU/s after a 350 RU burst.
	if got := at.Sub(clock.Now()); got < 990*time.Millisecond || got > 1010*time.Millisecond {
		t.Errorf("347 RU past the burst wait %v, want about 1s", got)
	}
	_, at = p.reserve(1, 0)
	if at.Sub(clock.Now()) > time.Second+10*time.Millisecond {
		t.Error("a write waited longer than the reads before it")
	}
}

func TestPacerThrottledPausesCutsAndRecovers(t *testing.T) {
	clock := newManualClock()
	p := newPacer(EntraLimits(), clock)
	full := p.writes.full
	tk, _ := p.reserve(10, 10)
	epoch := tk.epoch
	p.throttled(2*time.Second, "WriteLimitExceeded")
	if p.writes.limit != full*(1-maxCut) || p.ru.limit != p.ru.full {
		t.Fatalf("write quota %v, RU quota %v after a write 429 with little spent: want the write quota halved only", p.writes.limit, p.ru.limit)
	}
	p.throttled(3*time.Second, "WriteLimitExceeded")
	if p.writes.limit != full*(1-maxCut) {
		t.Errorf("a second 429 of the same episode cut again: %v", p.writes.limit)
	}
	tk2, at := p.reserve(1, 0)
	epoch2 := tk2.epoch
	if epoch2 == epoch {
		t.Error("a throttling episode did not void older reservations")
	}
	if wait := at.Sub(clock.Now()); wait < 3*time.Second {
		t.Errorf("a write after Retry-After 3s may go in %v", wait)
	}
	_, at = p.reserve(0, 1)
	if wait := at.Sub(clock.Now()); wait < 3*time.Second {
		t.Errorf("a read during the pause may go in %v", wait)
	}
	clock.Advance(3*time.Second + p.recoverPeriod*10)
	p.reserve(0, 0)
	if p.writes.limit != full {
		t.Errorf("after ten quiet periods the quota is %v, want back at %v", p.writes.limit, full)
	}
}

func TestThrottlingCutsTheQuotaToWhatWasSpent(t *testing.T) {
	clock := newManualClock()
	l := Limits{Writes: 1000, WriteWindow: 100 * time.Second, WriteBurst: 1000, ResourceUnits: 1e6, RUWindow: time.Second, Headroom: 1e-9}
	p := newPacer(l, clock)
	for range 800 {
		tk, at := p.reserve(1, 0)
		clock.Advance(at.Sub(clock.Now()))
		p.finish(tk, -1)
	}
	// Graph refuses the 801st: it let this client have 800 per window.
	p.throttled(time.Second, "WriteLimitExceeded")
	if got := p.writes.limit; got != 760 {
		t.Errorf("quota %v after a 429 with 800 spent, want 760 (95 %%)", got)
	}
	p.throttled(time.Second, "CPULimitExceeded")
	if p.ru.limit != p.ru.full {
		t.Error("a 429 of the same episode cut another quota")
	}
}

func TestPacerWaitGivesUpWithItsContext(t *testing.T) {
	clock := newManualClock()
	p := newPacer(Limits{Writes: 1, WriteWindow: time.Hour, ResourceUnits: 100, RUWindow: time.Second, Headroom: 1e-9}, clock)
	if _, err := p.wait(context.Background(), 1, 1); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error)
	go func() {
		_, err := p.wait(ctx, 1, 1)
		errc <- err
	}()
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
	p := newPacer(Limits{Writes: 1, WriteWindow: time.Second, ResourceUnits: 100, RUWindow: time.Second, Headroom: 1e-9}, clock)
	tk, _ := p.wait(context.Background(), 1, 0)
	p.finish(tk, -1)
	done := make(chan error)
	go func() {
		_, err := p.wait(context.Background(), 1, 0)
		done <- err
	}()
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

func TestPacerDatesSpendsByTheAnswer(t *testing.T) {
	clock := newManualClock()
	l := Limits{Writes: 10, WriteWindow: 10 * time.Second, WriteBurst: 10, ResourceUnits: 1e6, RUWindow: time.Second, Headroom: 1e-9}
	p := newPacer(l, clock)
	start := clock.Now()
	tk, _ := p.reserve(10, 1)
	// Graph answers 2 s later: it may have counted the writes that late, so
	// they stay in the window until 12 s, not 10 s.
	clock.Advance(2 * time.Second)
	p.finish(tk, -1)
	_, at := p.reserve(1, 1)
	if got := at.Sub(start); got != 12*time.Second {
		t.Errorf("the next write may go at %v, want 12s", got)
	}
}

func TestPacerCorrectsResourceUnitsByWhatGraphCharged(t *testing.T) {
	clock := newManualClock()
	l := Limits{Writes: 1000, WriteWindow: time.Second, ResourceUnits: 100, RUWindow: 10 * time.Second, RUBurst: 100, Headroom: 1e-9}
	p := newPacer(l, clock)
	tk, _ := p.reserve(0, 1)
	p.finish(tk, 100)
	_, at := p.reserve(0, 1)
	if at.Sub(clock.Now()) < 10*time.Second {
		t.Errorf("a read after Graph charged the whole budget may go in %v", at.Sub(clock.Now()))
	}
}

func TestPacerCancelReturnsTheBudget(t *testing.T) {
	clock := newManualClock()
	l := Limits{Writes: 20, WriteWindow: 10 * time.Second, WriteBurst: 20, ResourceUnits: 1e6, RUWindow: time.Second, Headroom: 1e-9}
	p := newPacer(l, clock)
	tk, _ := p.reserve(20, 0)
	p.cancel(tk, 20, 0)
	_, at := p.reserve(20, 0)
	if !at.Equal(clock.Now()) {
		t.Errorf("a cancelled reservation still holds the budget: next at +%v", at.Sub(clock.Now()))
	}
}

func TestATargetTimeScaleShortensEveryWindowAndBackoff(t *testing.T) {
	_, srv := newStub(t, func(stubRequest) stubAnswer { return stubAnswer{status: http.StatusNoContent} })
	target := config.Target{Tenant: "t", ClientID: "c", GraphURL: srv.URL, WriteRate: 20, ResourceUnits: 3500, TimeScale: 10}
	c, err := New(target, Options{HTTPClient: srv.Client(), Tokens: &staticTokens{}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tests := []struct {
		what      string
		got, want time.Duration
	}{
		{"the write window", c.pacer.writes.span, 15 * time.Second},
		{"the resource-unit window", c.pacer.ru.span, time.Second},
		{"the quiet period between two climbs after a 429", c.pacer.recoverPeriod, time.Second},
		{"the first backoff without Retry-After", c.retry.TransientBase, 100 * time.Millisecond},
		{"the longest backoff", c.retry.TransientCap, 3 * time.Second},
		{"the first wait for replication", c.retry.LagBase, 100 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.what+" is ten times shorter", func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("%v, want %v", tt.got, tt.want)
			}
		})
	}
	t.Run("the quota stays Graph's", func(t *testing.T) {
		if c.pacer.writes.full != 2970 {
			t.Errorf("write quota %v, want 2970 (3,000 less 1 %%)", c.pacer.writes.full)
		}
	})
}
