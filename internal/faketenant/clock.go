package faketenant

import (
	"sync"
	"time"
)

// Clock tells the time. The tenant reads its wall clock through it, so tests
// can inject a ManualClock instead of waiting.
type Clock interface {
	Now() time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// ManualClock is a Clock that only moves when told to. It is safe for
// concurrent use.
type ManualClock struct {
	mu sync.Mutex
	t  time.Time
}

// NewManualClock returns a ManualClock stopped at t.
func NewManualClock(t time.Time) *ManualClock { return &ManualClock{t: t} }

// Now returns the clock's current time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Set moves the clock to t.
func (c *ManualClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// tenantClock is the directory's own time. It runs `scale` times faster than
// the wall clock it is built on, and Advance can push it ahead, so that
// throttling windows, replication lag and the 30-day deleted-item expiry keep
// their real shape while a test or benchmark lasts minutes, not hours.
//
// Token lifetimes and SAML validity windows are judged on the wall clock
// instead, because the clients that mint and cache them live on wall time.
type tenantClock struct {
	base  Clock
	scale float64

	mu         sync.Mutex
	baseOrigin time.Time
	fakeOrigin time.Time
	offset     time.Duration
}

func newTenantClock(base Clock, scale float64) *tenantClock {
	now := base.Now()
	return &tenantClock{base: base, scale: scale, baseOrigin: now, fakeOrigin: now}
}

// Now returns tenant time.
func (c *tenantClock) Now() time.Time {
	b := c.base.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	elapsed := b.Sub(c.baseOrigin)
	return c.fakeOrigin.Add(time.Duration(float64(elapsed)*c.scale) + c.offset)
}

// Advance pushes tenant time forward by d without touching the wall clock.
func (c *tenantClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// Offset reports how far Advance has pushed tenant time; persisted so that a
// restarted tenant does not see deleted items come back to life.
func (c *tenantClock) Offset() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.offset
}

// resume restarts tenant time from a saved state: it was at tenantAt when
// the wall clock read wallAt, and the wall time that passed since counts at
// scale 1 (the tenant was not running). It never moves tenant time
// backwards, so with a time scale above 1 a restart cannot bring back a
// moment a client has already seen.
func (c *tenantClock) resume(tenantAt, wallAt time.Time, offset time.Duration) {
	b := c.base.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset = offset
	if tenantAt.IsZero() {
		return // an older state file: only the offset was kept
	}
	at := tenantAt.Add(max(b.Sub(wallAt), 0))
	current := c.fakeOrigin.Add(time.Duration(float64(b.Sub(c.baseOrigin))*c.scale) + c.offset)
	if at.After(current) {
		c.baseOrigin, c.fakeOrigin = b, at.Add(-offset)
	}
}

// toWall converts a tenant-time duration into the wall-clock duration a
// client has to wait for it to pass.
func (c *tenantClock) toWall(d time.Duration) time.Duration {
	return time.Duration(float64(d) / c.scale)
}
