package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/o365prov/o365prov/internal/provision"
)

// demoUserPassword is every demo user's directory password (the header of
// examples/contoso.ldif says so).
const demoUserPassword = "Contoso-Demo-2026!"

// appendDemoSSO adds the identity provider to the demo configuration:
// plain HTTP on loopback, replying to the fake tenant's login.srf.
func appendDemoSSO(cfgPath, dir, addr, tenantURL string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--sso %q: %w", addr, err)
	}
	if port == "0" {
		return fmt.Errorf("--sso %q: give a fixed port (the tenant must be told the URL)", addr)
	}
	if err := os.WriteFile(filepath.Join(dir, "sso-key-secret"), []byte("demo-sso-key-encryption-secret"), 0o600); err != nil {
		return err
	}
	base := "http://" + net.JoinHostPort(host, port)
	doc := fmt.Sprintf(`sso:
  listen: %[1]s
  baseURL: %[2]s
  loginSource: contoso
  loginAttribute: mail
  replyURLs: [%[3]s/login.srf]
  domains: [contoso.com]
  organisation: Contoso
  keyEncryptionKey: ${file:%[4]s/sso-key-secret}
`, addr, base, tenantURL, dir)
	f, err := os.OpenFile(cfgPath, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(doc); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// startDemoIdP serves the identity provider, federates contoso.com with
// it and prints how to sign in.
func startDemoIdP(ctx context.Context, a *app, sys *provision.System, log *slog.Logger, tenantURL string) (func() error, error) {
	wait, err := startIdP(ctx, sys, log)
	if err != nil {
		return nil, err
	}
	cfg := sys.Config
	keys, err := provision.SSOKeys(ctx, cfg, sys.Store)
	if err != nil {
		return nil, err
	}
	ours, err := provision.DesiredFederation(cfg, keys, "contoso.com", "wsFed")
	if err != nil {
		return nil, err
	}
	if err := provision.CheckIdP(ctx, idpClient(cfg.SSO), cfg.SSO.BaseURL, keys); err != nil {
		return nil, err
	}
	if _, err := provision.ApplyFederation(ctx, sys.Graph, "contoso.com", ours); err != nil {
		return nil, fmt.Errorf("federate contoso.com: %w", err)
	}
	user := demoSampleUID() + "@contoso.com"
	fmt.Fprintf(a.stdout, `
Single sign-on: contoso.com is federated with o365prov's identity provider (%[1]s).
Open this in a browser (accept the fake tenant's self-signed certificate) and sign in:
  %[2]s/login?username=%[3]s
  password: %[4]s
`, strings.TrimSuffix(cfg.SSO.BaseURL, "/"), tenantURL, user, demoUserPassword)
	return wait, nil
}
