package faketenant

import (
	"net/http"
	"testing"
)

func TestDomains(t *testing.T) {
	f := newFixture(t, withDomains)

	t.Run("graph.md §10.1: /domains lists every domain with Graph's properties", func(t *testing.T) {
		r := f.call(http.MethodGet, "/v1.0/domains", nil)
		want(t, r, http.StatusOK)
		byName := map[string]map[string]any{}
		for _, d := range r.values() {
			byName[d["id"].(string)] = d
		}
		init := byName["contoso.onmicrosoft.com"]
		if init["isInitial"] != true || init["authenticationType"] != "Managed" || init["isVerified"] != true {
			t.Fatalf("initial domain %v", init)
		}
		if byName["contoso.com"]["isDefault"] != true || byName["fed.contoso.com"]["authenticationType"] != "Federated" || byName["unverified.example"]["isVerified"] != false {
			t.Fatalf("%s", r.raw)
		}
	})

	t.Run("graph.md §10.2: listing the federation of a managed domain is 404", func(t *testing.T) {
		want(t, f.call(http.MethodGet, "/v1.0/domains/contoso.com/federationConfiguration", nil), http.StatusNotFound, "Request_ResourceNotFound")
	})

	var fedID string
	body := map[string]any{
		"@odata.type": "#microsoft.graph.internalDomainFederation", "displayName": "Contoso IdP",
		"issuerUri": "http://sts.contoso.com/adfs/services/trust", "passiveSignInUri": "https://sts.contoso.com/adfs/ls",
		"signOutUri": "https://sts.contoso.com/adfs/ls", "preferredAuthenticationProtocol": "wsFed",
		"promptLoginBehavior": "nativeSupport", "federatedIdpMfaBehavior": "rejectMfaByFederatedIdp", "signingCertificate": idpCertB64(t),
	}

	t.Run("graph.md §10.2: POST federationConfiguration is 201 and makes the domain Federated", func(t *testing.T) {
		r := f.call(http.MethodPost, "/v1.0/domains/contoso.com/federationConfiguration", body)
		want(t, r, http.StatusCreated)
		fedID = r.str("id")
		if r.str("@odata.type") != "#microsoft.graph.internalDomainFederation" || r.str("issuerUri") != body["issuerUri"] {
			t.Fatalf("%s", r.raw)
		}
		d := f.call(http.MethodGet, "/v1.0/domains/contoso.com", nil)
		if d.str("authenticationType") != "Federated" {
			t.Fatalf("domain %s", d.raw)
		}
	})

	t.Run("graph.md §10.2: the list is a collection of one", func(t *testing.T) {
		r := f.call(http.MethodGet, "/v1.0/domains/contoso.com/federationConfiguration", nil)
		want(t, r, http.StatusOK)
		if len(r.values()) != 1 || r.values()[0]["id"] != fedID {
			t.Fatalf("%s", r.raw)
		}
	})

	t.Run("graph.md §10.2: PATCH is 200 with the updated object, not 204", func(t *testing.T) {
		r := f.call(http.MethodPatch, "/v1.0/domains/contoso.com/federationConfiguration/"+fedID, map[string]any{"preferredAuthenticationProtocol": "saml"})
		want(t, r, http.StatusOK)
		if r.str("preferredAuthenticationProtocol") != "saml" || r.str("issuerUri") != body["issuerUri"] {
			t.Fatalf("%s", r.raw)
		}
	})

	t.Run("graph.md §10.2 and §1.1: after federation a new user on the domain needs an immutable id", func(t *testing.T) {
		r := f.call(http.MethodPost, "/v1.0/users", newUserBody("afterfed"))
		want(t, r, http.StatusBadRequest)
		if r.errMessage() != "SourceAnchor is a required property for creation of a federated user." {
			t.Fatalf("message %q", r.errMessage())
		}
	})

	t.Run("an invalid enumeration value is 400", func(t *testing.T) {
		want(t, f.call(http.MethodPatch, "/v1.0/domains/contoso.com/federationConfiguration/"+fedID, map[string]any{"promptLoginBehavior": "sometimes"}), http.StatusBadRequest)
	})

	t.Run("graph.md §10.2: DELETE is 204 and the domain is Managed again", func(t *testing.T) {
		want(t, f.call(http.MethodDelete, "/v1.0/domains/contoso.com/federationConfiguration/"+fedID, nil), http.StatusNoContent)
		if r := f.call(http.MethodGet, "/v1.0/domains/contoso.com", nil); r.str("authenticationType") != "Managed" {
			t.Fatalf("%s", r.raw)
		}
	})

	t.Run("graph.md §10.2: a POST without signingCertificate is 500 yet leaves the domain federated (documented bug)", func(t *testing.T) {
		b := map[string]any{"issuerUri": "http://x/trust", "passiveSignInUri": "https://x/ls", "preferredAuthenticationProtocol": "wsFed"}
		want(t, f.call(http.MethodPost, "/v1.0/domains/contoso.com/federationConfiguration", b), http.StatusInternalServerError)
		if r := f.call(http.MethodGet, "/v1.0/domains/contoso.com", nil); r.str("authenticationType") != "Federated" {
			t.Fatalf("%s", r.raw)
		}
	})

	t.Run("the initial domain cannot be federated", func(t *testing.T) {
		want(t, f.call(http.MethodPost, "/v1.0/domains/contoso.onmicrosoft.com/federationConfiguration", body), http.StatusBadRequest)
	})

	t.Run("graph.md §10.1: PATCH authenticationType Managed converts a domain and is 204", func(t *testing.T) {
		want(t, f.call(http.MethodPatch, "/v1.0/domains/fed.contoso.com", map[string]any{"authenticationType": "Managed"}), http.StatusNoContent)
		for _, d := range f.tenant.Domains() {
			if d.Name == "fed.contoso.com" && d.AuthenticationType != "Managed" {
				t.Fatalf("%+v", d)
			}
		}
	})
}
