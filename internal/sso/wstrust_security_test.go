package sso

import (
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
)

func TestWSTrustEndpoint(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	n := 0
	alice := func() rstRequest {
		n++
		return rstRequest{messageID: fmt.Sprintf("urn:uuid:00000000-0000-0000-0000-%012d", n), user: "alice@fed.contoso.com", password: alicePassword, created: time.Now()}
	}

	t.Run("a WS-Trust 1.3 request gets the token inside a response collection", func(t *testing.T) {
		status, body := postSOAP(t, h, alice().String())
		if status != 200 || !strings.Contains(body, "RequestSecurityTokenResponseCollection") || !strings.Contains(body, "saml:Assertion") {
			t.Fatalf("%d %s", status, body)
		}
		for _, claim := range []string{`AttributeName="insidecorporatenetwork"`, `AttributeName="authnmethodsreferences"`} {
			if !strings.Contains(body, claim) {
				t.Errorf("the assertion lacks %s", claim)
			}
		}
	})
	t.Run("a WS-Trust 2005 request gets the passive profile's RSTR, which login.srf accepts", func(t *testing.T) {
		q := alice()
		q.ns, q.action = nsTrust, nsTrust+"/RST/Issue"
		status, body := postSOAP(t, h, q.String())
		if status != 200 || strings.Contains(body, "RequestSecurityTokenResponseCollection") {
			t.Fatalf("%d %s", status, body)
		}
		doc := etree.NewDocument()
		if err := doc.ReadFromString(body); err != nil {
			t.Fatal(err)
		}
		r := doc.FindElement("//RequestSecurityTokenResponse")
		out := etree.NewDocument()
		out.SetRoot(r.Copy())
		wresult, _ := out.WriteToString()
		got := h.post(h.tsrv.URL+"/login.srf", url.Values{"wa": {"wsignin1.0"}, "wresult": {wresult}})
		if upn := signedInAs(got); upn != "alice@fed.contoso.com" {
			t.Fatalf("login.srf refused the active profile's token: %s", tenantError(got))
		}
	})

	t.Run("a WS-Trust 2005 request's fault is in the 2005 namespace", func(t *testing.T) {
		q := alice()
		q.ns, q.action, q.password = nsTrust, nsTrust+"/RST/Issue", "wrong"
		status, body := postSOAP(t, h, q.String())
		if status != 400 || !strings.Contains(body, `xmlns:f="`+nsTrust+`">f:FailedAuthentication<`) {
			t.Fatalf("%d %s", status, body)
		}
	})

	bomb := `<!DOCTYPE s [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>`
	for _, c := range []struct {
		name   string
		req    func() string
		status int
		code   string
		reason string
	}{
		{"an XML bomb is refused before any entity is expanded", func() string { q := alice(); q.prolog, q.user = bomb, "&d;"; return q.String() },
			400, "InvalidRequest", "document type declaration"},
		{"an external entity (DTD) is refused", func() string {
			q := alice()
			q.prolog, q.user = `<!DOCTYPE s [<!ENTITY x SYSTEM "file:///etc/passwd">]>`, "&x;"
			return q.String()
		}, 400, "InvalidRequest", "document type declaration"},
		{"an oversized request is refused", func() string { q := alice(); q.padding = maxTrustBytes; return q.String() },
			400, "InvalidRequest", "larger than"},
		{"a token for another audience is refused", func() string { q := alice(); q.appliesTo = "urn:example:other"; return q.String() },
			400, "InvalidScope", "urn:federation:MicrosoftOnline only"},
		{"a stale timestamp is refused", func() string { q := alice(); q.created = time.Now().Add(-time.Hour); return q.String() },
			400, "MessageExpired", "outside the accepted window"},
		{"a request without a message id is refused", func() string { q := alice(); q.messageID = ""; return q.String() },
			400, "InvalidRequest", "MessageID are required"},
		{"a request that is not SOAP is refused without a stack trace", func() string { return "<html><body>hello</body></html>" },
			400, "InvalidRequest", "not a SOAP 1.2 envelope"},
		{"garbage is refused without a stack trace", func() string { return "<<<\x00" },
			400, "InvalidRequest", "not well-formed"},
		{"a wrong password is wst:FailedAuthentication", func() string { q := alice(); q.password = "nope"; return q.String() },
			400, "FailedAuthentication", "user name or password is incorrect"},
	} {
		t.Run(c.name, func(t *testing.T) {
			asked := h.dir.askedCount()
			status, body := postSOAP(t, h, c.req())
			if status != c.status || !strings.Contains(body, ":"+c.code+"</") || !strings.Contains(body, c.reason) {
				t.Fatalf("%d %s", status, body)
			}
			if strings.Contains(body, "goroutine") || strings.Contains(body, ".go:") || strings.Contains(body, "root:") {
				t.Errorf("the fault leaks internals: %s", body)
			}
			if c.code != "FailedAuthentication" && h.dir.askedCount() != asked {
				t.Errorf("the directory was asked for a refused request")
			}
		})
	}

	t.Run("a replayed request is refused", func(t *testing.T) {
		req := alice().String()
		if status, body := postSOAP(t, h, req); status != 200 {
			t.Fatalf("first: %d %s", status, body)
		}
		asked := h.dir.askedCount()
		status, body := postSOAP(t, h, req)
		if status != 400 || !strings.Contains(body, "replayed") {
			t.Fatalf("replay: %d %s", status, body)
		}
		if h.dir.askedCount() != asked {
			t.Errorf("the directory was asked for a replay")
		}
	})
	t.Run("repeated wrong passwords lock the user out as the login form does, and are audited", func(t *testing.T) {
		for i := 0; i < 6; i++ {
			q := alice()
			q.password = "guess"
			postSOAP(t, h, q.String())
		}
		if e := h.audit.last(); e.Protocol != "wstrust1.3" || e.Result != "failed" || !strings.Contains(e.Reason, "locked out") {
			t.Errorf("audit: %+v", e)
		}
		asked := h.dir.askedCount()
		status, body := postSOAP(t, h, alice().String())
		if status != 400 || !strings.Contains(body, "too many failed sign-ins") || h.dir.askedCount() != asked {
			t.Fatalf("locked-out user: %d %s", status, body)
		}
		if strings.Contains(h.logs.String(), alicePassword) || strings.Contains(h.logs.String(), "guess") {
			t.Errorf("a password reached the log")
		}
	})
	t.Run("GET is refused with a fault", func(t *testing.T) {
		resp, err := h.isrv.Client().Get(h.isrv.URL + ActivePath)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Fatalf("GET: %d", resp.StatusCode)
		}
	})
	t.Run("MEX names the endpoint for both WS-Trust versions", func(t *testing.T) {
		got := h.get(h.isrv.URL + MEXPath)
		for _, want := range []string{trust13.issueAction, trust2005.issueAction, "<wsa10:Address>" + h.isrv.URL + ActivePath + "</wsa10:Address>", "WssUsernameToken10"} {
			if got.status != 200 || !strings.Contains(got.body, want) {
				t.Errorf("MEX lacks %s", want)
			}
		}
	})
}

func TestInsideCorporateNetworkClaim(t *testing.T) {
	for _, c := range []struct {
		name    string
		network string
		want    string
	}{
		{"a sign-in from a corporate network says so", "127.0.0.0/8", "true"},
		{"a sign-in from elsewhere says it is outside", "10.0.0.0/8", "false"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, harnessConfig{opts: func(o *Options) { o.CorporateNetworks = []netip.Prefix{netip.MustParsePrefix(c.network)} }})
			q := rstRequest{messageID: "urn:uuid:corp", user: "alice@fed.contoso.com", password: alicePassword, created: time.Now()}
			_, body := postSOAP(t, h, q.String())
			want := `AttributeName="insidecorporatenetwork" AttributeNamespace="http://schemas.microsoft.com/ws/2012/01"><saml:AttributeValue>` + c.want + `<`
			if !strings.Contains(body, want) {
				t.Fatalf("no %s claim in %s", c.want, body)
			}
		})
	}
}
