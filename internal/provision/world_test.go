package provision_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log"
	"maps"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/o365prov/o365prov/internal/config"
	"github.com/o365prov/o365prov/internal/directory/slapdtest"
	"github.com/o365prov/o365prov/internal/engine"
	"github.com/o365prov/o365prov/internal/faketenant"
	"github.com/o365prov/o365prov/internal/graph"
	"github.com/o365prov/o365prov/internal/ldapserver"
	"github.com/o365prov/o365prov/internal/provision"
	"github.com/o365prov/o365prov/internal/state/pgtest"
)

// A world is one end-to-end setup: the embedded directory, the fake tenant
// (served over TLS, with throttling, latency and replication lag on, its
// clock ten times faster than the wall's), and o365prov between them.
type world struct {
	t      testing.TB
	ctx    context.Context
	dir    string
	ldap   *ldapserver.Server
	slapd  *slapdtest.Server // instead of ldap, with withSlapd
	url    string
	tenant *faketenant.Tenant
	srv    *httptest.Server
	clock  *testClock
	sys    *provision.System
	cfg    *config.Config
	yaml   string
	scale  float64
	limits *graph.Limits
	graph  *graphCounts // what the Graph client did, across reopenings
}

// tenantTimeScale runs the fake tenant's clock faster than the wall's, so
// Graph's windows and lags keep their shape at test speed.
const tenantTimeScale = 10

// settle is how long references to new objects wait: the tenant's
// replication lag (1 s of tenant time) in wall time, with a margin.
const settle = 150 * time.Millisecond

type worldOption func(*worldSetup)

type worldSetup struct {
	ldif      string
	channel   string // YAML appended to the channel (options, mapping…)
	source    string // YAML appended to the source
	tenantCfg func(*faketenant.Config)
	replace   [][2]string
	postgres  bool
	slapd     bool          // the directory is OpenLDAP's slapd (push by syncrepl) instead of the embedded one
	scale     float64       // tenant time scale; 0: tenantTimeScale
	limits    *graph.Limits // the client's pacing; nil: scaled Entra limits with a burst
}

// withScale runs the tenant's clock scale times faster than the wall's, and
// paces the client for it with Graph's own start (no burst).
func withScale(scale float64) worldOption {
	return func(s *worldSetup) {
		s.scale = scale
		l := graph.EntraLimits().Scaled(scale)
		s.limits = &l
	}
}

// withSlapd makes the directory a real OpenLDAP slapd with the syncprov
// overlay (so it pushes changes), loaded with the world's users.
func withSlapd() worldOption {
	return func(s *worldSetup) { s.slapd = true }
}

// withPostgres keeps state in a PostgreSQL database of the test's own.
func withPostgres() worldOption {
	return func(s *worldSetup) { s.postgres = true }
}

// withReplaced replaces text of the configuration before it is loaded.
func withReplaced(old, new string) worldOption {
	return func(s *worldSetup) { s.replace = append(s.replace, [2]string{old, new}) }
}

// withChannel adds YAML under the channel (indented four spaces).
func withChannel(y string) worldOption { return func(s *worldSetup) { s.channel += y } }

// withSource adds YAML under the channel's source (indented six spaces).
func withSource(y string) worldOption { return func(s *worldSetup) { s.source += y } }

func withLDIF(l string) worldOption { return func(s *worldSetup) { s.ldif = l } }

func withTenant(f func(*faketenant.Config)) worldOption {
	return func(s *worldSetup) { s.tenantCfg = f }
}

func newWorld(t testing.TB, opts ...worldOption) *world {
	t.Helper()
	setup := worldSetup{ldif: orgLDIF(8)}
	for _, o := range opts {
		o(&setup)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	w := &world{t: t, ctx: ctx, dir: t.TempDir(), clock: &testClock{}, scale: tenantTimeScale, graph: &graphCounts{}}
	if setup.scale > 0 {
		w.scale = setup.scale
	}
	if setup.limits != nil {
		w.limits = setup.limits
	} else {
		l := graph.EntraLimits().Scaled(w.scale)
		l.WriteBurst = 200
		w.limits = &l
	}

	var err error
	bindDN, bindPassword := "cn=admin,dc=contoso,dc=com", "admin-Secret-1"
	if setup.slapd {
		w.slapd = slapdtest.Start(t, slapdtest.Options{Suffix: "dc=contoso,dc=com", LDIF: setup.ldif, Bare: true})
		w.url, bindDN, bindPassword = w.slapd.URL, w.slapd.AdminDN, w.slapd.AdminPassword
	} else {
		w.ldap, err = ldapserver.New(ldapserver.Options{LDIF: strings.NewReader(setup.ldif), AdminDN: bindDN, AdminPassword: bindPassword})
		if err != nil {
			t.Fatal(err)
		}
		addr, err := w.ldap.Start(ctx, "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { w.ldap.Close() })
		w.url = "ldap://" + addr
	}

	tc := faketenant.DemoConfig()
	tc.TimeScale = w.scale
	tc.ReplicationLag = time.Second
	tc.Latency = faketenant.LatencyConfig{Distribution: "uniform", Min: 20 * time.Millisecond, Max: 80 * time.Millisecond}
	if setup.tenantCfg != nil {
		setup.tenantCfg(&tc)
	}
	w.tenant, err = faketenant.New(tc)
	if err != nil {
		t.Fatal(err)
	}
	w.srv = httptest.NewUnstartedServer(w.tenant)
	// Killed clients (the crash test) make the server log handshake errors.
	w.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	w.srv.StartTLS()
	t.Cleanup(w.srv.Close)
	ca := filepath.Join(w.dir, "tenant-ca.pem")
	writePEM(t, ca, w.srv)

	w.yaml = fmt.Sprintf(`
state: {driver: sqlite, dsn: '%[1]s/state.db'}
target:
  tenant: %[2]s
  clientId: %[3]s
  clientSecret: %[4]s
  graphURL: %[5]s
  loginURL: %[5]s
  caFile: '%[6]s'
channels:
  - name: staff
    interval: 1s
    maxThreads: 8
    source:
      type: openldap
      url: %[7]s
      bindDN: '%[10]s'
      password: '%[11]s'
      baseDN: dc=contoso,dc=com
      users: {filter: "(objectClass=inetOrgPerson)"}
      accountStatus: {algorithm: FLAG, attribute: nsAccountLock, flagValue: "true", flagMeansDisabled: true}
      changeDetection: {push: "off"}
%[8]s
    mapping:
      user:
        skuId: '${o365Sku}'
%[9]s`, w.dir, faketenant.DemoTenantID, faketenant.DemoClientID, faketenant.DemoClientSecret, w.srv.URL, ca, w.url, setup.source, setup.channel, bindDN, bindPassword)
	if setup.postgres {
		setup.replace = append(setup.replace, [2]string{fmt.Sprintf("state: {driver: sqlite, dsn: '%s/state.db'}", w.dir), fmt.Sprintf("state: {driver: postgres, dsn: '%s'}", pgtest.Database(t))})
	}
	for _, r := range setup.replace {
		if !strings.Contains(w.yaml, r[0]) {
			t.Fatalf("withReplaced: %q not in the configuration", r[0])
		}
		w.yaml = strings.Replace(w.yaml, r[0], r[1], 1)
	}
	w.open()
	return w
}

// open (re)assembles o365prov from the world's configuration.
func (w *world) open() {
	w.t.Helper()
	if w.sys != nil {
		w.sys.Close()
	}
	cfg, err := config.Parse("world.yaml", []byte(w.yaml))
	if err != nil {
		w.t.Fatalf("configuration: %v", err) // not the YAML: it holds the (fake) client secret
	}
	w.cfg = cfg
	retry := graph.RetryPolicy{LagBase: 20 * time.Millisecond, LagCap: 500 * time.Millisecond, TransientBase: 10 * time.Millisecond, TransientCap: 200 * time.Millisecond}
	w.sys, err = provision.Open(w.ctx, cfg, provision.Options{Clock: w.clock.now, GraphLimits: w.limits, GraphRetry: &retry, Settle: settle, Metrics: w.graph})
	if err != nil {
		w.sys = nil
		w.t.Fatal(err)
	}
	sys := w.sys
	w.t.Cleanup(func() { sys.Close() })
}

// reconfigure replaces part of the configuration and reassembles.
func (w *world) reconfigure(old, new string) {
	w.t.Helper()
	if !strings.Contains(w.yaml, old) {
		w.t.Fatalf("reconfigure: %q not in the configuration", old)
	}
	w.yaml = strings.Replace(w.yaml, old, new, 1)
	w.open()
}

func (w *world) engine() *engine.Engine { return w.sys.Engines[0] }

// sync runs one cycle and fails the test on an error.
func (w *world) sync(mode engine.Mode) *engine.Result {
	w.t.Helper()
	res, err := w.engine().Sync(w.ctx, engine.SyncOptions{Mode: mode})
	if err != nil {
		w.t.Fatalf("%s sync: %v", mode, err)
	}
	for _, f := range res.Failures {
		w.t.Logf("op %d %s failed: %s", f.Op, f.DN, f.Err)
	}
	return res
}

// writes is the number of writes the tenant accepted so far.
func (w *world) writes() int64 { return w.tenant.Counters().WritesAccepted }

// user finds a tenant user by UPN (deleted users excluded).
func (w *world) user(upn string) (faketenant.User, bool) {
	for _, u := range w.tenant.Users() {
		if strings.EqualFold(u.UserPrincipalName, upn) && u.Deleted.IsZero() {
			return u, true
		}
	}
	return faketenant.User{}, false
}

func (w *world) mustUser(upn string) faketenant.User {
	w.t.Helper()
	u, ok := w.user(upn)
	if !ok {
		w.t.Fatalf("no user %s in the tenant", upn)
	}
	return u
}

func (w *world) modify(dn string, changes ...ldapserver.Change) {
	w.t.Helper()
	if err := w.ldap.Modify(dn, changes...); err != nil {
		w.t.Fatalf("modify %s: %v", dn, err)
	}
}

// testClock is the engine's clock: the wall clock plus an offset tests move
// forward (retry backoff, Entra's 30-day restore window).
type testClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

func writePEM(t testing.TB, path string, srv *httptest.Server) {
	t.Helper()
	var b strings.Builder
	b.WriteString("-----BEGIN CERTIFICATE-----\n")
	enc := base64Lines(srv.Certificate().Raw)
	b.WriteString(enc)
	b.WriteString("-----END CERTIFICATE-----\n")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

func parseWorld(w *world) (*config.Config, error) { return config.Parse("world.yaml", []byte(w.yaml)) }

// immutableIDOf is what o365prov writes as onPremisesImmutableId for an
// entry: base64 of its entryUUID's bytes.
func immutableIDOf(t testing.TB, w *world, dn string) string {
	t.Helper()
	e, err := w.ldap.Get(dn)
	if err != nil {
		t.Fatal(err)
	}
	u, err := uuid.Parse(e.Value("entryUUID"))
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(u[:])
}

// graphCounts counts the Graph client's retries by reason and request
// path, for tests that bound how often a request is sent.
type graphCounts struct {
	graph.NopMetrics
	mu      sync.Mutex
	retries map[graph.RetryReason]map[string]int
}

func (g *graphCounts) Retried(_, path string, reason graph.RetryReason) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.retries == nil {
		g.retries = map[graph.RetryReason]map[string]int{}
	}
	if g.retries[reason] == nil {
		g.retries[reason] = map[string]int{}
	}
	g.retries[reason][path]++
}

// retried returns how many times requests to each path were queued again
// for reason.
func (g *graphCounts) retried(reason graph.RetryReason) map[string]int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return maps.Clone(g.retries[reason])
}
