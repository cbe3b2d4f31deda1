package faketenant

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"
)

func TestPersistence(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	withState := func(c *Config) { c.StatePath = path }

	f := newFixture(t, withDomains, withState)
	boss := f.createUser("boss", map[string]any{"usageLocation": "US", "onPremisesImmutableId": "Qk9TUw=="})
	emp := f.createUser("emp", nil)
	gone := f.createUser("gone", nil)
	g := f.createGroup("team", true)
	want(t, f.call(http.MethodPut, "/v1.0/users/"+emp+"/manager/$ref", map[string]any{"@odata.id": "https://graph.microsoft.com/v1.0/users/" + boss}), http.StatusNoContent)
	want(t, f.call(http.MethodPost, "/v1.0/groups/"+g+"/members/$ref", map[string]any{"@odata.id": "https://graph.microsoft.com/v1.0/users/" + emp}), http.StatusNoContent)
	want(t, f.call(http.MethodPost, "/v1.0/users/"+boss+"/assignLicense", assign([]map[string]any{{"skuId": e3}}, nil)), http.StatusOK)
	want(t, f.call(http.MethodDelete, "/v1.0/users/"+gone, nil), http.StatusNoContent)
	want(t, f.call(http.MethodPost, "/v1.0/domains/contoso.com/federationConfiguration", map[string]any{
		"issuerUri": "http://sts.contoso.com/trust", "passiveSignInUri": "https://sts.contoso.com/ls",
		"preferredAuthenticationProtocol": "wsFed", "signingCertificate": idpCertB64(t),
	}), http.StatusCreated)
	f.tenant.Advance(48 * time.Hour)
	oldToken := f.token
	if err := f.tenant.Close(); err != nil {
		t.Fatal(err)
	}

	cfg := DemoConfig()
	cfg.Throttling.Profile = "off"
	cfg.Clock = f.clock
	withDomains(&cfg)
	withState(&cfg)
	again, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	srv := httptest.NewTLSServer(again)
	defer srv.Close()
	f2 := &fixture{t: t, tenant: again, srv: srv, clock: f.clock, token: oldToken}

	t.Run("--state: users, groups, memberships, managers and licences survive a restart", func(t *testing.T) {
		u, ok := again.User(emp)
		if !ok || u.Manager != boss || len(u.MemberOf) != 1 || u.MemberOf[0] != g {
			t.Fatalf("emp %+v", u)
		}
		b, _ := again.User(boss)
		if len(b.Licenses) != 1 || b.OnPremisesImmutableID != "Qk9TUw==" {
			t.Fatalf("boss %+v", b)
		}
		for _, s := range again.SKUs() {
			if s.SkuID == e3 && s.Consumed != 1 {
				t.Fatalf("consumed %d", s.Consumed)
			}
		}
		if err := again.CheckConsistency(); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("--state: deleted items, federation and the tenant clock survive", func(t *testing.T) {
		if d := again.DeletedItems(); len(d) != 1 || d[0].ID != gone {
			t.Fatalf("deleted %+v", d)
		}
		for _, d := range again.Domains() {
			if d.Name == "contoso.com" && d.AuthenticationType != "Federated" {
				t.Fatalf("%+v", d)
			}
		}
		if again.Now().Sub(f.clock.Now()) < 47*time.Hour {
			t.Fatalf("tenant clock offset lost: %v vs %v", again.Now(), f.clock.Now())
		}
	})

	t.Run("--state: a token issued before the restart still works (the signing key is kept)", func(t *testing.T) {
		want(t, f2.call(http.MethodGet, "/v1.0/users/"+emp, nil), http.StatusOK)
	})

	t.Run("--state: a file of another tenant is refused", func(t *testing.T) {
		other := DemoConfig()
		other.Tenant.ID = "00000000-1111-4222-8333-444444444444"
		other.StatePath = path
		if _, err := New(other); err == nil {
			t.Fatal("loaded another tenant's state")
		}
	})
}
