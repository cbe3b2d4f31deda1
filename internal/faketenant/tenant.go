package faketenant

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Tenant is a fake Entra ID tenant: an http.Handler serving the login host
// (token, discovery, sign-in) and Microsoft Graph v1.0 on the same origin,
// plus /_fake/ inspection endpoints. Create it with New.
type Tenant struct {
	cfg      Config
	log      *slog.Logger
	wall     Clock
	clock    *tenantClock
	ids      *idSource // object ids and request-ids: unique across runs and restarts
	rng      *idSource // latency, faults, batch order: reproducible from Config.Seed
	tenantID string
	initial  string // initial domain, <name>.onmicrosoft.com

	signer   *signingKey
	apps     map[string]*registeredApp
	tokens   tokenCache
	throttle *throttler // nil when throttling is off
	userSch  *schema
	groupSch *schema
	router   *router
	// extensions are the directory extensions apps registered.
	extensions *extensionRegistry

	mu  sync.RWMutex
	dir *directory

	knobMu  sync.Mutex
	latency LatencyConfig
	lag     time.Duration
	faults  FaultConfig

	stats   *stats
	signin  *signinState
	persist *persister
	delta   *deltaStore
	expiry  expiry
}

// maxBody bounds request bodies; Graph's own limit is 4 MB.
const maxBody = 4 << 20

// New builds a tenant from cfg. With cfg.StatePath set it loads the saved
// directory, if any, and keeps saving it until Close.
func New(cfg Config) (*Tenant, error) {
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("fake tenant config: %w", err)
	}
	var err error
	t := &Tenant{cfg: cfg, log: cfg.Logger, wall: cfg.Clock, tenantID: strings.ToLower(cfg.Tenant.ID)}
	if t.log == nil {
		t.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if t.wall == nil {
		t.wall = systemClock{}
	}
	t.clock = newTenantClock(t.wall, cfg.TimeScale)
	// Ids come from a random seed, never Config.Seed: a tenant restarted
	// with --state, or a second run, must not hand out the ids (or
	// request-ids) it gave before.
	if t.ids, err = newRandomIDSource(cfg.Rand); err != nil {
		return nil, fmt.Errorf("fake tenant ids: %w", err)
	}
	t.rng = newIDSource(cfg.Seed)
	t.delta = newDeltaStore(t.ids.guid())
	t.initial = strings.ToLower(cfg.Tenant.Name) + ".onmicrosoft.com"
	t.latency, t.lag, t.faults = cfg.Latency, cfg.ReplicationLag, cfg.Faults
	if l, on := cfg.effectiveLimits(); on {
		t.throttle = newThrottler(l, t.tenantID)
	}
	if t.apps, err = buildApps(&cfg, t.ids); err != nil {
		return nil, fmt.Errorf("fake tenant apps: %w", err)
	}
	if t.dir, err = t.buildDirectory(); err != nil {
		return nil, fmt.Errorf("fake tenant directory: %w", err)
	}
	t.userSch, t.groupSch = userSchema(), groupSchema()
	t.extensions = newExtensionRegistry()
	t.userSch.ext, t.groupSch.ext = t.extensions, t.extensions
	t.router = t.buildRouter()
	t.stats = newStats()
	t.signin = newSigninState()
	if cfg.StatePath != "" {
		if err := t.startPersistence(cfg.resolvePath(cfg.StatePath)); err != nil {
			return nil, err
		}
	}
	if t.signer == nil {
		if t.signer, err = newSigningKey(t.wall.Now(), t.tenantID); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// ServeHTTP routes a request to the login side, Graph or inspection.
func (t *Tenant) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case p == "/v1.0" || strings.HasPrefix(p, "/v1.0/"):
		t.serveGraph(w, r)
	case p == "/_fake" || strings.HasPrefix(p, "/_fake/"):
		t.serveInspect(w, r)
	default:
		t.serveLoginHost(w, r)
	}
}

// serveLoginHost serves what login.microsoftonline.com would.
func (t *Tenant) serveLoginHost(w http.ResponseWriter, r *http.Request) {
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	segs := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	template := r.URL.Path
	switch {
	case r.URL.Path == "/login":
		t.serveHomeRealm(rec, r)
	case r.URL.Path == "/login.srf":
		t.serveLoginSrf(rec, r)
	case r.URL.Path == "/common/discovery/instance":
		t.serveInstanceDiscovery(rec, r)
	case len(segs) == 3 && segs[0] == "common" && strings.EqualFold(segs[1], "userrealm"):
		template = "/common/userrealm/{upn}"
		t.serveUserRealm(rec, r, segs[2])
	case len(segs) == 4 && segs[1] == "oauth2" && segs[2] == "v2.0" && segs[3] == "token" && isUserGrant(r):
		template = "/{tenant}/oauth2/v2.0/token"
		t.serveUserToken(rec, r, segs[0])
	case len(segs) == 4 && segs[1] == "oauth2" && segs[2] == "v2.0" && segs[3] == "token":
		template = "/{tenant}/oauth2/v2.0/token"
		t.serveToken(rec, r, segs[0])
	case len(segs) == 4 && segs[1] == "v2.0" && segs[2] == ".well-known" && segs[3] == "openid-configuration":
		template = "/{tenant}/v2.0/.well-known/openid-configuration"
		t.serveOpenIDConfig(rec, r, segs[0])
	case (len(segs) == 4 && segs[1] == "discovery" && segs[2] == "v2.0" && segs[3] == "keys") ||
		(len(segs) == 3 && segs[1] == "discovery" && segs[2] == "keys"):
		template = "/{tenant}/discovery/v2.0/keys"
		t.serveKeys(rec, r)
	default:
		template = "(unmatched)"
		http.NotFound(rec, r)
	}
	t.stats.count(r.Method, template, rec.status)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// serveGraph serves one request under /v1.0.
func (t *Tenant) serveGraph(w http.ResponseWriter, r *http.Request) {
	rc := &reqCtx{t: t, method: r.Method, header: r.Header, base: baseURL(r),
		query: r.URL.Query(), rawQuery: r.URL.RawQuery, requestID: t.ids.guid()}
	rc.clientRequestID = r.Header.Get("client-request-id")
	if rc.clientRequestID == "" {
		rc.clientRequestID = rc.requestID
	}
	rc.path = strings.TrimPrefix(r.URL.EscapedPath(), "/v1.0")
	body, err := readBody(r)
	if err != nil {
		writeGraph(w, rc, rc.bodyError(err))
		return
	}
	rc.body = body
	if err := t.sleepLatency(r.Context()); err != nil {
		return
	}
	writeGraph(w, rc, t.handleGraph(rc))
}

// handleGraph runs the Graph pipeline for a request on the wire or inside a
// $batch and counts the outcome.
func (t *Tenant) handleGraph(rc *reqCtx) *gresp {
	resp := t.dispatchGraph(rc)
	template := "(unmatched)"
	if rc.route != nil {
		template = rc.route.template
	}
	if resp.header.Get("x-ms-resource-unit") == "" {
		resp.header.Set("x-ms-resource-unit", "1")
	}
	t.stats.count(rc.method, template, resp.status)
	return resp
}

// dispatchGraph authenticates, routes, authorizes, injects faults, meters
// and finally runs the handler — the order Graph answers in: 401 before 404,
// 403 before 429.
func (t *Tenant) dispatchGraph(rc *reqCtx) *gresp {
	if rc.app == nil {
		app, err := t.authenticate(rc.header.Get("Authorization"))
		if err != nil {
			resp := rc.fail(http.StatusUnauthorized, "InvalidAuthenticationToken", err.Error())
			resp.header.Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="", authorization_uri="%s/common/oauth2/authorize", client_id="%s"`, rc.base, graphAppID))
			return resp
		}
		rc.app = app
	}
	segs, ok := splitPath(rc.path)
	if !ok {
		return rc.fail(http.StatusBadRequest, "BadRequest", "Invalid URL path.")
	}
	rt, params, bad := t.router.match(rc, segs)
	if bad != nil {
		return bad
	}
	rc.route, rc.params = rt, params
	if !rc.app.hasAny(rt.perms) {
		return rc.denied()
	}
	fault := t.pickFault()
	if fault == fault503 {
		return t.faultResponse(rc, fault)
	}
	if !rt.metered {
		resp := rt.handler(rc)
		if fault == fault504 {
			return t.faultResponse(rc, fault)
		}
		return resp
	}
	t.maybeExpire()
	cost := requestCost(rt.ru, rc.query)
	usage, admitted := 0.0, time.Time{}
	if t.throttle != nil {
		size := t.sizeClass()
		v := t.throttle.admit(t.clock.Now, rc.app.clientID, size, cost, rt.write)
		if !v.ok {
			return t.throttled(rc, v, cost)
		}
		usage, admitted = v.usage, v.at
	} else {
		admitted = t.clock.Now()
	}
	if rt.write {
		// Log the very instant the quota was charged, so the log and the
		// buckets agree on every window.
		t.stats.write(admitted)
	}
	if fault == fault504 {
		if t.rng.float() < t.knobs().faults.GatewayTimeoutAppliedRate {
			rt.handler(rc)
		}
		return t.faultResponse(rc, fault)
	}
	resp := rt.handler(rc)
	resp.header.Set("x-ms-resource-unit", strconv.Itoa(cost))
	if usage > 0.8 {
		resp.header.Set("x-ms-throttle-limit-percentage", strconv.FormatFloat(usage, 'f', 2, 64))
	}
	return resp
}

// throttled is graph.md §6.1's 429 with the headers of §6.2.
func (t *Tenant) throttled(rc *reqCtx, v verdict, cost int) *gresp {
	t.stats.throttled(v.scope)
	wait := t.clock.toWall(v.wait)
	inner := jsonObject{
		{"code", "429"}, {"date", t.wall.Now().UTC().Format("2006-01-02T15:04:05")},
		{"message", "Please retry after"}, {"request-id", rc.requestID}, {"status", "429"},
		{"client-request-id", rc.clientRequestID},
	}
	resp := jsonResp(http.StatusTooManyRequests, jsonObject{{"error", jsonObject{
		{"code", "TooManyRequests"}, {"message", "Please retry again later."}, {"innerError", inner},
	}}})
	resp.header.Set("Retry-After", formatSeconds(wait))
	resp.header.Set("x-ms-throttle-scope", v.scope)
	resp.header.Set("x-ms-throttle-information", v.info)
	resp.header.Set("x-ms-throttle-limit-percentage", strconv.FormatFloat(min(v.usage, 1.8), 'f', 2, 64))
	resp.header.Set("x-ms-resource-unit", strconv.Itoa(cost))
	return resp
}

// sizeClass is S, M or L from config or the live user count.
func (t *Tenant) sizeClass() string {
	t.mu.RLock()
	n := t.dir.userCount()
	t.mu.RUnlock()
	return sizeClass(t.cfg.Tenant.SizeClass, n)
}

// TenantID returns the tenant GUID.
func (t *Tenant) TenantID() string { return t.tenantID }

// InitialDomain returns <name>.onmicrosoft.com.
func (t *Tenant) InitialDomain() string { return t.initial }

// Now returns tenant time (scaled and advanced; see Advance).
func (t *Tenant) Now() time.Time { return t.clock.Now() }

// Advance pushes tenant time forward, e.g. past the 30-day deleted-item
// retention. The wall clock, which judges tokens, does not move.
func (t *Tenant) Advance(d time.Duration) {
	t.clock.Advance(d)
	t.markDirty()
}

func (t *Tenant) knobs() struct {
	latency LatencyConfig
	lag     time.Duration
	faults  FaultConfig
} {
	t.knobMu.Lock()
	defer t.knobMu.Unlock()
	return struct {
		latency LatencyConfig
		lag     time.Duration
		faults  FaultConfig
	}{t.latency, t.lag, t.faults}
}

// SetReplicationLag changes the replication lag for objects created from now
// on.
func (t *Tenant) SetReplicationLag(d time.Duration) {
	t.knobMu.Lock()
	defer t.knobMu.Unlock()
	t.lag = d
}

// SetFaults changes the injected 503/504 rates.
func (t *Tenant) SetFaults(f FaultConfig) error {
	if err := f.validate(); err != nil {
		return err
	}
	t.knobMu.Lock()
	defer t.knobMu.Unlock()
	t.faults = f
	return nil
}

// SetLatency changes the per-request latency distribution.
func (t *Tenant) SetLatency(l LatencyConfig) error {
	if err := l.validate(); err != nil {
		return err
	}
	t.knobMu.Lock()
	defer t.knobMu.Unlock()
	t.latency = l
	return nil
}

// Close stops background work and saves the state file, if any.
func (t *Tenant) Close() error {
	if t.persist != nil {
		return t.persist.close()
	}
	return nil
}

// waitCtx sleeps d unless ctx ends first.
func waitCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
