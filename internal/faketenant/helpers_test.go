package faketenant

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
)

// epoch is the wall time tests start at.
var epoch = time.Date(2027, 1, 4, 9, 0, 0, 0, time.UTC)

// fixture is a tenant on a TLS test server with a manual wall clock and a
// token for the demo app.
type fixture struct {
	t      *testing.T
	tenant *Tenant
	srv    *httptest.Server
	clock  *ManualClock
	token  string
}

// newFixture builds the demo tenant with throttling off unless a mutator
// turns it on; mutators adjust the config first.
func newFixture(t *testing.T, mutate ...func(*Config)) *fixture {
	t.Helper()
	cfg := DemoConfig()
	cfg.Throttling.Profile = "off"
	clock := NewManualClock(epoch)
	cfg.Clock = clock
	for _, m := range mutate {
		m(&cfg)
	}
	tn, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := httptest.NewTLSServer(tn)
	t.Cleanup(func() {
		srv.Close()
		_ = tn.Close()
	})
	f := &fixture{t: t, tenant: tn, srv: srv, clock: clock}
	if cfg.Clock == nil {
		f.clock = nil
	}
	f.token = f.tokenFor(DemoClientID)
	return f
}

func (f *fixture) tokenFor(clientID string) string {
	f.t.Helper()
	tok, err := f.tenant.IssueToken(clientID)
	if err != nil {
		f.t.Fatalf("IssueToken: %v", err)
	}
	return tok
}

// resp is a decoded response.
type resp struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

func (r resp) errCode() string {
	e, _ := r.body["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

func (r resp) errMessage() string {
	e, _ := r.body["error"].(map[string]any)
	s, _ := e["message"].(string)
	return s
}

func (r resp) str(k string) string { s, _ := r.body[k].(string); return s }

func (r resp) values() []map[string]any {
	arr, _ := r.body["value"].([]any)
	out := make([]map[string]any, 0, len(arr))
	for _, v := range arr {
		m, _ := v.(map[string]any)
		out = append(out, m)
	}
	return out
}

// call sends a Graph request with the fixture's token. headers are
// name, value pairs.
func (f *fixture) call(method, path string, body any, headers ...string) resp {
	f.t.Helper()
	return f.callWith(f.token, method, path, body, headers...)
}

func (f *fixture) callWith(token, method, path string, body any, headers ...string) resp {
	f.t.Helper()
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			f.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	u := path
	if !strings.HasPrefix(path, "http") {
		u = f.srv.URL + path
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		f.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return f.send(req)
}

func (f *fixture) send(req *http.Request) resp {
	f.t.Helper()
	hr, err := f.srv.Client().Do(req)
	if err != nil {
		f.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer hr.Body.Close()
	raw, _ := io.ReadAll(hr.Body)
	r := resp{status: hr.StatusCode, header: hr.Header, raw: raw}
	if len(raw) > 0 && strings.Contains(hr.Header.Get("Content-Type"), "json") {
		_ = json.Unmarshal(raw, &r.body)
	}
	return r
}

func (f *fixture) form(path string, vals url.Values) resp {
	f.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+path, strings.NewReader(vals.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return f.send(req)
}

// want fails unless the response has the status (and error code, if given).
func want(t *testing.T, r resp, status int, code ...string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.raw)
	}
	if len(code) > 0 && r.errCode() != code[0] {
		t.Fatalf("error code %q, want %q; body %s", r.errCode(), code[0], r.raw)
	}
}

// newUserBody is a valid create body on contoso.com.
func newUserBody(alias string) map[string]any {
	return map[string]any{
		"accountEnabled": true, "displayName": "User " + alias, "mailNickname": alias,
		"userPrincipalName": alias + "@contoso.com",
		"passwordProfile":   map[string]any{"forceChangePasswordNextSignIn": true, "password": "xWwvJ]6NMw+bWH-d"},
	}
}

// createUser creates a user over HTTP and returns its id.
func (f *fixture) createUser(alias string, extra map[string]any) string {
	f.t.Helper()
	b := newUserBody(alias)
	for k, v := range extra {
		b[k] = v
	}
	r := f.call(http.MethodPost, "/v1.0/users", b)
	want(f.t, r, http.StatusCreated)
	return r.str("id")
}

// createGroup creates a group over HTTP and returns its id.
func (f *fixture) createGroup(name string, unified bool) string {
	f.t.Helper()
	b := map[string]any{"displayName": name, "mailNickname": name, "mailEnabled": unified, "securityEnabled": !unified, "groupTypes": []string{}}
	if unified {
		b["groupTypes"] = []string{"Unified"}
	}
	r := f.call(http.MethodPost, "/v1.0/groups", b)
	want(f.t, r, http.StatusCreated)
	return r.str("id")
}

// idpCertB64 is the test IdP signing certificate as base64 DER, the form
// Graph takes it in.
func idpCertB64(t testing.TB) string {
	t.Helper()
	data, err := os.ReadFile("testdata/idp-signing.pem")
	if err != nil {
		t.Fatal(err)
	}
	c, err := parseCertificate(data)
	if err != nil {
		t.Fatal(err)
	}
	return derBase64(c)
}

const fedIssuer = "http://idp.contoso.com/adfs/services/trust"

// withDomains adds an unverified domain and a federated one (WS-Fed, signed
// by testdata/idp-signing).
func withDomains(c *Config) {
	f := false
	c.Domains = append(c.Domains,
		DomainConfig{Name: "unverified.example", Verified: &f},
		DomainConfig{Name: "fed.contoso.com", Federation: &FederationSpec{
			IssuerURI: fedIssuer, PassiveSignInURI: "https://idp.contoso.com/adfs/ls",
			PreferredAuthenticationProtocol: "wsFed", SigningCertificateFile: "testdata/idp-signing.pem",
		}},
	)
}
