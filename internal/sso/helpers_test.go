package sso

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/o365prov/o365prov/internal/faketenant"
)

// testUser is a directory account in the fake directory.
type testUser struct {
	password string
	id       Identity
	err      error // returned after a right password (disabled, not provisioned…)
}

// fakeDirectory is the test double of the directory: it records every
// login it was asked about, so lockout tests can tell it was not asked.
type fakeDirectory struct {
	mu    sync.Mutex
	users map[string]testUser
	asked []string
	down  bool
}

func (d *fakeDirectory) Authenticate(_ context.Context, login, password string) (Identity, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.asked = append(d.asked, login)
	if d.down {
		return Identity{}, errors.New("dial ldap: connection refused")
	}
	u, ok := d.users[strings.ToLower(login)]
	if !ok || u.password != password {
		return Identity{}, ErrInvalidCredentials
	}
	if u.err != nil {
		return Identity{}, u.err
	}
	return u.id, nil
}

func (d *fakeDirectory) askedCount() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.asked)
}

// recordingAuditor keeps events.
type recordingAuditor struct {
	mu     sync.Mutex
	events []Event
}

func (a *recordingAuditor) SignIn(_ context.Context, e Event) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.events = append(a.events, e)
	return nil
}

func (a *recordingAuditor) last() Event {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.events) == 0 {
		return Event{}
	}
	return a.events[len(a.events)-1]
}

// The people of the test directory. Immutable ids are base64 GUIDs as the
// channel mapping writes them.
const (
	alicePassword = "Correct-Horse-7"
	aliceIID      = "4AQlP4lP0xGaDAMF6CwzAQ=="
	bobIID        = "lUQ6c0hNtkC2p4WAmJIqPw=="
	carolIID      = "pW0xpL2e2UK0R7dHvQ2Qjw=="
)

// harness is a fake tenant federated with an identity provider, both on
// loopback, and a browser-like client with a cookie jar.
type harness struct {
	t       testing.TB
	tenant  *faketenant.Tenant
	tsrv    *httptest.Server
	isrv    *httptest.Server
	idp     *Server
	dir     *fakeDirectory
	audit   *recordingAuditor
	keys    Keys
	client  *http.Client
	logs    *bytes.Buffer
	clock   clockwork.Clock
	opts    Options
	nextKey KeyPair
}

type harnessConfig struct {
	protocol string // wsFed or saml
	opts     func(*Options)
	fed      func(*faketenant.FederationSpec)
	tls      bool // both servers on HTTPS (MSAL wants an https authority)
}

func newHarness(t testing.TB, hc harnessConfig) *harness {
	t.Helper()
	if hc.protocol == "" {
		hc.protocol = "wsFed"
	}
	h := &harness{t: t, dir: &fakeDirectory{}, audit: &recordingAuditor{}, logs: &bytes.Buffer{}, clock: clockwork.NewRealClock()}
	var err error
	cur := testKey(t)
	if h.nextKey, err = LoadPEMFiles("testdata/next-key.pem", "testdata/next-cert.pem"); err != nil {
		t.Fatal(err)
	}
	h.keys = Keys{Current: cur}
	var tenantH, idpH swapHandler
	if hc.tls {
		h.tsrv, h.isrv = httptest.NewTLSServer(&tenantH), httptest.NewTLSServer(&idpH)
	} else {
		h.tsrv, h.isrv = httptest.NewServer(&tenantH), httptest.NewServer(&idpH)
	}
	t.Cleanup(h.tsrv.Close)
	t.Cleanup(h.isrv.Close)

	passive := h.isrv.URL + "/idp/prp.wsf"
	if hc.protocol == "saml" {
		passive = h.isrv.URL + "/idp/SSO.saml2"
	}
	spec := &faketenant.FederationSpec{
		DisplayName: "o365prov test", IssuerURI: h.isrv.URL, PassiveSignInURI: passive,
		SignOutURI: passive, SigningCertificate: cur.CertBase64(), PreferredAuthenticationProtocol: hc.protocol,
		ActiveSignInURI: h.isrv.URL + ActivePath, MetadataExchangeURI: h.isrv.URL + MEXPath,
	}
	if hc.fed != nil {
		hc.fed(spec)
	}
	cfg := faketenant.DemoConfig()
	cfg.Throttling.Profile = "off"
	// httptest's TLS servers share one certificate, so the tenant's
	// client trusts the identity provider too.
	cfg.FederationClient = h.tsrv.Client()
	cfg.Domains = append(cfg.Domains, faketenant.DomainConfig{Name: "fed.contoso.com", Federation: spec})
	if h.tenant, err = faketenant.New(cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.tenant.Close() })
	tenantH.set(h.tenant)
	for _, u := range []struct {
		upn, name, iid string
		enabled        bool
	}{{"alice@fed.contoso.com", "Alice", aliceIID, true}, {"bob@fed.contoso.com", "Bob", bobIID, false}} {
		if _, err := h.tenant.AddUser(faketenant.SeedUser{Properties: map[string]any{
			"userPrincipalName": u.upn, "displayName": u.name, "mailNickname": strings.ToLower(u.name),
			"onPremisesImmutableId": u.iid, "accountEnabled": u.enabled, "onPremisesSyncEnabled": true,
		}}); err != nil {
			t.Fatal(err)
		}
	}
	h.dir.users = map[string]testUser{
		"alice@fed.contoso.com": {password: alicePassword, id: Identity{ImmutableID: aliceIID, UPN: "alice@fed.contoso.com", DisplayName: "Alice", DN: "uid=alice,ou=people,dc=contoso,dc=com"}},
		"bob@fed.contoso.com":   {password: "Bobs-Password-1", err: ErrAccountDisabled},
		"carol@fed.contoso.com": {password: "Carols-Password-1", err: fmt.Errorf("%w: out of the channel's scope", ErrNotProvisioned)},
	}
	h.opts = Options{
		BaseURL: h.isrv.URL, ReplyURLs: []string{h.tsrv.URL + "/login.srf"}, RelayStates: []string{"https://outlook.office.com/"},
		Organisation: "Contoso", LoginHint: "alice@fed.contoso.com",
	}
	if hc.opts != nil {
		hc.opts(&h.opts)
	}
	log := slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if h.idp, err = New(h.opts, Deps{Keys: h.keys, Directory: h.dir, Store: NewMemoryStore(), Audit: h.audit, Clock: h.clock, Log: log}); err != nil {
		t.Fatal(err)
	}
	idpH.set(h.idp.Handler())
	h.client = newBrowser()
	return h
}

func newBrowser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 20 * time.Second}
}

type swapHandler struct {
	mu sync.Mutex
	h  http.Handler
}

func (s *swapHandler) set(h http.Handler) { s.mu.Lock(); s.h = h; s.mu.Unlock() }
func (s *swapHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	h := s.h
	s.mu.Unlock()
	h.ServeHTTP(w, r)
}

// reply is a page as a browser got it.
type reply struct {
	status int
	url    string
	body   string
}

func (h *harness) get(u string) reply {
	h.t.Helper()
	resp, err := h.client.Get(u)
	if err != nil {
		h.t.Fatal(err)
	}
	return readReply(h.t, resp)
}

func (h *harness) post(u string, form url.Values) reply {
	h.t.Helper()
	resp, err := h.client.PostForm(u, form)
	if err != nil {
		h.t.Fatal(err)
	}
	return readReply(h.t, resp)
}

func readReply(t testing.TB, resp *http.Response) reply {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{status: resp.StatusCode, url: resp.Request.URL.String(), body: string(b)}
}

var (
	inputRe  = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
	actionRe = regexp.MustCompile(`<form method="post" action="([^"]+)"`)
)

// hidden returns a page's hidden fields.
func (r reply) hidden() url.Values {
	v := url.Values{}
	for _, m := range inputRe.FindAllStringSubmatch(r.body, -1) {
		v.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	return v
}

func (r reply) action() string {
	m := actionRe.FindStringSubmatch(r.body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

func (r reply) isLoginForm() bool { return strings.Contains(r.body, `name="password"`) }

// submitLogin fills the login form.
func (h *harness) submitLogin(form reply, user, password string) reply {
	h.t.Helper()
	if !form.isLoginForm() {
		h.t.Fatalf("expected the login form, got %d %s:\n%s", form.status, form.url, form.body)
	}
	v := form.hidden()
	v.Set("username", user)
	v.Set("password", password)
	return h.post(h.isrv.URL+"/idp/login", v)
}

// follow submits an auto-posting page as a browser would.
func (h *harness) follow(p reply) reply {
	h.t.Helper()
	if !strings.Contains(p.body, `id="autopost"`) {
		h.t.Fatalf("expected an auto-posting page, got %d %s:\n%s", p.status, p.url, p.body)
	}
	return h.post(p.action(), p.hidden())
}

// signedInAs reads the fake tenant's signed-in page.
func signedInAs(r reply) string {
	m := regexp.MustCompile(`<span id="upn">([^<]+)</span>`).FindStringSubmatch(r.body)
	if m == nil {
		return ""
	}
	return m[1]
}

func tenantError(r reply) string {
	m := regexp.MustCompile(`<p id="error-message">([^<]+)</p>`).FindStringSubmatch(r.body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

func fakeClockAt(t time.Time) clockwork.Clock { return clockwork.NewFakeClockAt(t) }
