package graph

import (
	"context"
	"time"
)

// Clock is the time the client paces, backs off and measures by; tests
// inject their own. Against a tenant whose clock runs faster than the wall
// (the fake tenant's time scale) keep the wall clock, which Retry-After is
// given in, and shorten the windows instead: Limits.Scaled,
// RetryPolicy.Scaled.
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
