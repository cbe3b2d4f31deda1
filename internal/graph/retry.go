package graph

import (
	"errors"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// RetryPolicy bounds how the client tries again. Durations are on the
// client's Clock.
type RetryPolicy struct {
	// Transient: 5xx, timeouts and transport failures of requests safe to
	// resend. Exponential backoff with jitter from TransientBase, capped at
	// TransientCap, at most TransientAttempts sends in all.
	TransientAttempts int
	TransientBase     time.Duration
	TransientCap      time.Duration
	// TimeoutAttempts bounds, within TransientAttempts, the sends of a
	// request that got no answer within the timeout: a Graph that did not
	// answer once in the timeout seldom answers the same request in the
	// next, and every such send costs a whole timeout, so resending it as
	// often as a 5xx would make one request cost several timeouts and a
	// cycle against an unreachable tenant last minutes. Microsoft's SDKs
	// do not resend a timed-out request at all; one resend covers a
	// single lost exchange.
	TimeoutAttempts int
	// Throttled: at most ThrottledAttempts sends of one request that keeps
	// being answered 429. Without Retry-After, backoff as for transient.
	ThrottledAttempts int
	// Lag: a 404 on an object this client created less than LagWindow ago
	// is replication lag: wait LagBase, 2×, 4× … capped at LagCap, at most
	// LagAttempts sends in all.
	LagAttempts int
	LagBase     time.Duration
	LagCap      time.Duration
	LagWindow   time.Duration
}

// DefaultRetryPolicy follows graph.md §6.1 and §7: 1, 2, 4, 8, 16 s for
// replication lag, as Microsoft's own answers suggest.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{
		TransientAttempts: 6, TransientBase: time.Second, TransientCap: 30 * time.Second,
		TimeoutAttempts:   2,
		ThrottledAttempts: 12,
		LagAttempts:       7, LagBase: time.Second, LagCap: 16 * time.Second, LagWindow: 5 * time.Minute,
	}
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	d := DefaultRetryPolicy()
	setDefault(&p.TransientAttempts, d.TransientAttempts)
	setDefault(&p.TransientBase, d.TransientBase)
	setDefault(&p.TransientCap, d.TransientCap)
	setDefault(&p.TimeoutAttempts, d.TimeoutAttempts)
	setDefault(&p.ThrottledAttempts, d.ThrottledAttempts)
	setDefault(&p.LagAttempts, d.LagAttempts)
	setDefault(&p.LagBase, d.LagBase)
	setDefault(&p.LagCap, d.LagCap)
	setDefault(&p.LagWindow, d.LagWindow)
	return p
}

// setDefault replaces a value that is not positive.
func setDefault[T int | time.Duration](v *T, d T) {
	if *v <= 0 {
		*v = d
	}
}

// Scaled shortens every duration of the policy timeScale times, for a
// tenant whose clock runs that much faster than the wall clock.
func (p RetryPolicy) Scaled(timeScale float64) RetryPolicy {
	p = p.withDefaults()
	if timeScale > 0 {
		for _, d := range []*time.Duration{&p.TransientBase, &p.TransientCap, &p.LagBase, &p.LagCap, &p.LagWindow} {
			*d = time.Duration(float64(*d) / timeScale)
		}
	}
	return p
}

// exponential returns base·2^(n-1) capped, for the nth retry (n ≥ 1).
func exponential(base, limit time.Duration, n int) time.Duration {
	d := float64(base) * math.Pow(2, float64(n-1))
	if d > float64(limit) {
		return limit
	}
	return time.Duration(d)
}

// jitter spreads retries over [d/2, d] so that callers that failed together
// do not come back together.
type jitter struct {
	mu  sync.Mutex
	rng *rand.Rand
}

func (j *jitter) apply(d time.Duration) time.Duration {
	j.mu.Lock()
	f := j.rng.Float64()
	j.mu.Unlock()
	return d/2 + time.Duration(f*float64(d/2))
}

// parseRetryAfter reads Retry-After as delta-seconds, fractional ones
// included ("2.128", graph.md §6.1), rounded up to the millisecond; or as an
// HTTP date relative to now. ok is false when the header is absent or bad.
func parseRetryAfter(v string, now time.Time) (d time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs < 0 || math.IsNaN(secs) || math.IsInf(secs, 0) {
			return 0, false
		}
		ms := math.Ceil(secs * 1000)
		return time.Duration(ms) * time.Millisecond, true
	}
	if t, err := http.ParseTime(v); err == nil && !now.IsZero() {
		if d := t.Sub(now); d > 0 {
			return d, true
		}
		return 0, true
	}
	return 0, false
}

// verdict is what to do with one answer.
type verdict int

const (
	done           verdict = iota // success, or an error that means the goal already holds
	fail                          // final error
	retryThrottled                // 429
	retryTransient                // 5xx / transport, safe to resend
	retryLag                      // 404 on an object just created
	retryAuth                     // 401, refresh the token and resend once
	unknown                       // failed, may have been applied, not safe to resend
)

// judge decides what an error answer means for call c. A nil error is
// success. lagging reports whether any object the request names was
// created by this client a moment ago.
func judge(c *call, err error, lagging bool) verdict {
	if err == nil {
		return done
	}
	var fe finalError
	if errors.As(err, &fe) {
		return fail
	}
	var ge *Error
	if !errors.As(err, &ge) {
		// No answer at all: a transport failure or a timeout.
		if c.req.idempotent {
			return retryTransient
		}
		return unknown
	}
	notFound := ge.Status == http.StatusNotFound
	switch {
	case notFound && c.req.Method == http.MethodDelete && c.mayHaveApplied:
		// An earlier attempt of this DELETE was probably applied.
		return done
	case notFound && lagging && (c.req.notLag == nil || !c.req.notLag(ge)):
		// Checked before accept: a member removal that 404s because the
		// group is not replicated yet has not happened.
		return retryLag
	case c.req.accept != nil && c.req.accept(ge):
		return done
	case ge.Status == http.StatusTooManyRequests:
		return retryThrottled
	case ge.Status == http.StatusUnauthorized:
		if c.authRetried {
			return fail
		}
		return retryAuth
	case ge.Status == http.StatusServiceUnavailable:
		// 503 means the service did not take the request (HTTP semantics;
		// graph.md §11 lists it with Retry-After): safe to resend a POST.
		return retryTransient
	case transientStatus(ge.Status):
		if c.req.idempotent {
			return retryTransient
		}
		return unknown
	}
	return fail
}
