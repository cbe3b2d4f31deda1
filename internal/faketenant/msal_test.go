package faketenant

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
)

// MSAL for Go is what our Graph client uses; these tests prove the fake
// speaks to it unmodified (https authority, OpenID discovery, instance
// discovery, PS256 client assertions with x5t#S256).
func TestMSALCompatibility(t *testing.T) {
	// MSAL signs assertions with the system clock, so the fake uses it too.
	f := newFixture(t, withTestApps, func(c *Config) { c.Clock = nil })
	authority := f.srv.URL + "/" + DemoTenantID
	scopes := []string{"https://graph.microsoft.com/.default"}

	t.Run("MSAL gets a token with a client secret and the token works on Graph", func(t *testing.T) {
		cred, err := confidential.NewCredFromSecret(DemoClientSecret)
		if err != nil {
			t.Fatal(err)
		}
		app, err := confidential.New(authority, DemoClientID, cred, confidential.WithHTTPClient(f.srv.Client()), confidential.WithInstanceDiscovery(false))
		if err != nil {
			t.Fatal(err)
		}
		res, err := app.AcquireTokenByCredential(context.Background(), scopes)
		if err != nil {
			t.Fatalf("AcquireTokenByCredential: %v", err)
		}
		want(t, f.callWith(res.AccessToken, http.MethodGet, "/v1.0/users", nil), http.StatusOK)
	})

	t.Run("MSAL gets a token with a certificate (PS256, x5t#S256, x5c)", func(t *testing.T) {
		ac := loadAppCredential(t)
		cred, err := confidential.NewCredFromCert([]*x509.Certificate{ac.cert}, ac.key)
		if err != nil {
			t.Fatal(err)
		}
		app, err := confidential.New(authority, certClientID, cred, confidential.WithHTTPClient(f.srv.Client()),
			confidential.WithInstanceDiscovery(false), confidential.WithX5C())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := app.AcquireTokenByCredential(context.Background(), scopes); err != nil {
			t.Fatalf("AcquireTokenByCredential: %v", err)
		}
	})

	t.Run("MSAL surfaces AADSTS7000215 for a wrong secret", func(t *testing.T) {
		cred, _ := confidential.NewCredFromSecret("wrong")
		app, _ := confidential.New(authority, DemoClientID, cred, confidential.WithHTTPClient(f.srv.Client()), confidential.WithInstanceDiscovery(false))
		_, err := app.AcquireTokenByCredential(context.Background(), scopes)
		if err == nil || !strings.Contains(err.Error(), "AADSTS7000215") {
			t.Fatalf("err %v, want AADSTS7000215", err)
		}
	})

	t.Run("MSAL with instance discovery on reads the fake's /common/discovery/instance", func(t *testing.T) {
		// MSAL asks login.microsoftonline.com about an unknown authority host;
		// route every connection to the fake to serve that answer too.
		addr := f.srv.Listener.Addr().String()
		tr := &http.Transport{
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, addr)
			},
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // test-only redirect to the fake
		}
		cred, _ := confidential.NewCredFromSecret(DemoClientSecret)
		// A different authority spelling: MSAL caches endpoints per authority
		// across clients.
		app, err := confidential.New(f.srv.URL+"/contoso.com", DemoClientID, cred, confidential.WithHTTPClient(&http.Client{Transport: tr}))
		if err != nil {
			t.Fatal(err)
		}
		before := f.tenant.Counters().Count(http.MethodGet, "/common/discovery/instance", 200)
		if _, err := app.AcquireTokenByCredential(context.Background(), scopes); err != nil {
			t.Fatalf("AcquireTokenByCredential: %v", err)
		}
		if f.tenant.Counters().Count(http.MethodGet, "/common/discovery/instance", 200) <= before {
			t.Fatalf("MSAL did not use instance discovery: %+v", f.tenant.Counters().Requests)
		}
	})
}
