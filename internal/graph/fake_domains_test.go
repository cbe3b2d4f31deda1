package graph_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/o365prov/o365prov/internal/graph"
)

func TestDomainsAndFederation(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := f.client
	cert, _, _ := newCertificate(t, "sts.contoso.com")
	t.Run("the tenant's domains are listed and read", func(t *testing.T) {
		ds, err := c.ListDomains(ctx)
		if err != nil || len(ds) != 2 {
			t.Fatalf("got %+v %v", ds, err)
		}
		d, err := c.GetDomain(ctx, "contoso.com")
		if err != nil || !d.IsVerified || !d.IsDefault || d.AuthenticationType != "Managed" {
			t.Errorf("got %+v %v", d, err)
		}
		if _, err := c.GetDomain(ctx, "example.org"); !graph.IsNotFound(err) {
			t.Errorf("a foreign domain: %v", err)
		}
	})
	t.Run("a domain without federation has none", func(t *testing.T) {
		fed, err := c.GetFederation(ctx, "contoso.com")
		if err != nil || fed != nil {
			t.Errorf("got %+v %v", fed, err)
		}
	})
	want := graph.FederationConfig{
		DisplayName: "Contoso", IssuerURI: "https://sts.contoso.com/issuer",
		PassiveSignInURI: "https://sts.contoso.com/wsfed", ActiveSignInURI: "https://sts.contoso.com/trust/2005/usernamemixed",
		SignOutURI: "https://sts.contoso.com/logout", MetadataExchangeURI: "https://sts.contoso.com/mex",
		SigningCertificate:              base64.StdEncoding.EncodeToString(cert.Raw),
		PreferredAuthenticationProtocol: "wsFed", PromptLoginBehavior: "nativeSupport",
		FederatedIdpMfaBehavior: "acceptIfMfaDoneByFederatedIdp",
	}
	created, err := c.CreateFederation(ctx, "contoso.com", want)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("federating a domain answers the configuration and makes it Federated", func(t *testing.T) {
		if created.ID == "" || created.IssuerURI != want.IssuerURI || created.SigningCertificate != want.SigningCertificate {
			t.Errorf("got %+v", created)
		}
		d, _ := c.GetDomain(ctx, "contoso.com")
		if d.AuthenticationType != "Federated" {
			t.Errorf("domain is %s", d.AuthenticationType)
		}
	})
	t.Run("federating twice is refused", func(t *testing.T) {
		_, err := c.CreateFederation(ctx, "contoso.com", want)
		var ge *graph.Error
		if !errors.As(err, &ge) || ge.Status != 400 {
			t.Errorf("got %v", err)
		}
	})
	t.Run("the configuration is read back", func(t *testing.T) {
		fed, err := c.GetFederation(ctx, "contoso.com")
		if err != nil || fed == nil || fed.ID != created.ID || fed.PassiveSignInURI != want.PassiveSignInURI {
			t.Errorf("got %+v %v", fed, err)
		}
	})
	t.Run("an update answers the updated configuration", func(t *testing.T) {
		got, err := c.UpdateFederation(ctx, "contoso.com", created.ID, graph.Properties{"displayName": "Contoso SSO"})
		if err != nil || got.DisplayName != "Contoso SSO" || got.IssuerURI != want.IssuerURI {
			t.Errorf("got %+v %v", got, err)
		}
	})
	t.Run("a federated domain requires an immutableId on new users", func(t *testing.T) {
		_, err := c.CreateUser(ctx, userProps("fed"))
		var ge *graph.Error
		if !errors.As(err, &ge) || ge.Status != 400 {
			t.Errorf("got %v", err)
		}
		p := userProps("fed")
		p["onPremisesImmutableId"] = "ZmVk"
		if _, err := c.CreateUser(ctx, p); err != nil {
			t.Errorf("with an immutableId: %v", err)
		}
	})
	t.Run("deleting the configuration leaves the domain without one", func(t *testing.T) {
		if err := c.DeleteFederation(ctx, "contoso.com", created.ID); err != nil {
			t.Fatal(err)
		}
		fed, err := c.GetFederation(ctx, "contoso.com")
		if err != nil || fed != nil {
			t.Errorf("got %+v %v", fed, err)
		}
	})
}

// newCertificate makes a self-signed RSA certificate and returns it with
// its PEM and its key's PEM.
func newCertificate(t testing.TB, cn string) (*x509.Certificate, []byte, []byte) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
}
