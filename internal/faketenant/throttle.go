package faketenant

import (
	"fmt"
	"strings"
	"sync"
	"time"
)

// window is one quota of graph.md §6.2: at most limit units spent in any
// span of tenant time. It is a token bucket whose tokens come back exactly
// one span after they were spent, so "3,000 writes per 150 s" holds as a
// hard ceiling over every 150-second window (a bucket refilled continuously
// would let up to twice that through in the first window).
type window struct {
	limit int
	span  time.Duration
	q     []spend
	head  int
	used  int
}

type spend struct {
	at time.Time
	n  int
}

func newWindow(limit int, span time.Duration) *window { return &window{limit: limit, span: span} }

func (w *window) expire(now time.Time) {
	for w.head < len(w.q) && !now.Before(w.q[w.head].at.Add(w.span)) {
		w.used -= w.q[w.head].n
		w.head++
	}
	if w.head > 1024 && w.head*2 > len(w.q) {
		w.q = append([]spend(nil), w.q[w.head:]...)
		w.head = 0
	}
}

// wait is how long until n more units fit.
func (w *window) wait(now time.Time, n int) time.Duration {
	if w.used+n <= w.limit {
		return 0
	}
	if n > w.limit {
		return w.span
	}
	need := w.used + n - w.limit
	freed := 0
	for i := w.head; i < len(w.q); i++ {
		freed += w.q[i].n
		if freed >= need {
			return w.q[i].at.Add(w.span).Sub(now)
		}
	}
	return w.span
}

func (w *window) take(now time.Time, n int) {
	w.q = append(w.q, spend{now, n})
	w.used += n
}

// throttler keeps the quotas per (app, tenant), per app and per tenant.
type throttler struct {
	mu       sync.Mutex
	limits   Limits
	tenantID string
	apps     map[string]*appQuotas
	tenantW  *window
}

type appQuotas struct {
	tenantRU, tenantW, ru, w *window
}

func newThrottler(l Limits, tenantID string) *throttler {
	return &throttler{limits: l, tenantID: tenantID, apps: map[string]*appQuotas{},
		tenantW: newWindow(l.TenantWrites, l.TenantWriteWindow)}
}

// verdict is the outcome of admitting one request.
type verdict struct {
	ok    bool
	wait  time.Duration // tenant time until the request would fit
	scope string        // x-ms-throttle-scope
	info  string        // x-ms-throttle-information
	usage float64       // highest used/limit ratio after the request
	at    time.Time     // the tenant time the decision was made at
}

// sizeClass maps a user count to graph.md §6.2's tiers: S under 50 users,
// M 50–500, L above 500.
func sizeClass(configured string, users int) string {
	switch c := strings.ToUpper(configured); c {
	case "S", "M", "L":
		return c
	}
	switch {
	case users < 50:
		return "S"
	case users <= 500:
		return "M"
	default:
		return "L"
	}
}

func (l Limits) ruFor(size string) int {
	switch size {
	case "L":
		return l.AppTenantRULarge
	case "M":
		return l.AppTenantRUMedium
	default:
		return l.AppTenantRUSmall
	}
}

func (th *throttler) quotas(appID string) *appQuotas {
	q := th.apps[appID]
	if q == nil {
		l := th.limits
		q = &appQuotas{
			tenantRU: newWindow(l.AppTenantRUSmall, l.AppTenantRUWindow),
			tenantW:  newWindow(l.AppTenantWrites, l.AppTenantWriteWindow),
			ru:       newWindow(l.AppRU, l.AppRUWindow),
			w:        newWindow(l.AppWrites, l.AppWriteWindow),
		}
		th.apps[appID] = q
	}
	return q
}

type check struct {
	w     *window
	n     int
	scope string
	info  string
}

// admit spends ru resource units and, for a write, one write unit from every
// quota that applies, or none of them if any quota is exhausted. now is read
// under the lock so that spends are queued in time order.
func (th *throttler) admit(clock func() time.Time, appID, size string, ru int, write bool) verdict {
	th.mu.Lock()
	defer th.mu.Unlock()
	now := clock()
	q := th.quotas(appID)
	q.tenantRU.limit = th.limits.ruFor(size)
	wn := 0
	if write {
		wn = 1
	}
	scope := func(s, lim string) string { return fmt.Sprintf("%s/%s/%s/%s", s, lim, appID, th.tenantID) }
	checks := []check{
		{q.tenantRU, ru, scope("Tenant_Application", "ReadWrite"), "ResourceUnitLimitExceeded"},
		{q.tenantW, wn, scope("Tenant_Application", "Write"), "WriteLimitExceeded"},
		{q.ru, ru, scope("Application", "ReadWrite"), "ResourceUnitLimitExceeded"},
		{q.w, wn, scope("Application", "Write"), "WriteLimitExceeded"},
		{th.tenantW, wn, scope("Tenant", "Write"), "WriteLimitExceeded"},
	}
	v := verdict{ok: true, at: now}
	for _, c := range checks {
		if c.n == 0 {
			continue
		}
		c.w.expire(now)
		if ratio := float64(c.w.used+c.n) / float64(c.w.limit); ratio > v.usage {
			v.usage = ratio
		}
		if wait := c.w.wait(now, c.n); wait > 0 {
			if !v.ok && wait <= v.wait {
				continue
			}
			v.ok, v.wait, v.scope, v.info = false, wait, c.scope, c.info
		}
	}
	if !v.ok {
		return v
	}
	for _, c := range checks {
		if c.n > 0 {
			c.w.take(now, c.n)
		}
	}
	return v
}

func (th *throttler) reset() {
	th.mu.Lock()
	defer th.mu.Unlock()
	th.apps = map[string]*appQuotas{}
	th.tenantW = newWindow(th.limits.TenantWrites, th.limits.TenantWriteWindow)
}
