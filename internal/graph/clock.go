package graph

import (
	"context"
	"sync"
	"time"
)

// Clock is the time the client paces, backs off and measures by. It is
// injected so that a run against a fake tenant whose time runs faster (its
// --time-scale) keeps Graph's limits, Retry-After values and replication lag
// in the same units as the tenant: use ScaledClock with the same factor.
type Clock interface {
	Now() time.Time
	// After sends the time on the channel once d has passed on this clock.
	After(d time.Duration) <-chan time.Time
}

// SystemClock is the wall clock.
func SystemClock() Clock { return systemClock{} }

type systemClock struct{}

func (systemClock) Now() time.Time                         { return time.Now() }
func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// ScaledClock returns a clock that runs scale times faster than the wall
// clock, as the fake tenant does with its time scale: one wall second is
// scale seconds on this clock.
func ScaledClock(scale float64) Clock {
	if scale <= 0 {
		scale = 1
	}
	now := time.Now()
	return &scaledClock{scale: scale, wallOrigin: now, origin: now}
}

type scaledClock struct {
	scale      float64
	mu         sync.Mutex
	wallOrigin time.Time
	origin     time.Time
}

func (c *scaledClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.origin.Add(time.Duration(float64(time.Since(c.wallOrigin)) * c.scale))
}

func (c *scaledClock) After(d time.Duration) <-chan time.Time {
	out := make(chan time.Time, 1)
	time.AfterFunc(time.Duration(float64(d)/c.scale), func() { out <- c.Now() })
	return out
}

// sleep waits d on clock, or until ctx is done.
func sleep(ctx context.Context, clock Clock, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	select {
	case <-clock.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
