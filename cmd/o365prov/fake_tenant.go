package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/o365prov/o365prov/internal/faketenant"
)

type fakeTenantOpts struct {
	listen    string
	config    string
	state     string
	throttle  string
	timeScale float64
	tls       bool
	tlsCert   string
	tlsKey    string
	caOut     string
}

func newFakeTenantCmd(a *app) *cobra.Command {
	var o fakeTenantOpts
	cmd := &cobra.Command{
		Use:   "fake-tenant",
		Short: "Serve a fake Microsoft Graph and Entra ID tenant for trials and tests",
		Long: `fake-tenant serves an emulated Entra ID tenant: the token endpoint and
sign-in pages of login.microsoftonline.com and Microsoft Graph v1.0, on one
address. Without --config it serves a demo tenant (contoso.com) with one app
whose client id and secret are printed at start. See docs/fake-tenant.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runFakeTenant(cmd.Context(), a, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.listen, "listen", "127.0.0.1:8650", "address to listen on")
	f.StringVar(&o.config, "config", "", "tenant config (YAML); default: the built-in demo tenant")
	f.StringVar(&o.state, "state", "", "JSON file that keeps the directory across restarts; default: memory only")
	f.StringVar(&o.throttle, "throttle", "", "throttling profile, overriding the config: entra or off")
	f.Float64Var(&o.timeScale, "time-scale", 0, "run the tenant clock N times faster (throttle windows, Retry-After, latency, lag, expiry)")
	f.BoolVar(&o.tls, "tls", false, "serve HTTPS with a self-signed certificate for the listen host (MSAL needs https)")
	f.StringVar(&o.tlsCert, "tls-cert", "", "serve HTTPS with this certificate (PEM) instead")
	f.StringVar(&o.tlsKey, "tls-key", "", "private key (PEM) for --tls-cert")
	f.StringVar(&o.caOut, "ca-out", "", "where --tls writes the CA certificate to trust (default: in the temp directory)")
	return cmd
}

func runFakeTenant(ctx context.Context, a *app, o fakeTenantOpts) error {
	log, err := a.logger()
	if err != nil {
		return err
	}
	cfg, demo, err := fakeTenantConfig(o)
	if err != nil {
		return err
	}
	cfg.Logger = log
	tenant, err := faketenant.New(cfg)
	if err != nil {
		return err
	}
	defer func() {
		if err := tenant.Close(); err != nil {
			log.Error("close fake tenant", "err", err)
		}
	}()
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", o.listen, err)
	}
	scheme, caPath, err := fakeTenantTLS(&ln, o)
	if err != nil {
		ln.Close()
		return err
	}
	base := scheme + "://" + ln.Addr().String()
	printFakeTenantBanner(a.stdout, base, caPath, tenant, cfg, demo)
	srv := &http.Server{Handler: tenant, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve fake tenant: %w", err)
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shut); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shut down fake tenant: %w", err)
	}
	log.Info("fake tenant stopped")
	return nil
}

// fakeTenantConfig loads the config (or the demo) and applies the flags.
func fakeTenantConfig(o fakeTenantOpts) (faketenant.Config, bool, error) {
	cfg, demo := faketenant.DemoConfig(), true
	if o.config != "" {
		var err error
		if cfg, err = faketenant.LoadConfig(o.config); err != nil {
			return cfg, false, err
		}
		demo = false
	}
	if o.state != "" {
		cfg.StatePath = o.state
	}
	if o.timeScale != 0 {
		cfg.TimeScale = o.timeScale
	}
	switch strings.ToLower(o.throttle) {
	case "":
	case "entra", "off":
		cfg.Throttling.Profile = strings.ToLower(o.throttle)
	default:
		return cfg, demo, fmt.Errorf("--throttle %q: want entra or off", o.throttle)
	}
	return cfg, demo, nil
}

// fakeTenantTLS wraps the listener in TLS when asked and returns the scheme
// and the CA file written for --tls.
func fakeTenantTLS(ln *net.Listener, o fakeTenantOpts) (string, string, error) {
	if o.tlsCert == "" && o.tlsKey == "" && !o.tls {
		return "http", "", nil
	}
	var cert tls.Certificate
	caPath := ""
	if o.tlsCert != "" || o.tlsKey != "" {
		var err error
		if cert, err = tls.LoadX509KeyPair(o.tlsCert, o.tlsKey); err != nil {
			return "", "", fmt.Errorf("--tls-cert/--tls-key: %w", err)
		}
	} else {
		host, _, _ := net.SplitHostPort((*ln).Addr().String())
		var caPEM []byte
		var err error
		if cert, caPEM, err = faketenant.SelfSignedTLS([]string{host}, time.Now()); err != nil {
			return "", "", err
		}
		caPath = o.caOut
		if caPath == "" {
			caPath = filepath.Join(os.TempDir(), "o365prov-fake-tenant-ca.pem")
		}
		if err := os.WriteFile(caPath, caPEM, 0o644); err != nil {
			return "", "", fmt.Errorf("write CA certificate: %w", err)
		}
	}
	*ln = tls.NewListener(*ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	return "https", caPath, nil
}

func printFakeTenantBanner(w io.Writer, base, caPath string, t *faketenant.Tenant, cfg faketenant.Config, demo bool) {
	fmt.Fprintf(w, "fake tenant %s (%s) listening on %s\n", t.TenantID(), t.InitialDomain(), base)
	fmt.Fprintf(w, "  Graph:      %s/v1.0\n", base)
	fmt.Fprintf(w, "  authority:  %s/%s\n", base, t.TenantID())
	fmt.Fprintf(w, "  token:      %s/%s/oauth2/v2.0/token\n", base, t.TenantID())
	fmt.Fprintf(w, "  sign-in:    %s/login?username=UPN\n", base)
	fmt.Fprintf(w, "  inspect:    %s/_fake\n", base)
	for _, d := range t.Domains() {
		fmt.Fprintf(w, "  domain:     %s (%s)\n", d.Name, d.AuthenticationType)
	}
	for _, app := range cfg.Apps {
		fmt.Fprintf(w, "  app:        %s client_id=%s\n", app.Name, app.ClientID)
	}
	if demo {
		// The demo secret is a published constant of a fake; printing it is the point.
		fmt.Fprintf(w, "  secret:     %s\n", faketenant.DemoClientSecret)
	}
	throttle := cfg.Throttling.Profile
	if throttle == "" {
		throttle = "entra"
	}
	fmt.Fprintf(w, "  throttling: %s, time scale %gx\n", throttle, max(cfg.TimeScale, 1))
	if caPath != "" {
		fmt.Fprintf(w, "  CA to trust: %s\n", caPath)
	}
	if cfg.StatePath != "" {
		fmt.Fprintf(w, "  state:      %s\n", cfg.StatePath)
	}
}
