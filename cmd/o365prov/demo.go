package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/o365prov/o365prov/examples"
	"github.com/o365prov/o365prov/internal/console"
	"github.com/o365prov/o365prov/internal/engine"
	"github.com/o365prov/o365prov/internal/faketenant"
	"github.com/o365prov/o365prov/internal/graph"
	"github.com/o365prov/o365prov/internal/ldapserver"
	"github.com/o365prov/o365prov/internal/provision"
	"github.com/spf13/cobra"
)

// Demo identities. They guard nothing but a throwaway demo on 127.0.0.1.
const (
	demoAdminDN       = "cn=admin,dc=contoso,dc=com"
	demoAdminPassword = "Contoso-Admin-2026!"
	demoBindDN        = "cn=o365prov,ou=services,dc=contoso,dc=com"
	demoBindPassword  = "o365prov-Service-2026!"
)

type demoFlags struct {
	dir        string
	ldapAddr   string
	tenantAddr string
	interval   time.Duration
	once       bool
	ssoAddr    string
	console    string
	auditLog   string
}

func newDemoCmd(a *app) *cobra.Command {
	var f demoFlags
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the whole thing on this machine: a directory, a fake Microsoft 365 tenant and the provisioner",
		Long: `Start an embedded LDAP directory holding a generated company
(examples/contoso.ldif: 200 people, managers, licences, groups), a fake
Microsoft 365 tenant that behaves like Microsoft Graph (throttling
included), and o365prov between them. The first sync runs with a progress
bar; then the demo keeps running, so a change made with ldapmodify shows in
the tenant within seconds. Ctrl-C stops it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runDemo(cmd.Context(), a, f) },
	}
	cmd.Flags().StringVar(&f.dir, "dir", "", "keep the demo's files (configuration, state) here instead of a temporary directory")
	cmd.Flags().StringVar(&f.ldapAddr, "ldap", "127.0.0.1:3389", "address of the embedded directory")
	cmd.Flags().StringVar(&f.tenantAddr, "tenant", "127.0.0.1:8650", "address of the fake tenant (https)")
	cmd.Flags().DurationVar(&f.interval, "interval", 2*time.Second, "how often the directory is checked for changes")
	cmd.Flags().BoolVar(&f.once, "once", false, "stop after the first sync")
	cmd.Flags().StringVar(&f.ssoAddr, "sso", "127.0.0.1:9031", "address of the identity provider (plain HTTP, loopback)")
	cmd.Flags().StringVar(&f.console, "console", "127.0.0.1:9090", "address of the web console (loopback, no sign-in; empty: no console)")
	cmd.Flags().StringVar(&f.auditLog, "audit-log", "", "also write every audit entry as a JSON line to this file (- for standard output)")
	return cmd
}

func runDemo(ctx context.Context, a *app, f demoFlags) error {
	log, err := a.logger()
	if err != nil {
		return err
	}
	dir := f.dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "o365prov-demo-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	ldap, ldapURL, err := startDemoDirectory(ctx, f.ldapAddr, examples.ContosoLDIF)
	if err != nil {
		return err
	}
	defer ldap.Close()
	tenant, tenantURL, err := startDemoTenant(ctx, f.tenantAddr, dir, demoTenantConfig())
	if err != nil {
		return err
	}
	defer tenant.Close()

	cfgPath, err := writeDemoConfig(dir, ldapURL, tenantURL, f.interval)
	if err != nil {
		return err
	}
	if err := appendDemoSSO(cfgPath, dir, f.ssoAddr, tenantURL); err != nil {
		return err
	}
	cfg, err := loadConfig(cfgPath)
	if err != nil {
		return fmt.Errorf("demo configuration: %w", err)
	}
	fmt.Fprintf(a.stdout, "o365prov demo\n  directory:   %s (%d entries from examples/contoso.ldif)\n  fake tenant: %s (Contoso, contoso.com)\n  config:      %s\n\nFirst sync…\n", ldapURL, ldap.Len(), tenantURL, cfgPath)
	// A new fake tenant has its whole write window to spend: let the first
	// sync use it at once instead of easing in at 20 writes/s.
	limits := graph.EntraLimits()
	limits.WriteBurst = limits.Writes
	ob, err := newObservability(cfg, f.auditLog, a.stdout, log)
	if err != nil {
		return err
	}
	defer ob.closeFn()
	sys, err := provision.Open(ctx, cfg, ob.options(provision.Options{Logger: log, Progress: newProgress(a.stderr, "first sync"), GraphLimits: &limits}))
	if err != nil {
		return err
	}
	defer sys.Close()
	r := &engine.Runner{Engines: sys.Engines, Log: log, OnCycle: func(ch string, res *engine.Result, err error) {
		printDemoCycle(a, ch, res, err)
	}}
	if f.console != "" && !f.once {
		url, err := serveConsole(ctx, sys, r, ob, console.ListenConfig{Addr: f.console}, "", log)
		if err != nil {
			return fmt.Errorf("%w (choose another address with --console, or none with --console '')", err)
		}
		fmt.Fprintf(a.stdout, "  console:     %s (watch the sync there)\n", url)
	}
	e := sys.Engines[0]
	start := time.Now()
	res, err := e.Sync(ctx, engine.SyncOptions{Mode: engine.Full})
	if err != nil {
		return fmt.Errorf("first sync: %w", err)
	}
	printDemoSummary(a, res, tenant, time.Since(start))
	if f.once {
		// The directory and the tenant stop with the demo: what still
		// works on its files is reading the state.
		fmt.Fprintf(a.stdout, "\nThe demo's directory and tenant stop with it. Its state stays in %s:\n  o365prov status --config %s\n  o365prov audit --config %s\n", filepath.Dir(cfgPath), shellQuote(cfgPath), shellQuote(cfgPath))
		return nil
	}
	idpDone, err := startDemoIdP(ctx, a, sys, log, tenantURL)
	if err != nil {
		if ctx.Err() != nil {
			return nil // stopped (Ctrl-C) while the identity provider started
		}
		return fmt.Errorf("single sign-on: %w", err)
	}
	defer func() { cancel(); _ = idpDone() }()
	// Printed once everything it names is up, so a script that waits for
	// it can use each of them.
	printDemoNext(a, ldapURL, tenantURL, cfgPath)
	return r.Run(ctx)
}

func startDemoDirectory(ctx context.Context, addr string, ldif []byte) (*ldapserver.Server, string, error) {
	srv, err := ldapserver.New(ldapserver.Options{
		LDIF: bytes.NewReader(ldif), AdminDN: demoAdminDN, AdminPassword: demoAdminPassword,
	})
	if err != nil {
		return nil, "", fmt.Errorf("embedded directory: %w", err)
	}
	got, err := srv.Start(ctx, addr)
	if err != nil {
		return nil, "", fmt.Errorf("embedded directory on %s: %w (choose another with --ldap)", addr, err)
	}
	return srv, "ldap://" + got, nil
}

// demoTenant is the fake tenant and the https server in front of it.
type demoTenant struct {
	*faketenant.Tenant
	srv *http.Server
}

func (t *demoTenant) Close() error {
	_ = t.srv.Close()
	return t.Tenant.Close()
}

// demoTenantConfig is the fake tenant the demo runs.
func demoTenantConfig() faketenant.Config {
	cfg := faketenant.DemoConfig()
	// Enough E5 for the generated company's leaders, IT and Legal, and Entra
	// ID P1 for its researchers.
	for i := range cfg.SKUs {
		if cfg.SKUs[i].SkuPartNumber == "ENTERPRISEPREMIUM" {
			cfg.SKUs[i].Units = 100
		}
	}
	cfg.SKUs = append(cfg.SKUs, faketenant.SKUConfig{SkuPartNumber: "AAD_PREMIUM", Units: 50})
	return cfg
}

// startDemoTenant serves a fake tenant made from cfg over https on addr,
// writing the CA to trust into dir.
func startDemoTenant(ctx context.Context, addr, dir string, cfg faketenant.Config) (*demoTenant, string, error) {
	t, err := faketenant.New(cfg)
	if err != nil {
		return nil, "", fmt.Errorf("fake tenant: %w", err)
	}
	host, _, _ := net.SplitHostPort(addr)
	cert, caPEM, err := faketenant.SelfSignedTLS([]string{host, "localhost", "127.0.0.1"}, time.Now())
	if err != nil {
		return nil, "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "tenant-ca.pem"), caPEM, 0o600); err != nil {
		return nil, "", err
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", fmt.Errorf("fake tenant on %s: %w (choose another with --tenant)", addr, err)
	}
	srv := &http.Server{Handler: t, ReadHeaderTimeout: 10 * time.Second, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}}
	go func() {
		if err := srv.ServeTLS(l, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(os.Stderr, "fake tenant:", err)
		}
	}()
	go func() { <-ctx.Done(); _ = srv.Close() }()
	return &demoTenant{Tenant: t, srv: srv}, "https://" + l.Addr().String(), nil
}

// writeDemoConfig writes the configuration the demo runs with, so an
// administrator can read it, and reuse it against the fake tenant.
func writeDemoConfig(dir, ldapURL, tenantURL string, interval time.Duration) (string, error) {
	secrets := map[string]string{"client-secret": faketenant.DemoClientSecret, "ldap-password": demoBindPassword}
	for name, v := range secrets {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(v), 0o600); err != nil {
			return "", err
		}
	}
	doc := fmt.Sprintf(`# Written by o365prov demo: the embedded directory and the fake tenant.
state:
  driver: sqlite
  dsn: %[1]s/state.db
target:
  tenant: %[2]s
  clientId: %[3]s
  clientSecret: ${file:%[1]s/client-secret}
  graphURL: %[4]s
  loginURL: %[4]s
  caFile: %[1]s/tenant-ca.pem
channels:
  - name: contoso
    interval: %[5]s
    fullSyncInterval: 5m
    maxThreads: 8
    source:
      type: openldap
      url: %[6]s
      bindDN: %[7]s
      password: ${file:%[1]s/ldap-password}
      baseDN: dc=contoso,dc=com
      users: {filter: "(objectClass=inetOrgPerson)"}
      groups: {filter: "(objectClass=groupOfNames)"}
      accountStatus: {algorithm: FLAG, attribute: nsAccountLock, flagValue: "true", flagMeansDisabled: true}
    options:
      groupDelete: true
    mapping:
      user:
        skuId: '${o365Sku}'
        disabledPlans: '${o365DisabledPlans}'
        department: '${ou}'
`, dir, faketenant.DemoTenantID, faketenant.DemoClientID, tenantURL, interval, ldapURL, demoBindDN)
	path := filepath.Join(dir, "o365prov.yaml")
	return path, os.WriteFile(path, []byte(doc), 0o600)
}

func printDemoSummary(a *app, res *engine.Result, t *demoTenant, took time.Duration) {
	c := res.Plan.Counts()
	users := 0
	for _, u := range t.Users() {
		if u.AccountEnabled {
			users++
		}
	}
	fmt.Fprintf(a.stdout, "\nDone in %s: %d operations, %d writes to Graph (%d failed).\n", took.Round(time.Millisecond), len(res.Plan.Ops), res.Writes, res.Failed)
	fmt.Fprintf(a.stdout, "  users created:        %d (%d enabled in the tenant now)\n", c["createUser"], users)
	fmt.Fprintf(a.stdout, "  licences assigned:    %d\n", c["assignLicense"])
	fmt.Fprintf(a.stdout, "  managers set:         %d\n", c["setManager"])
	fmt.Fprintf(a.stdout, "  groups created:       %d, with %d member requests (up to 20 members each)\n", c["createGroup"], c["addMembers"])
	for _, f := range res.Failures {
		fmt.Fprintf(a.stdout, "  failed: %s: %s\n", f.DN, f.Err)
	}
	for _, p := range res.Plan.Problems {
		fmt.Fprintf(a.stdout, "  problem: %s: %s\n", p.DN, p.Reason)
	}
}

func printDemoNext(a *app, ldapURL, tenantURL, cfgPath string) {
	host := strings.TrimPrefix(ldapURL, "ldap://")
	fmt.Fprintf(a.stdout, `
Look at the tenant:   curl -sk %[1]s/_fake/users | head    (or /_fake/groups, /_fake/counters)
Plan without applying (in another terminal, while the demo runs): o365prov plan --config %[2]s
Change the directory, and watch it reach the tenant within seconds:
  ldapmodify -x -H ldap://%[3]s -D '%[4]s' -w '%[5]s' <<'EOF'
  dn: uid=%[6]s,ou=people,dc=contoso,dc=com
  changetype: modify
  replace: title
  title: Chief Demo Officer
  EOF
Ctrl-C stops the demo.
`, tenantURL, cfgPath, host, demoAdminDN, demoAdminPassword, demoSampleUID())
}

// demoSampleUID is a user of the demo company, for the example change.
func demoSampleUID() string {
	for _, line := range strings.Split(string(examples.ContosoLDIF), "\n") {
		if v, ok := strings.CutPrefix(line, "dn: uid="); ok {
			if i := strings.IndexByte(v, ','); i > 0 {
				return v[:i]
			}
		}
	}
	return "someone"
}

func printDemoCycle(a *app, channel string, res *engine.Result, err error) {
	now := time.Now().Format("15:04:05")
	switch {
	case err != nil:
		fmt.Fprintf(a.stdout, "%s %s: %v\n", now, channel, err)
	case res == nil || res.Plan.Empty():
	default:
		for _, op := range res.Plan.Ops {
			fmt.Fprintf(a.stdout, "%s %s: %s %s — %s\n", now, channel, op.Type, op.Name, op.Reason)
		}
	}
}
