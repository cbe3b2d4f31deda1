package sso

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/public"
	"github.com/o365prov/o365prov/internal/faketenant"
)

// erin is provisioned and her password is right, but Entra has her
// account disabled.
const erinPassword = "Erins-Password-1"

func addErin(t *testing.T, h *harness) {
	t.Helper()
	if _, err := h.tenant.AddUser(faketenant.SeedUser{Properties: map[string]any{
		"userPrincipalName": "erin@fed.contoso.com", "displayName": "Erin", "mailNickname": "erin",
		"onPremisesImmutableId": "7yq0cV2mPkK2p4WAmJIqQA==", "accountEnabled": false, "onPremisesSyncEnabled": true,
	}}); err != nil {
		t.Fatal(err)
	}
	h.dir.users["erin@fed.contoso.com"] = testUser{password: erinPassword, id: Identity{ImmutableID: "7yq0cV2mPkK2p4WAmJIqQA==", UPN: "erin@fed.contoso.com", DisplayName: "Erin"}}
}

// TestMSALSignsAFederatedUserIn is the active profile end to end with
// MSAL unmodified: user-realm discovery at the fake tenant, our MEX, our
// WS-Trust endpoint, then the saml1_1-bearer grant at the fake tenant.
func TestMSALSignsAFederatedUserIn(t *testing.T) {
	h := newHarness(t, harnessConfig{tls: true})
	addErin(t, h)
	app, err := public.New(faketenant.DemoClientID, public.WithAuthority(h.tsrv.URL+"/"+faketenant.DemoTenantID),
		public.WithHTTPClient(h.tsrv.Client()), public.WithInstanceDiscovery(false))
	if err != nil {
		t.Fatal(err)
	}
	scopes := []string{"https://graph.microsoft.com/User.Read"}
	signIn := func(user, password string) (public.AuthResult, error) {
		//lint:ignore SA1019 the done-when is this (deprecated) MSAL flow working through us
		return app.AcquireTokenByUsernamePassword(context.Background(), scopes, user, password)
	}

	t.Run("Alice gets a token with her directory password", func(t *testing.T) {
		res, err := signIn("alice@fed.contoso.com", alicePassword)
		if err != nil {
			t.Fatalf("AcquireTokenByUsernamePassword: %v", err)
		}
		if res.AccessToken == "" || res.Account.PreferredUsername != "alice@fed.contoso.com" {
			t.Fatalf("token for %q, access token %d bytes", res.Account.PreferredUsername, len(res.AccessToken))
		}
		if claims := jwtClaims(t, res.AccessToken); claims["upn"] != "alice@fed.contoso.com" {
			t.Errorf("access token upn %v", claims["upn"])
		}
		if e := h.audit.last(); e.Result != "ok" || e.Protocol != "wstrust1.3" || e.ImmutableID != aliceIID {
			t.Errorf("audit: %+v", e)
		}
	})
	for _, c := range []struct{ name, user, password, want string }{
		{"a wrong password is refused by the identity provider", "alice@fed.contoso.com", "wrong", "the user name or password is incorrect"},
		{"an unknown user is refused exactly as a wrong password", "nobody@fed.contoso.com", "whatever", "the user name or password is incorrect"},
		{"a user disabled in the directory is refused by the identity provider", "bob@fed.contoso.com", "Bobs-Password-1", "the account is disabled"},
		{"a user disabled in Entra gets AADSTS50057 from the tenant", "erin@fed.contoso.com", erinPassword, "AADSTS50057"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := signIn(c.user, c.password)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want %q", err, c.want)
			}
			if strings.Contains(err.Error(), c.password) {
				t.Errorf("the error repeats the password")
			}
		})
	}
	t.Run("the wrong-password fault is wst:FailedAuthentication", func(t *testing.T) {
		_, err := signIn("alice@fed.contoso.com", "wrong-again")
		if err == nil || !strings.Contains(err.Error(), "FailedAuthentication") {
			t.Fatalf("err %v", err)
		}
	})
}

// TestPasswordGrantForAFederatedUser is Entra's server-side use of the
// active profile: the tenant fetches our MEX and posts WS-Trust itself.
func TestPasswordGrantForAFederatedUser(t *testing.T) {
	h := newHarness(t, harnessConfig{tls: true})
	addErin(t, h)
	grant := func(user, password string) (int, map[string]any) {
		form := url.Values{"grant_type": {"password"}, "client_id": {faketenant.DemoClientID}, "scope": {"openid User.Read"},
			"username": {user}, "password": {password}}
		resp, err := h.tsrv.Client().PostForm(h.tsrv.URL+"/"+faketenant.DemoTenantID+"/oauth2/v2.0/token", form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, body
	}
	t.Run("Alice's password, checked by the identity provider, gets a token", func(t *testing.T) {
		status, body := grant("alice@fed.contoso.com", alicePassword)
		if status != http.StatusOK || body["access_token"] == nil {
			t.Fatalf("%d %v", status, body)
		}
		if e := h.audit.last(); e.Result != "ok" || e.Protocol != "wstrust1.3" {
			t.Errorf("audit: %+v", e)
		}
	})
	for _, c := range []struct {
		name, user, password string
		code                 float64
	}{
		{"a wrong password is AADSTS50126", "alice@fed.contoso.com", "wrong", 50126},
		{"an unknown user is AADSTS50126", "nobody@fed.contoso.com", "wrong", 50126},
		{"a user disabled in the directory is AADSTS50126", "bob@fed.contoso.com", "Bobs-Password-1", 50126},
		{"a user disabled in Entra is AADSTS50057", "erin@fed.contoso.com", erinPassword, 50057},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, body := grant(c.user, c.password)
			codes, _ := body["error_codes"].([]any)
			if status != http.StatusBadRequest || len(codes) != 1 || codes[0] != c.code || body["error"] != "invalid_grant" {
				t.Fatalf("%d %v", status, body)
			}
		})
	}
}

func jwtClaims(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT")
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// rstRequest is a usernamemixed RST shaped as MSAL writes it.
type rstRequest struct {
	ns, action, messageID, appliesTo, user, password string
	created                                          time.Time
	prolog                                           string // before the envelope: a DTD, say
	padding                                          int    // bytes of whitespace in the body
}

func (q rstRequest) String() string {
	if q.ns == "" {
		q.ns, q.action = nsTrust13, nsTrust13+"/RST/Issue"
	}
	if q.appliesTo == "" {
		q.appliesTo = MicrosoftOnline
	}
	return fmt.Sprintf(`%s<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://www.w3.org/2005/08/addressing" xmlns:wsu="%s">`+
		`<s:Header><wsa:Action s:mustUnderstand="1">%s</wsa:Action><wsa:messageID>%s</wsa:messageID>`+
		`<wsse:Security s:mustUnderstand="1" xmlns:wsse="%s"><wsu:Timestamp wsu:Id="MSATimeStamp"><wsu:Created>%s</wsu:Created><wsu:Expires>%s</wsu:Expires></wsu:Timestamp>`+
		`<wsse:UsernameToken wsu:Id="UnPwSecTok13-1"><wsse:Username>%s</wsse:Username><wsse:Password>%s</wsse:Password></wsse:UsernameToken></wsse:Security></s:Header>`+
		`<s:Body>%s<wst:RequestSecurityToken xmlns:wst="%s"><wsp:AppliesTo xmlns:wsp="http://schemas.xmlsoap.org/ws/2004/09/policy"><wsa:EndpointReference><wsa:Address>%s</wsa:Address></wsa:EndpointReference></wsp:AppliesTo>`+
		`<wst:KeyType>%s/Bearer</wst:KeyType><wst:RequestType>%s/Issue</wst:RequestType></wst:RequestSecurityToken></s:Body></s:Envelope>`,
		q.prolog, nsWSU, q.action, q.messageID, nsWSSE, xmlTime(q.created), xmlTime(q.created.Add(10*time.Minute)), q.user, q.password,
		strings.Repeat(" ", q.padding), q.ns, q.appliesTo, q.ns, q.ns)
}

func postSOAP(t testing.TB, h *harness, body string) (int, string) {
	t.Helper()
	resp, err := h.isrv.Client().Post(h.isrv.URL+ActivePath, "application/soap+xml; charset=utf-8", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
