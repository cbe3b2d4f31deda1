package graph_test

import (
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/o365prov/o365prov/internal/config"
	"github.com/o365prov/o365prov/internal/faketenant"
	"github.com/o365prov/o365prov/internal/graph"
)

// testTimeScale runs the fake tenant, and the client's windows and
// backoffs, this many times faster than the wall clock: Graph's 150 s write
// window lasts 150 ms, a 1 s lag retry 1 ms.
const testTimeScale = 1000

// fixture is a fake tenant served over TLS and a client talking to it.
type fixture struct {
	tenant *faketenant.Tenant
	srv    *httptest.Server
	client *graph.Client
	stats  *graph.Stats
	target config.Target
}

type fixtureOption func(*faketenant.Config, *config.Target, *graph.Options)

// newFixture starts the demo tenant (contoso.com, E3 and E5) with the entra
// throttling profile, and a client for it authenticating with MSAL.
func newFixture(t testing.TB, opts ...fixtureOption) *fixture {
	t.Helper()
	var err error
	f := newFixtureOrError(t, &err, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// newFixtureOrError is newFixture for tests of graph.New's own errors: it
// reports them in *newErr instead of failing.
func newFixtureOrError(t testing.TB, newErr *error, opts ...fixtureOption) *fixture {
	t.Helper()
	cfg := faketenant.DemoConfig()
	cfg.TimeScale = testTimeScale
	target := config.Target{
		Tenant: faketenant.DemoTenantID, ClientID: faketenant.DemoClientID,
		ClientSecret: config.NewSecret(faketenant.DemoClientSecret),
		WriteRate:    config.DefaultWriteRate, ResourceUnits: config.DefaultResourceUnits,
	}
	stats := &graph.Stats{}
	o := graph.Options{MaxThreads: 4, Timeout: 10 * time.Second, Metrics: stats, Logger: testLogger()}
	for _, opt := range opts {
		opt(&cfg, &target, &o)
	}
	tenant, err := faketenant.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(tenant)
	// Handshakes cut short when a test ends are not news.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(func() { srv.Close(); _ = tenant.Close() })
	target.GraphURL, target.LoginURL = srv.URL, srv.URL
	o.HTTPClient = srv.Client()
	// Keep a connection for every sender, as NewHTTPClient does: the
	// test server's client keeps two, and closing the others would make
	// every exchange past two a TLS handshake.
	o.HTTPClient.Transport.(*http.Transport).MaxIdleConnsPerHost = 66
	if o.Limits == nil {
		l := graph.EntraLimits().Scaled(cfg.TimeScale)
		o.Limits = &l
	}
	o.Retry = o.Retry.Scaled(cfg.TimeScale)
	c, err := graph.New(target, o)
	if err != nil {
		*newErr = err
		return nil
	}
	t.Cleanup(func() { _ = c.Close() })
	return &fixture{tenant: tenant, srv: srv, client: c, stats: stats, target: target}
}

// testLogger shows the client's debug lines with GRAPH_TEST_LOG=1.
func testLogger() *slog.Logger {
	if os.Getenv("GRAPH_TEST_LOG") == "" {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// seed turns a property bag into a user seeded straight into the tenant.
func seed(p graph.Properties) faketenant.SeedUser {
	return faketenant.SeedUser{Properties: map[string]any(p)}
}
