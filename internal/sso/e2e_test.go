package sso

import (
	"strings"
	"testing"
)

func TestSignInThroughTheFakeTenant(t *testing.T) {
	for _, proto := range []string{"wsFed", "saml"} {
		t.Run("over "+proto+" Alice arrives back at Microsoft 365 signed in", func(t *testing.T) {
			h := newHarness(t, harnessConfig{protocol: proto})
			form := h.get(h.tsrv.URL + "/login?username=alice@fed.contoso.com")
			if !strings.HasPrefix(form.url, h.isrv.URL) || !form.isLoginForm() {
				t.Fatalf("home-realm discovery did not bring the login form: %d %s", form.status, form.url)
			}
			if proto == "wsFed" && !strings.Contains(form.body, `value="alice@fed.contoso.com"`) {
				t.Errorf("the user name Entra passed is not filled in")
			}
			got := h.follow(h.submitLogin(form, "alice@fed.contoso.com", alicePassword))
			if upn := signedInAs(got); upn != "alice@fed.contoso.com" {
				t.Fatalf("fake tenant did not sign Alice in: %d %s %s", got.status, tenantError(got), got.body)
			}
			if e := h.audit.last(); e.Result != "ok" || e.ImmutableID != aliceIID || e.Login != "alice@fed.contoso.com" {
				t.Errorf("audit: %+v", e)
			}

			again := h.get(h.tsrv.URL + "/login?username=alice@fed.contoso.com")
			if again.isLoginForm() {
				t.Fatalf("a second sign-in within the session asked for the password again")
			}
			if upn := signedInAs(h.follow(again)); upn != "alice@fed.contoso.com" {
				t.Fatalf("second sign-in from the session failed")
			}
		})
	}
}
