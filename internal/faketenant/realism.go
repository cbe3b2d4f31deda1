package faketenant

import (
	"context"
	"math"
	"net/http"
	"strings"
	"time"
)

type faultKind int

const (
	faultNone faultKind = iota
	fault503
	fault504
)

// pickFault draws whether this request fails with an injected 503 or 504.
func (t *Tenant) pickFault() faultKind {
	f := t.knobs().faults
	if f.ServiceUnavailableRate == 0 && f.GatewayTimeoutRate == 0 {
		return faultNone
	}
	r := t.rng.float()
	switch {
	case r < f.ServiceUnavailableRate:
		return fault503
	case r < f.ServiceUnavailableRate+f.GatewayTimeoutRate:
		return fault504
	}
	return faultNone
}

// faultResponse renders an injected failure with the generic codes of
// graph.md §11; 503s carry Retry-After when configured.
func (t *Tenant) faultResponse(rc *reqCtx, k faultKind) *gresp {
	t.stats.fault()
	if k == fault504 {
		return rc.fail(http.StatusGatewayTimeout, "gatewayTimeout", "The gateway did not receive a response from the service in time.")
	}
	resp := rc.fail(http.StatusServiceUnavailable, "serviceNotAvailable", "The service is temporarily unavailable. Please retry later.")
	if ra := t.knobs().faults.RetryAfter; ra > 0 {
		resp.header.Set("Retry-After", formatSeconds(t.clock.toWall(ra)))
	}
	return resp
}

// sampleLatency draws a delay in tenant time from the configured
// distribution.
func (t *Tenant) sampleLatency() time.Duration {
	l := t.knobs().latency
	switch strings.ToLower(l.Distribution) {
	case "fixed":
		return l.Mean
	case "uniform":
		return l.Min + time.Duration(t.rng.float()*float64(l.Max-l.Min))
	case "normal":
		d := float64(l.Mean) + t.rng.normal()*float64(l.StdDev)
		return time.Duration(math.Max(0, d))
	case "lognormal":
		return time.Duration(float64(l.Median) * math.Exp(l.Sigma*t.rng.normal()))
	}
	return 0
}

// sleepLatency holds the request for the sampled latency, shortened by the
// time scale.
func (t *Tenant) sleepLatency(ctx context.Context) error {
	d := t.sampleLatency()
	if d <= 0 {
		return nil
	}
	return waitCtx(ctx, t.clock.toWall(d))
}

// visible reports whether replication has caught up with o: before that,
// reads and references by id answer 404 (graph.md §7).
func (t *Tenant) visible(o *object) bool { return !t.clock.Now().Before(o.visibleAt) }
