package graph_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/o365prov/o365prov/internal/config"
	"github.com/o365prov/o365prov/internal/faketenant"
	"github.com/o365prov/o365prov/internal/graph"
)

const certClientID = "5f0c1d2e-3a4b-4c5d-8e6f-7a8b9c0d1e2f"

func TestTokenRefresh(t *testing.T) {
	// The fake judges token lifetimes on its wall clock; a manual one lets
	// the test expire the client's token without waiting an hour.
	wall := faketenant.NewManualClock(time.Now())
	f := newFixture(t, func(c *faketenant.Config, _ *config.Target, _ *graph.Options) {
		c.Clock = wall
		c.Throttling.Profile = "off"
	})
	ctx := context.Background()
	if _, err := f.client.GetDomain(ctx, "contoso.com"); err != nil {
		t.Fatal(err)
	}
	wall.Advance(2 * time.Hour)
	t.Run("an expired token is refused once, replaced, and the request succeeds", func(t *testing.T) {
		var wg sync.WaitGroup
		for range 10 {
			wg.Go(func() {
				if _, err := f.client.GetDomain(ctx, "contoso.com"); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		c := f.tenant.Counters()
		if n := c.Count("POST", "/{tenant}/oauth2/v2.0/token", 200); n != 2 {
			t.Errorf("%d tokens fetched, want 2: one refresh for all callers", n)
		}
		if s := f.stats.Snapshot(); s.Retries[graph.RetryAuth] == 0 || s.ByStatus[401] == 0 {
			t.Errorf("no 401 was seen: %+v", s)
		}
	})
}

func TestCertificateAuth(t *testing.T) {
	_, certPEM, keyPEM := newCertificate(t, "o365prov")
	dir := t.TempDir()
	certFile, keyFile, bothFile := filepath.Join(dir, "app.crt"), filepath.Join(dir, "app.key"), filepath.Join(dir, "app.pem")
	for name, data := range map[string][]byte{certFile: certPEM, keyFile: keyPEM, bothFile: append(append([]byte{}, certPEM...), keyPEM...)} {
		if err := os.WriteFile(name, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name       string
		cert, key  string
		wantClient bool
	}{
		{name: "a certificate and a key in two files sign the client in", cert: certFile, key: keyFile, wantClient: true},
		{name: "a certificate and its key in one file sign the client in", cert: bothFile, wantClient: true},
		{name: "a key that is not in the file is an error before any request", cert: certFile},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := faketenant.AppConfig{Name: "cert app", ClientID: certClientID,
				Certificates: []faketenant.CertConfig{{PEM: string(certPEM)}},
				Permissions:  []string{"Domain.Read.All", "User.ReadWrite.All"}}
			var newErr error
			f := newFixtureOrError(t, &newErr, func(c *faketenant.Config, target *config.Target, _ *graph.Options) {
				c.Apps = append(c.Apps, app)
				target.ClientID, target.ClientSecret = certClientID, config.Secret{}
				target.ClientCertificate, target.ClientKey = tt.cert, tt.key
			})
			if !tt.wantClient {
				if newErr == nil {
					t.Error("no error")
				}
				return
			}
			if newErr != nil {
				t.Fatal(newErr)
			}
			if _, err := f.client.GetDomain(context.Background(), "contoso.com"); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestAuthFailuresShowNoSecret(t *testing.T) {
	var logs bytes.Buffer
	const wrong = "wrong-secret-value~1234"
	f := newFixture(t, func(_ *faketenant.Config, target *config.Target, o *graph.Options) {
		target.ClientSecret = config.NewSecret(wrong)
		o.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	_, err := f.client.GetDomain(context.Background(), "contoso.com")
	t.Run("a wrong secret fails with Entra's reason", func(t *testing.T) {
		if err == nil || !strings.Contains(err.Error(), "AADSTS7000215") {
			t.Errorf("got %v", err)
		}
		if n := f.tenant.Counters().Count("POST", "/{tenant}/oauth2/v2.0/token", 0); n != 1 {
			t.Errorf("%d token requests: a refused secret is not retried", n)
		}
	})
	t.Run("neither the error nor the log shows the secret", func(t *testing.T) {
		if strings.Contains(err.Error(), wrong) || strings.Contains(logs.String(), wrong) {
			t.Error("the secret leaked")
		}
	})
}

func TestLogsShowNoTokenOrUPN(t *testing.T) {
	var logs graph.SyncBuffer
	f := newFixture(t, func(_ *faketenant.Config, _ *config.Target, o *graph.Options) {
		o.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	ctx := context.Background()
	if _, err := f.client.CreateUser(ctx, userProps("secretive")); err != nil {
		t.Fatal(err)
	}
	if _, err := f.client.GetUser(ctx, "secretive@contoso.com"); err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	for _, leak := range []string{"secretive", "eyJ", faketenant.DemoClientSecret} {
		if strings.Contains(out, leak) {
			t.Errorf("the log shows %q", leak)
		}
	}
	if !strings.Contains(out, "path=/users/{id}") || !strings.Contains(out, "request-id=") {
		t.Errorf("the log lacks path templates or request ids:\n%s", out)
	}
}
