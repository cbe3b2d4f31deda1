package faketenant

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/beevik/etree"
)

func TestUserRealm(t *testing.T) {
	f := newFixture(t, withDomains, withSAMLDomain, func(c *Config) {
		c.Domains[len(c.Domains)-2].Federation.MetadataExchangeURI = "https://idp.contoso.com/idp/mex"
		c.Domains[len(c.Domains)-2].Federation.ActiveSignInURI = "https://idp.contoso.com/idp/sts.wst"
	})
	for _, c := range []struct {
		name, upn string
		want      map[string]any
		absent    []string
	}{
		{"a federated domain names its MEX and active endpoint", "alice@fed.contoso.com", map[string]any{
			"account_type": "Federated", "domain_name": "fed.contoso.com", "federation_protocol": "WSTrust",
			"federation_metadata_url": "https://idp.contoso.com/idp/mex", "federation_active_auth_url": "https://idp.contoso.com/idp/sts.wst",
			"cloud_audience_urn": "urn:federation:MicrosoftOnline"}, nil},
		{"a SAML domain without MEX says SAML20 and no URLs", "s1@saml.contoso.com", map[string]any{
			"account_type": "Federated", "federation_protocol": "SAML20"}, []string{"federation_metadata_url", "federation_active_auth_url"}},
		{"a managed domain is Managed", "adele@contoso.com", map[string]any{"account_type": "Managed", "domain_name": "contoso.com"},
			[]string{"federation_protocol"}},
		{"a domain the tenant does not have is Unknown", "x@fabrikam.example", map[string]any{"account_type": "Unknown"}, []string{"domain_name"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := f.callWith("", http.MethodGet, "/common/UserRealm/"+url.PathEscape(c.upn)+"?api-version=1.0", nil)
			want(t, r, http.StatusOK)
			for k, v := range c.want {
				if r.body[k] != v {
					t.Errorf("%s = %v, want %v", k, r.body[k], v)
				}
			}
			for _, k := range c.absent {
				if _, ok := r.body[k]; ok {
					t.Errorf("%s present", k)
				}
			}
		})
	}
}

func TestUserGrants(t *testing.T) {
	f := newFixture(t, withDomains, withSAMLDomain)
	p := loadIdP(t, "idp-signing")
	for _, props := range []map[string]any{
		{"userPrincipalName": "fed1@fed.contoso.com", "displayName": "Fed One", "onPremisesImmutableId": "SU1NVVRBQkxF"},
		{"userPrincipalName": "s1@saml.contoso.com", "displayName": "Saml One", "onPremisesImmutableId": "U0FNTA=="},
		{"userPrincipalName": "m1@contoso.com", "displayName": "Managed One"},
	} {
		pw := ""
		if props["userPrincipalName"] == "m1@contoso.com" {
			pw = "Managed-Pass-1"
		}
		if _, err := f.tenant.AddUser(SeedUser{Properties: props, Password: pw}); err != nil {
			t.Fatal(err)
		}
	}
	token := func(vals url.Values) resp {
		if vals.Get("client_id") == "" {
			vals.Set("client_id", DemoClientID)
		}
		vals.Set("scope", "openid profile User.Read")
		return f.form("/"+DemoTenantID+"/oauth2/v2.0/token", vals)
	}
	assertion11 := func(s tokenSpec) string {
		doc := etree.NewDocument()
		if err := doc.ReadFromString(wsfedResult(t, p, s, nil)); err != nil {
			t.Fatal(err)
		}
		out := etree.NewDocument()
		out.SetRoot(doc.FindElement("//Assertion").Copy())
		b, _ := out.WriteToBytes()
		return base64.StdEncoding.EncodeToString(b)
	}

	t.Run("a signed SAML 1.1 assertion gets a user token with client_info", func(t *testing.T) {
		r := token(url.Values{"grant_type": {grantSAML11}, "assertion": {assertion11(f.defaultSpec())}})
		want(t, r, http.StatusOK)
		if r.body["access_token"] == nil || r.body["id_token"] == nil || r.body["client_info"] == nil {
			t.Fatalf("%s", r.raw)
		}
	})
	t.Run("a signed SAML 2.0 assertion gets a user token", func(t *testing.T) {
		s := f.defaultSpec()
		s.issuer, s.nameID, s.upn = "https://idp.contoso.com/saml", "U0FNTA==", "s1@saml.contoso.com"
		raw, _ := base64.StdEncoding.DecodeString(samlResponse(t, p, s, false))
		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(raw); err != nil {
			t.Fatal(err)
		}
		a := doc.FindElement("//Assertion").Copy()
		a.CreateAttr("xmlns:saml", "urn:oasis:names:tc:SAML:2.0:assertion")
		out := etree.NewDocument()
		out.SetRoot(a)
		b, _ := out.WriteToBytes()
		r := token(url.Values{"grant_type": {grantSAML2}, "assertion": {base64.StdEncoding.EncodeToString(b)}})
		want(t, r, http.StatusOK)
	})
	t.Run("a managed user's password gets a user token", func(t *testing.T) {
		want(t, token(url.Values{"grant_type": {"password"}, "username": {"m1@contoso.com"}, "password": {"Managed-Pass-1"}}), http.StatusOK)
	})
	for _, c := range []struct {
		name string
		vals url.Values
		code string
	}{
		{"an assertion for another audience is AADSTS50008", url.Values{"grant_type": {grantSAML11}, "assertion": {assertion11(func() tokenSpec {
			s := f.defaultSpec()
			s.audience = "urn:other"
			return s
		}())}}, "AADSTS50008"},
		{"an assertion no user matches is AADSTS51004", url.Values{"grant_type": {grantSAML11}, "assertion": {assertion11(func() tokenSpec {
			s := f.defaultSpec()
			s.nameID = "Tk9CT0RZ"
			return s
		}())}}, "AADSTS51004"},
		{"an assertion that is not base64 is AADSTS50008", url.Values{"grant_type": {grantSAML11}, "assertion": {"%%%"}}, "AADSTS50008"},
		{"a missing assertion is AADSTS900144", url.Values{"grant_type": {grantSAML11}}, "AADSTS900144"},
		{"an unknown client is AADSTS700016", url.Values{"grant_type": {grantSAML11}, "client_id": {"11111111-2222-3333-4444-555555555555"}}, "AADSTS700016"},
		{"a federated domain without MEX cannot take a password: AADSTS50008", url.Values{"grant_type": {"password"}, "username": {"fed1@fed.contoso.com"}, "password": {"x"}}, "AADSTS50008"},
		{"a managed user's wrong password is AADSTS50126", url.Values{"grant_type": {"password"}, "username": {"m1@contoso.com"}, "password": {"x"}}, "AADSTS50126"},
		{"an unknown managed user is AADSTS50034", url.Values{"grant_type": {"password"}, "username": {"nobody@contoso.com"}, "password": {"x"}}, "AADSTS50034"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := token(c.vals)
			if r.status != http.StatusBadRequest || !strings.Contains(string(r.raw), c.code) || r.body["error"] != "invalid_grant" && c.code != "AADSTS700016" {
				t.Fatalf("%d %s", r.status, r.raw)
			}
		})
	}
}
