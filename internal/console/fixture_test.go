package console

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/o365prov/o365prov/internal/state"
	"github.com/o365prov/o365prov/internal/state/sqlite"
)

// Secrets the fixture configures: no answer may ever contain them.
const (
	testToken        = "adm1n-T0ken-4f9e2a71c3d5"
	testLDAPPassword = "ldap-S3cret-8d3b5c02"
	testInitialPwd   = "Initial-P4ss-77aa"
)

// fixtureNow is the fixture's clock.
var fixtureNow = time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)

// The fixture's objects.
const (
	ada      = "00000000-0000-0000-0000-00000000000a"
	bob      = "00000000-0000-0000-0000-00000000000b"
	cy       = "00000000-0000-0000-0000-00000000000c"
	staff    = "00000000-0000-0000-0000-0000000000f1"
	adaGraph = "11111111-2222-3333-4444-555555555555"
	heldPlan = "a1b2c3d4e5f6"
)

func openStore(t testing.TB) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "state.db"), sqlite.WithSynchronous(sqlite.SynchronousNormal))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// seed writes a channel with three users (one failed, one pending), a
// group, a finished cycle, a held plan and audit entries.
func seed(t testing.TB, st state.Store) {
	t.Helper()
	ctx := context.Background()
	user := func(guid, dn, upn, graphID string, status state.Status, lastErr string) state.Object {
		o := state.Object{Channel: "contoso", Kind: state.KindUser, GUID: guid, DN: dn, GraphID: graphID, Lifecycle: state.LifecycleActive, Status: status, LastError: lastErr, UpdatedAt: fixtureNow.Add(-time.Hour),
			Applied: map[string]string{"userPrincipalName": `"` + upn + `"`, "displayName": `"` + strings.Split(upn, "@")[0] + `"`, "password": `"` + testInitialPwd + `"`}}
		if status != state.StatusOK {
			o.Attempts, o.NextRetry = 2, fixtureNow.Add(4*time.Minute)
		}
		return o
	}
	a := user(ada, "uid=ada,ou=people,dc=contoso,dc=com", "ada@contoso.com", adaGraph, state.StatusOK, "")
	a.Applied["_licenses"] = `[{"skuId":"c7df2760-2c81-4ef7-b578-5b5392b571df","disabledPlans":["a23b959c-7ce8-4e57-9140-b90eb88a9e97"]}]`
	a.Applied["_manager"] = `"` + bob + `"`
	objs := []state.Object{a,
		user(bob, "uid=bob,ou=people,dc=contoso,dc=com", "bob@contoso.com", "22222222-2222-3333-4444-555555555555", state.StatusOK, ""),
		user(cy, "uid=cy,ou=people,dc=contoso,dc=com", "cy@contoso.com", "", state.StatusFailed, "create user cy@contoso.com: 400 Request_BadRequest: Property usageLocation is invalid"),
		{Channel: "contoso", Kind: state.KindGroup, GUID: staff, DN: "cn=staff,ou=groups,dc=contoso,dc=com", GraphID: "33333333-2222-3333-4444-555555555555", Lifecycle: state.LifecycleActive, Status: state.StatusPending, UpdatedAt: fixtureNow, Applied: map[string]string{"displayName": `"Staff"`}},
	}
	must(t, st.PutObjects(ctx, objs))
	must(t, st.AddMembers(ctx, "contoso", staff, []string{ada, bob}))
	id, err := st.StartCycle(ctx, state.Cycle{Channel: "contoso", Kind: state.CycleFull, Started: fixtureNow.Add(-10 * time.Minute)})
	must(t, err)
	must(t, st.FinishCycle(ctx, state.Cycle{ID: id, Channel: "contoso", Kind: state.CycleFull, Started: fixtureNow.Add(-10 * time.Minute), Finished: fixtureNow.Add(-9 * time.Minute), Result: state.CyclePartial,
		Stats: map[string]int{"createUser": 3, "createGroup": 1, "succeeded": 3, "failed": 1, "writes": 4}}))
	must(t, st.PutPlan(ctx, state.Plan{ID: heldPlan, Channel: "contoso", Created: fixtureNow.Add(-5 * time.Minute), Status: state.PlanHeld, Reason: "would delete 812 users (threshold 500 or 10%)",
		Summary: map[string]int{"deleteUser": 812}, Body: []byte(`{"ops":[{"id":1,"type":"deleteUser","kind":"user","guid":"` + bob + `","dn":"uid=bob,ou=people,dc=contoso,dc=com","name":"bob@contoso.com","reason":"gone from the directory"}]}`)}))
	must(t, st.Audit(ctx,
		state.AuditEntry{Time: fixtureNow.Add(-9 * time.Minute), Channel: "contoso", Cycle: id, Kind: state.KindUser, GUID: ada, DN: a.DN, Operation: "createUser", Result: "ok", RequestID: "req-ada-create-0001", Detail: "created"},
		state.AuditEntry{Time: fixtureNow.Add(-9 * time.Minute), Channel: "contoso", Cycle: id, Kind: state.KindUser, GUID: cy, DN: "uid=cy,ou=people,dc=contoso,dc=com", Operation: "createUser", Result: "failed", RequestID: "req-cy-create-0002", Detail: "400 usageLocation"},
	))
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// fakeControl is a Controller that records what it was asked.
type fakeControl struct {
	st    state.Store
	mu    sync.Mutex
	calls []string
}

func (f *fakeControl) record(s string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, s)
}

func (f *fakeControl) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *fakeControl) Sync(_ context.Context, channel string, mode SyncMode) error {
	f.record("sync " + channel + " " + string(mode))
	return nil
}

func (f *fakeControl) Approve(ctx context.Context, channel, id, by string) error {
	f.record("approve " + channel + " " + id + " by " + by)
	return f.st.SetPlanStatus(ctx, id, state.PlanHeld, state.PlanApproved, by, fixtureNow)
}

func (f *fakeControl) Reject(ctx context.Context, channel, id, by string) error {
	f.record("reject " + channel + " " + id)
	if err := f.st.SetPlanStatus(ctx, id, state.PlanHeld, state.PlanRejected, by, fixtureNow); err != nil {
		return fmt.Errorf("plan %s is not held", id)
	}
	return nil
}

func (f *fakeControl) Preview(context.Context, string) (Preview, error) {
	return Preview{ID: "p1", Mode: "incremental", Counts: map[string]int{"updateUser": 1}, Ops: []PlanOp{{Type: "updateUser", Kind: "user", Name: "ada@contoso.com", DN: "uid=ada,ou=people,dc=contoso,dc=com", Reason: "title changed"}}}, nil
}

func (f *fakeControl) Source(_ context.Context, _ string, _ state.Kind, dn string) (SourceEntry, error) {
	if !strings.HasPrefix(dn, "uid=ada") {
		return SourceEntry{}, errors.New("not in the directory's scope")
	}
	return SourceEntry{DN: dn, Enabled: true,
		Attributes: map[string][]string{"uid": {"ada"}, "mail": {"ada@contoso.com"}, "title": {"Countess"}, "userPassword": {testLDAPPassword}},
		Mapped:     map[string]any{"userPrincipalName": "ada@contoso.com", "displayName": "Ada", "jobTitle": "Countess", "password": testInitialPwd}}, nil
}

// testConsole is a console over a seeded store, served by httptest.
type testConsole struct {
	*Server
	st      *sqlite.Store
	control *fakeControl
	monitor *Monitor
	srv     *httptest.Server
}

// consoleOption changes a test console's options; st is its store.
type consoleOption func(o *Options, st *sqlite.Store)

// sessionStores are the places a console keeps sessions: the auth tests
// run against each.
var sessionStores = []struct {
	name string
	opt  consoleOption
}{
	{"with sessions in memory", func(*Options, *sqlite.Store) {}},
	{"with sessions in the state store", func(o *Options, st *sqlite.Store) { o.Sessions = st }},
}

// forEachSessionStore runs test once per place sessions are kept.
func forEachSessionStore(t *testing.T, test func(t *testing.T, opt consoleOption)) {
	for _, ss := range sessionStores {
		t.Run(ss.name, func(t *testing.T) { test(t, ss.opt) })
	}
}

func newTestConsole(t testing.TB, token string, opts ...consoleOption) *testConsole {
	t.Helper()
	st := openStore(t)
	seed(t, st)
	return newConsoleOn(t, st, token, opts...)
}

// newConsoleOn serves a console over st, already seeded.
func newConsoleOn(t testing.TB, st *sqlite.Store, token string, opts ...consoleOption) *testConsole {
	t.Helper()
	m := NewMonitor(20, func() time.Time { return fixtureNow })
	channels := []ChannelInfo{{Name: "contoso", Active: true, Interval: 5 * time.Minute}}
	must(t, m.WatchObjects(st, channels))
	fc := &fakeControl{st: st}
	o := Options{
		Channels: channels, Store: Observe(st, m, nil), Control: fc, Monitor: m, Token: token, Clock: func() time.Time { return fixtureNow },
		Checks: []Check{{Name: "store", Probe: func(ctx context.Context) error { _, err := st.Channel(ctx, "contoso"); return err }}},
	}
	for _, opt := range opts {
		opt(&o, st)
	}
	s, err := New(o)
	must(t, err)
	tc := &testConsole{Server: s, st: st, control: fc, monitor: m}
	tc.srv = httptest.NewServer(s)
	t.Cleanup(tc.srv.Close)
	return tc
}

// client is an HTTP client that keeps cookies and does not follow
// redirects, so tests see them.
func client(t testing.TB) *http.Client {
	t.Helper()
	jar := &cookieJar{m: map[string]*http.Cookie{}}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// cookieJar keeps every cookie regardless of path: enough for one host.
type cookieJar struct {
	mu sync.Mutex
	m  map[string]*http.Cookie
}

func (j *cookieJar) SetCookies(_ *url.URL, cs []*http.Cookie) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, c := range cs {
		if c.MaxAge < 0 {
			delete(j.m, c.Name)
			continue
		}
		j.m[c.Name] = c
	}
}

func (j *cookieJar) Cookies(*url.URL) []*http.Cookie {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []*http.Cookie
	for _, c := range j.m {
		out = append(out, c)
	}
	return out
}

// do sends a request and returns the status and body.
func do(t testing.TB, c *http.Client, req *http.Request) (int, string, http.Header) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b), resp.Header
}

func newReq(t testing.TB, method, u string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// assertNoSecrets fails when a body holds a configured secret.
func assertNoSecrets(t testing.TB, where, body string) {
	t.Helper()
	for _, s := range []string{testToken, testLDAPPassword, testInitialPwd} {
		if strings.Contains(body, s) {
			t.Errorf("%s: the answer contains a configured secret (%.6s…)", where, s)
		}
	}
}
