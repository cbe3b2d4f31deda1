package console

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// fakeSignIns answers the Sign-in page with a fixed summary, or an error.
type fakeSignIns struct {
	sum SignInSummary
	err error
}

func (f fakeSignIns) SignInSummary(context.Context) (SignInSummary, error) { return f.sum, f.err }

func TestTheSignInPageShowsWhatTheIdentityProviderGives(t *testing.T) {
	tc := newTestConsole(t, testToken)
	hostile := `<img src=x onerror=alert(1)>`
	tc.o.SignIns = fakeSignIns{sum: SignInSummary{
		Recent: []SignIn{
			{Time: fixtureNow, User: "ada@contoso.com", DN: "uid=ada,ou=people,dc=contoso,dc=com", From: "10.0.0.7", Protocol: "wsfed", Result: "ok"},
			{Time: fixtureNow, User: hostile, From: "192.0.2.1", Protocol: "saml2", Result: "failed", Reason: "invalid user name or password"},
		},
		Certificates: []Certificate{{Use: "current", Subject: "CN=sso.contoso.com", Thumbprint: "AB12", NotAfter: fixtureNow.Add(20 * 24 * time.Hour), DaysLeft: 20}},
		Domains: []Federation{{Domain: "contoso.com", Federated: true, Differing: 1, Settings: []FederationSetting{
			{Name: "issuerUri", Tenant: "https://sso.contoso.com", Ours: "https://sso.contoso.com"},
			{Name: "passiveSignInUri", Tenant: "https://old.contoso.com/adfs/ls", Ours: "https://sso.contoso.com/idp/prp.wsf", Differs: true},
		}}},
	}}
	get := func(t *testing.T, path string) (int, string) {
		req := newReq(t, "GET", tc.srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+testToken)
		code, body, _ := do(t, client(t), req)
		return code, body
	}
	code, page := get(t, "/sign-in")
	t.Run("the page lists each attempt with where it came from and how", func(t *testing.T) {
		for _, want := range []string{"ada@contoso.com", "10.0.0.7", "wsfed", "saml2", "invalid user name or password"} {
			if code != 200 || !strings.Contains(page, want) {
				t.Errorf("%d: the page lacks %q", code, want)
			}
		}
	})
	t.Run("what a person typed as their name is shown, never run", func(t *testing.T) {
		if strings.Contains(page, hostile) || !strings.Contains(page, "&lt;img src=x onerror=alert(1)&gt;") {
			t.Error("the typed login is not escaped")
		}
	})
	t.Run("a certificate within 30 days and a differing setting are highlighted", func(t *testing.T) {
		if !strings.Contains(page, `class="differs" data-cert="current"`) || !strings.Contains(page, `data-differs="passiveSignInUri"`) ||
			!strings.Contains(page, "1 setting(s) differ") {
			t.Errorf("not highlighted:\n%s", page)
		}
	})
	t.Run("the API answers the same summary", func(t *testing.T) {
		code, body := get(t, "/api/v1/sign-ins")
		var a SignInsAnswer
		if code != 200 || json.Unmarshal([]byte(body), &a) != nil || !a.Enabled || len(a.Summary.Recent) != 2 ||
			a.Summary.Recent[0].From != "10.0.0.7" || a.Summary.Domains[0].Differing != 1 || a.Summary.Certificates[0].DaysLeft != 20 {
			t.Errorf("%d: %s", code, body)
		}
	})
	t.Run("a summary that cannot be read is an error, not an empty page", func(t *testing.T) {
		tc.o.SignIns = fakeSignIns{err: errors.New("read sign-ins from the audit log: database is locked")}
		if code, body := get(t, "/api/v1/sign-ins"); code < 500 || !strings.Contains(body, "database is locked") {
			t.Errorf("%d: %s", code, body)
		}
	})
}
