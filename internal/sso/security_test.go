package sso

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

// authnRequest builds an AuthnRequest as Entra sends it.
func authnRequestXML(id, acs string, extra string) string {
	return fmt.Sprintf(`<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="%s" Version="2.0" IssueInstant="%s" AssertionConsumerServiceURL="%s" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"><saml:Issuer xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">urn:federation:MicrosoftOnline</saml:Issuer><samlp:NameIDPolicy Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"/>%s</samlp:AuthnRequest>`,
		id, xmlTime(time.Now()), acs, extra)
}

func redirectQuery(t *testing.T, xml, relay string) string {
	t.Helper()
	var buf bytes.Buffer
	fw, _ := flate.NewWriter(&buf, flate.DefaultCompression)
	_, _ = fw.Write([]byte(xml))
	_ = fw.Close()
	q := url.Values{"SAMLRequest": {base64.StdEncoding.EncodeToString(buf.Bytes())}}
	if relay != "" {
		q.Set("RelayState", relay)
	}
	return q.Encode()
}

func TestRequestsAreRefused(t *testing.T) {
	h := newHarness(t, harnessConfig{protocol: "saml"})
	acs := h.tsrv.URL + "/login.srf"
	cases := []struct {
		name, path, want string
	}{
		{"a WS-Federation sign-in whose wreply is not on the allow-list", "/idp/prp.wsf?wa=wsignin1.0&wtrealm=urn:federation:MicrosoftOnline&wreply=" + url.QueryEscape("https://evil.example/login.srf"), "somewhere this service does not trust"},
		{"a WS-Federation sign-in for another realm", "/idp/prp.wsf?wa=wsignin1.0&wtrealm=urn:other", "signs in to Microsoft 365 only"},
		{"a WS-Federation sign-in asking for multi-factor authentication", "/idp/prp.wsf?wa=wsignin1.0&wtrealm=urn:federation:MicrosoftOnline&wauth=" + url.QueryEscape("http://schemas.microsoft.com/claims/multipleauthn"), "password only"},
		{"an AuthnRequest whose ACS is not on the allow-list", "/idp/SSO.saml2?" + redirectQuery(t, authnRequestXML("_a1", "https://evil.example/acs", ""), ""), "is not in sso.replyURLs"},
		{"an IdP-initiated sign-in whose RelayState is not on the allow-list", "/idp/startSSO.ping?PartnerSpId=urn:federation:MicrosoftOnline&RelayState=" + url.QueryEscape("https://evil.example/"), "not in sso.relayStates"},
		{"an IdP-initiated sign-in for another service provider", "/idp/startSSO.ping?PartnerSpId=urn:other", "Unknown service provider"},
		{"an AuthnRequest carrying a DTD", "/idp/SSO.saml2?" + redirectQuery(t, `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x "boom">]>`+authnRequestXML("_a2", acs, ""), ""), "DTD or entity"},
		{"an oversized AuthnRequest", "/idp/SSO.saml2?" + redirectQuery(t, authnRequestXML("_a3", acs, "<samlp:Extensions>"+strings.Repeat("<x>padding</x>", 4000)+"</samlp:Extensions>"), ""), "larger than"},
		{"a signature-wrapped AuthnRequest", "/idp/SSO.saml2?" + redirectQuery(t, authnRequestXML("_a4", acs, "<samlp:Extensions>"+authnRequestXML("_evil", "https://evil.example/acs", "")+"</samlp:Extensions>"), ""), "signature wrapping"},
		{"an AuthnRequest from another issuer", "/idp/SSO.saml2?" + redirectQuery(t, strings.Replace(authnRequestXML("_a5", acs, ""), "urn:federation:MicrosoftOnline", "urn:evil", 1), ""), "signs in to urn:federation:MicrosoftOnline only"},
		{"an oversized RelayState", "/idp/SSO.saml2?" + redirectQuery(t, authnRequestXML("_a6", acs, ""), strings.Repeat("r", 2000)), "RelayState is longer"},
	}
	for _, tc := range cases {
		t.Run("refuses "+tc.name, func(t *testing.T) {
			r := h.get(h.isrv.URL + tc.path)
			if r.status != 400 || r.isLoginForm() || !strings.Contains(r.body, tc.want) {
				t.Fatalf("want 400 with %q, got %d:\n%s", tc.want, r.status, r.body)
			}
			if strings.Contains(r.body, "evil.example") && strings.Contains(r.body, `action="https://evil.example`) {
				t.Fatal("the page posts to the unlisted address")
			}
		})
	}
	t.Run("refuses a replayed AuthnRequest id", func(t *testing.T) {
		path := h.isrv.URL + "/idp/SSO.saml2?" + redirectQuery(t, authnRequestXML("_replay", acs, ""), "")
		if r := h.get(path); !r.isLoginForm() {
			t.Fatalf("first use refused: %d %s", r.status, r.body)
		}
		if r := h.get(path); r.status != 400 || !strings.Contains(r.body, "replayed request") {
			t.Fatalf("replay accepted: %d %s", r.status, r.body)
		}
	})
	t.Run("answers a RequestedAuthnContext it cannot meet with NoAuthnContext", func(t *testing.T) {
		req := authnRequestXML("_mfa", acs, `<samlp:RequestedAuthnContext xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" Comparison="exact"><saml:AuthnContextClassRef>http://schemas.microsoft.com/claims/multipleauthn</saml:AuthnContextClassRef></samlp:RequestedAuthnContext>`)
		r := h.get(h.isrv.URL + "/idp/SSO.saml2?" + redirectQuery(t, req, "rs1"))
		v := r.hidden()
		raw, _ := base64.StdEncoding.DecodeString(v.Get("SAMLResponse"))
		if r.action() != acs || !strings.Contains(string(raw), statusNoAuthnCtx) || !strings.Contains(string(raw), `InResponseTo="_mfa"`) || strings.Contains(string(raw), "Assertion") {
			t.Fatalf("want a NoAuthnContext Response to the ACS, got %s %s", r.action(), raw)
		}
	})
	t.Run("honours a RequestedAuthnContext of Password", func(t *testing.T) {
		req := authnRequestXML("_pw", acs, `<samlp:RequestedAuthnContext xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:Password</saml:AuthnContextClassRef></samlp:RequestedAuthnContext>`)
		r := h.submitLogin(h.get(h.isrv.URL+"/idp/SSO.saml2?"+redirectQuery(t, req, "")), "alice@fed.contoso.com", alicePassword)
		raw, _ := base64.StdEncoding.DecodeString(r.hidden().Get("SAMLResponse"))
		if !strings.Contains(string(raw), "<saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:Password<") || !strings.Contains(string(raw), `InResponseTo="_pw"`) {
			t.Fatalf("%s", raw)
		}
	})
}

func TestLoginForm(t *testing.T) {
	start := "/idp/prp.wsf?wa=wsignin1.0&wtrealm=urn:federation:MicrosoftOnline&wctx=ctx1"
	t.Run("a post without the CSRF token is refused and the directory is not asked", func(t *testing.T) {
		h := newHarness(t, harnessConfig{})
		form := h.get(h.isrv.URL + start)
		v := form.hidden()
		v.Del("csrf")
		v.Set("username", "alice@fed.contoso.com")
		v.Set("password", alicePassword)
		r := h.post(h.isrv.URL+"/idp/login", v)
		if r.status != 403 || h.dir.askedCount() != 0 {
			t.Fatalf("got %d, directory asked %d times", r.status, h.dir.askedCount())
		}
	})
	t.Run("a post from another browser (no flow cookie) is refused", func(t *testing.T) {
		h := newHarness(t, harnessConfig{})
		v := h.get(h.isrv.URL + start).hidden()
		v.Set("username", "alice@fed.contoso.com")
		v.Set("password", alicePassword)
		other := newBrowser()
		resp, err := other.PostForm(h.isrv.URL+"/idp/login", v)
		if err != nil {
			t.Fatal(err)
		}
		if r := readReply(t, resp); r.status != 403 {
			t.Fatalf("got %d", r.status)
		}
	})
	t.Run("after five wrong passwords the user is locked out by o365prov, not by the directory", func(t *testing.T) {
		h := newHarness(t, harnessConfig{})
		form := h.get(h.isrv.URL + start)
		for i := 0; i < 5; i++ {
			form = h.submitLogin(form, "alice@fed.contoso.com", "wrong")
			if form.status != 401 || !strings.Contains(form.body, "user name or password is incorrect") {
				t.Fatalf("attempt %d: %d", i, form.status)
			}
		}
		asked := h.dir.askedCount()
		r := h.submitLogin(form, "alice@fed.contoso.com", alicePassword)
		if r.status != 429 || !strings.Contains(r.body, "Too many failed sign-ins") {
			t.Fatalf("sixth attempt: %d", r.status)
		}
		if h.dir.askedCount() != asked {
			t.Fatal("the directory was asked after the lockout: an attacker could lock the directory account")
		}
		if e := h.audit.last(); e.Result != "failed" || !strings.Contains(e.Reason, "locked out") {
			t.Errorf("audit: %+v", e)
		}
	})
	t.Run("an address that fails for many users is locked out", func(t *testing.T) {
		h := newHarness(t, harnessConfig{opts: func(o *Options) { o.Lockout.AddressFailures = 3 }})
		form := h.get(h.isrv.URL + start)
		for i := 0; i < 3; i++ {
			form = h.submitLogin(form, fmt.Sprintf("user%d@fed.contoso.com", i), "wrong")
		}
		if r := h.submitLogin(form, "alice@fed.contoso.com", alicePassword); r.status != 429 {
			t.Fatalf("got %d", r.status)
		}
	})
	messages := []struct{ name, user, password, want string }{
		{"a wrong password", "alice@fed.contoso.com", "nope", "Your user name or password is incorrect."},
		{"an unknown user", "nobody@fed.contoso.com", "whatever-1", "Your user name or password is incorrect."},
		{"a disabled account", "bob@fed.contoso.com", "Bobs-Password-1", "Your account is disabled."},
		{"a user who is not provisioned", "carol@fed.contoso.com", "Carols-Password-1", "Your account is not set up for Microsoft 365."},
		{"an injection attempt in the user name", "*)(uid=*))(|(uid=*", "x", "Your user name or password is incorrect."},
	}
	for _, m := range messages {
		t.Run(m.name+" gets its own clear message and no token", func(t *testing.T) {
			h := newHarness(t, harnessConfig{})
			r := h.submitLogin(h.get(h.isrv.URL+start), m.user, m.password)
			if !strings.Contains(r.body, m.want) || strings.Contains(r.body, "wresult") || r.status < 400 {
				t.Fatalf("%d: want %q in\n%s", r.status, m.want, r.body)
			}
		})
	}
	t.Run("the directory being down says try later, never wrong password", func(t *testing.T) {
		h := newHarness(t, harnessConfig{})
		h.dir.down = true
		r := h.submitLogin(h.get(h.isrv.URL+start), "alice@fed.contoso.com", alicePassword)
		if r.status != 503 || strings.Contains(r.body, "incorrect") {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("the password appears in no log line at debug level, nor in the audit", func(t *testing.T) {
		h := newHarness(t, harnessConfig{})
		form := h.submitLogin(h.get(h.isrv.URL+start), "alice@fed.contoso.com", "Wrong-Secret-99")
		h.follow(h.submitLogin(form, "alice@fed.contoso.com", alicePassword))
		h.dir.down = true
		h.get(h.isrv.URL + "/idp/signout")
		h.submitLogin(h.get(h.isrv.URL+start), "alice@fed.contoso.com", alicePassword)
		logs := h.logs.String()
		if !strings.Contains(logs, "level=DEBUG") {
			t.Fatal("no debug lines were logged: the test proves nothing")
		}
		for _, pw := range []string{alicePassword, "Wrong-Secret-99"} {
			if strings.Contains(logs, pw) || strings.Contains(fmt.Sprintf("%+v", h.audit.events), pw) {
				t.Fatalf("password %q logged:\n%s", pw, logs)
			}
		}
	})
}

func TestSessionsAndSignOut(t *testing.T) {
	t.Run("IdP-initiated sign-in posts an unsolicited Response with the allowed RelayState", func(t *testing.T) {
		h := newHarness(t, harnessConfig{protocol: "saml"})
		form := h.get(h.isrv.URL + "/idp/startSSO.ping?PartnerSpId=urn:federation:MicrosoftOnline&RelayState=" + url.QueryEscape("https://outlook.office.com/"))
		p := h.submitLogin(form, "alice@fed.contoso.com", alicePassword)
		if p.hidden().Get("RelayState") != "https://outlook.office.com/" {
			t.Fatalf("RelayState not carried: %v", p.hidden())
		}
		if upn := signedInAs(h.follow(p)); upn != "alice@fed.contoso.com" {
			t.Fatal("the fake tenant did not accept the IdP-initiated Response")
		}
	})
	t.Run("WS-Federation sign-out ends the session, so the next sign-in asks for the password", func(t *testing.T) {
		h := newHarness(t, harnessConfig{})
		h.follow(h.submitLogin(h.get(h.tsrv.URL+"/login?username=alice@fed.contoso.com"), "alice@fed.contoso.com", alicePassword))
		r := h.get(h.isrv.URL + "/idp/prp.wsf?wa=wsignout1.0")
		if !strings.Contains(r.body, "You have signed out.") {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if !h.get(h.tsrv.URL + "/login?username=alice@fed.contoso.com").isLoginForm() {
			t.Fatal("signed out, yet no password was asked")
		}
		if e := h.audit.last(); e.Operation != "signOut" || e.Result != "ok" {
			t.Errorf("audit: %+v", e)
		}
	})
	t.Run("SAML single logout ends the session and answers with a signed LogoutResponse", func(t *testing.T) {
		h := newHarness(t, harnessConfig{protocol: "saml"})
		h.follow(h.submitLogin(h.get(h.tsrv.URL+"/login?username=alice@fed.contoso.com"), "alice@fed.contoso.com", alicePassword))
		lr := fmt.Sprintf(`<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_lo1" Version="2.0" IssueInstant="%s"><saml:Issuer>urn:federation:MicrosoftOnline</saml:Issuer><saml:NameID>%s</saml:NameID></samlp:LogoutRequest>`, xmlTime(time.Now()), aliceIID)
		r := h.get(h.isrv.URL + "/idp/SLO.saml2?" + redirectQuery(t, lr, ""))
		raw, _ := base64.StdEncoding.DecodeString(r.hidden().Get("SAMLResponse"))
		if !strings.Contains(string(raw), `InResponseTo="_lo1"`) || !strings.Contains(string(raw), statusSuccess) || !strings.Contains(string(raw), "<ds:Signature") {
			t.Fatalf("%d %s", r.status, raw)
		}
		if !h.get(h.tsrv.URL + "/login?username=alice@fed.contoso.com").isLoginForm() {
			t.Fatal("logged out, yet no password was asked")
		}
	})
	t.Run("a session expires after sessionLifetime", func(t *testing.T) {
		h := newHarness(t, harnessConfig{opts: func(o *Options) { o.SessionLifetime = time.Minute }})
		h.follow(h.submitLogin(h.get(h.tsrv.URL+"/login?username=alice@fed.contoso.com"), "alice@fed.contoso.com", alicePassword))
		h.idp.d.Clock = fakeClockAt(time.Now().Add(2 * time.Minute))
		if !h.get(h.isrv.URL + "/idp/prp.wsf?wa=wsignin1.0&wtrealm=urn:federation:MicrosoftOnline").isLoginForm() {
			t.Fatal("an expired session was honoured")
		}
	})
}
