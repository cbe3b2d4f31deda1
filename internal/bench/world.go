package bench

import (
	"bytes"
	"context"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/o365prov/o365prov/internal/config"
	"github.com/o365prov/o365prov/internal/engine"
	"github.com/o365prov/o365prov/internal/faketenant"
	"github.com/o365prov/o365prov/internal/ldapserver"
	"github.com/o365prov/o365prov/internal/ldapserver/fakeorg"
	"github.com/o365prov/o365prov/internal/provision"
)

const (
	adminDN       = "cn=admin,dc=contoso,dc=com"
	adminPassword = "Bench-Admin-2026!"
)

// world is the embedded directory, a fake tenant and o365prov between them,
// all in this process.
type world struct {
	dir       string
	ldap      *ldapserver.Server
	ldapCount atomic.Int64
	tenant    *tenantServer
	sys       *provision.System
	engine    *engine.Engine
}

// tenantServer is a fake tenant served over TLS on a free loopback port.
type tenantServer struct {
	*faketenant.Tenant
	srv *httptest.Server
}

func (t *tenantServer) Close() {
	t.srv.Close()
	_ = t.Tenant.Close()
}

// tenantConfig is the entra-profile tenant the benchmark runs against, with
// licences enough for everyone.
func tenantConfig(o Options) faketenant.Config {
	cfg := faketenant.DemoConfig()
	cfg.TimeScale = o.TimeScale
	cfg.Throttling = faketenant.ThrottlingConfig{Profile: "entra"}
	if o.Latency > 0 {
		cfg.Latency = faketenant.LatencyConfig{Distribution: "uniform", Min: o.Latency / 2, Max: o.Latency * 3 / 2}
	}
	cfg.SKUs = append(cfg.SKUs, faketenant.SKUConfig{SkuPartNumber: "AAD_PREMIUM"})
	for i := range cfg.SKUs {
		cfg.SKUs[i].Units = 2*o.Users + 100
	}
	return cfg
}

func startTenant(o Options) (*tenantServer, error) {
	t, err := faketenant.New(tenantConfig(o))
	if err != nil {
		return nil, fmt.Errorf("fake tenant: %w", err)
	}
	srv := httptest.NewUnstartedServer(t)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	return &tenantServer{Tenant: t, srv: srv}, nil
}

// organisation generates the LDIF of o.Users people and o.Groups groups.
func organisation(ctx context.Context, o Options) ([]byte, error) {
	org := fakeorg.Contoso()
	org.Users, org.Groups = o.Users, o.Groups
	var buf bytes.Buffer
	if err := fakeorg.Generate(ctx, &buf, org); err != nil {
		return nil, fmt.Errorf("generate the organisation: %w", err)
	}
	return buf.Bytes(), nil
}

func startWorld(ctx context.Context, o Options, ldif []byte, progress engine.Progress) (w *world, err error) {
	w = &world{}
	defer func() {
		if err != nil {
			w.Close()
		}
	}()
	if w.dir, err = os.MkdirTemp("", "o365prov-bench-"); err != nil {
		return w, err
	}
	w.ldap, err = ldapserver.New(ldapserver.Options{LDIF: bytes.NewReader(ldif), AdminDN: adminDN, AdminPassword: adminPassword})
	if err != nil {
		return w, fmt.Errorf("embedded directory: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return w, fmt.Errorf("embedded directory: %w", err)
	}
	go func() { _ = w.ldap.Serve(ctx, countingListener{Listener: ln, n: &w.ldapCount}) }()
	if w.tenant, err = startTenant(o); err != nil {
		return w, err
	}
	ca := filepath.Join(w.dir, "tenant-ca.pem")
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: w.tenant.srv.Certificate().Raw})
	if err := os.WriteFile(ca, caPEM, 0o600); err != nil {
		return w, err
	}
	cfg, err := config.Parse("bench.yaml", []byte(provisionerConfig(w.dir, ca, w.tenant.srv.URL, "ldap://"+ln.Addr().String(), o.TimeScale)))
	if err != nil {
		return w, fmt.Errorf("benchmark configuration: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	w.sys, err = provision.Open(ctx, cfg, provision.Options{Logger: logger, Progress: progress, HTTPClient: w.tenant.srv.Client()})
	if err != nil {
		return w, fmt.Errorf("start o365prov: %w", err)
	}
	w.engine = w.sys.Engines[0]
	return w, nil
}

// provisionerConfig is o365prov's configuration: the demo's channel, told
// the tenant's time scale, polling the directory (the embedded one has no
// persistent search or syncrepl to push with).
func provisionerConfig(dir, ca, tenantURL, ldapURL string, scale float64) string {
	return fmt.Sprintf(`
state: {driver: sqlite, dsn: '%[1]s/state.db'}
target:
  tenant: %[2]s
  clientId: %[3]s
  clientSecret: '%[4]s'
  graphURL: %[5]s
  loginURL: %[5]s
  caFile: '%[6]s'
  timeScale: %[7]g
channels:
  - name: bench
    interval: 1s
    maxThreads: 8
    source:
      type: openldap
      url: %[8]s
      bindDN: '%[9]s'
      password: '%[10]s'
      baseDN: dc=contoso,dc=com
      users: {filter: "(objectClass=inetOrgPerson)"}
      groups: {filter: "(objectClass=groupOfNames)"}
      accountStatus: {algorithm: FLAG, attribute: nsAccountLock, flagValue: "true", flagMeansDisabled: true}
      changeDetection: {push: "off"}
    options:
      groupDelete: true
    mapping:
      user:
        skuId: '${o365Sku}'
        disabledPlans: '${o365DisabledPlans}'
        department: '${ou}'
`, dir, faketenant.DemoTenantID, faketenant.DemoClientID, faketenant.DemoClientSecret, tenantURL, ca, scale, ldapURL, adminDN, adminPassword)
}

func (w *world) Close() {
	if w.sys != nil {
		_ = w.sys.Close()
	}
	if w.tenant != nil {
		w.tenant.Close()
	}
	if w.ldap != nil {
		_ = w.ldap.Close()
	}
	if w.dir != "" {
		_ = os.RemoveAll(w.dir)
	}
}

// tenantElapsed converts a wall-clock duration to tenant (real Graph) time.
func tenantElapsed(d time.Duration, scale float64) time.Duration {
	return time.Duration(float64(d) * scale)
}
