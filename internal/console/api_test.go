package console

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/o365prov/o365prov/internal/state"
)

// concrete turns a route into a URL the fixture answers.
func concrete(rt route) string {
	p := strings.NewReplacer("{name}", "contoso", "{id}", heldPlan, "{file}", "console.css", "{$}", "").Replace(rt.path)
	switch p {
	case "/api/v1/objects", "/objects":
		p += "?upn=ada@contoso.com"
	}
	return p
}

func TestEveryRouteNeedsSignInExceptThePublicOnes(t *testing.T) {
	tc := newTestConsole(t, testToken)
	for _, rt := range tc.routes {
		t.Run(rt.method+" "+rt.path, func(t *testing.T) {
			for _, auth := range []string{"", "Bearer wrong-token-of-some-length", "Basic " + testToken} {
				req := newReq(t, rt.method, tc.srv.URL+concrete(rt), nil)
				if auth != "" {
					req.Header.Set("Authorization", auth)
				}
				code, body, hdr := do(t, client(t), req)
				switch {
				case rt.public:
					if code == http.StatusUnauthorized {
						t.Fatalf("a public route refused an anonymous request: %d %s", code, body)
					}
				case rt.api || rt.method != http.MethodGet:
					if code != http.StatusUnauthorized {
						t.Fatalf("with Authorization %q: %d, want 401: %s", auth, code, body)
					}
				default:
					if code != http.StatusSeeOther || !strings.HasPrefix(hdr.Get("Location"), "/login?next=") {
						t.Fatalf("with Authorization %q: %d %q, want a redirect to the login page", auth, code, hdr.Get("Location"))
					}
				}
				assertNoSecrets(t, rt.path, body)
			}
		})
	}
}

func TestEveryEndpointAnswersABearerAndNoAnswerHoldsASecret(t *testing.T) {
	tc := newTestConsole(t, testToken)
	for _, rt := range tc.routes {
		if rt.path == "/login" || rt.path == "/logout" {
			continue // the session's own routes: TestLoginThenActWithTheSessionsCSRFToken
		}
		t.Run(rt.method+" "+rt.path, func(t *testing.T) {
			var body *strings.Reader
			if rt.method == http.MethodPost {
				body = strings.NewReader(`{"mode":"full"}`)
			} else {
				body = strings.NewReader("")
			}
			u := concrete(rt)
			if strings.HasSuffix(u, "/reject") { // the approve before took the held plan
				must(t, tc.st.PutPlan(t.Context(), state.Plan{ID: "b0b0b0b0b0b0", Channel: "contoso", Created: fixtureNow, Status: state.PlanHeld, Body: []byte("{}")}))
				u = strings.Replace(u, heldPlan, "b0b0b0b0b0b0", 1)
			}
			req := newReq(t, rt.method, tc.srv.URL+u, body)
			req.Header.Set("Authorization", "Bearer "+testToken)
			req.Header.Set(actorHeader, "Grace Hopper")
			code, resp, hdr := do(t, client(t), req)
			if code != http.StatusOK {
				t.Fatalf("%d: %s", code, resp)
			}
			assertNoSecrets(t, rt.path, resp)
			if hdr.Get("Content-Security-Policy") == "" || !strings.Contains(hdr.Get("Content-Security-Policy"), "frame-ancestors 'none'") || hdr.Get("X-Frame-Options") != "DENY" {
				t.Errorf("security headers missing: %v", hdr)
			}
			if rt.api && !json.Valid([]byte(resp)) {
				t.Errorf("not JSON: %.200s", resp)
			}
		})
	}
	// The approve above is recorded with who did it.
	entries, err := tc.st.QueryAudit(t.Context(), state.AuditQuery{Channel: "contoso", Operation: "console:approve"})
	must(t, err)
	if len(entries) != 1 || !strings.Contains(entries[0].Detail, "Grace Hopper (api,") {
		t.Fatalf("approval audit: %+v", entries)
	}
}

func TestTheOverviewMatchesTheStore(t *testing.T) {
	tc := newTestConsole(t, testToken)
	req := newReq(t, "GET", tc.srv.URL+"/api/v1/overview", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	code, body, _ := do(t, client(t), req)
	if code != 200 {
		t.Fatal(code, body)
	}
	var ov Overview
	must(t, json.Unmarshal([]byte(body), &ov))
	if len(ov.Channels) != 1 {
		t.Fatalf("%+v", ov)
	}
	c := ov.Channels[0]
	want := ChannelSummary{Name: "contoso", Status: StatusHeld, Users: Counts{Total: 3, InSync: 2, Failed: 1}, Groups: Counts{Total: 1, Pending: 1}}
	if c.Name != want.Name || c.Status != want.Status || c.Users != want.Users || c.Groups != want.Groups {
		t.Errorf("got %+v\nwant %+v", c, want)
	}
	if c.HeldPlan == nil || c.HeldPlan.ID != heldPlan || c.LastCycle == nil || c.LastCycle.Result != "partial" || c.NextCycle == nil {
		t.Errorf("held plan, last or next cycle missing: %+v", c)
	}
}

func TestAnObjectIsFoundByEachOfItsKeys(t *testing.T) {
	tc := newTestConsole(t, testToken)
	for _, q := range []string{"upn=ADA@contoso.com", "dn=UID=ada,ou=people,dc=contoso,dc=com", "guid=" + ada, "graphId=" + adaGraph, "q=" + ada, "q=" + adaGraph, "q=ada@contoso.com"} {
		t.Run(q, func(t *testing.T) {
			req := newReq(t, "GET", tc.srv.URL+"/api/v1/objects?"+q, nil)
			req.Header.Set("Authorization", "Bearer "+testToken)
			code, body, _ := do(t, client(t), req)
			if code != 200 {
				t.Fatal(code, body)
			}
			var o ObjectView
			must(t, json.Unmarshal([]byte(body), &o))
			if o.GUID != ada || o.GraphID != adaGraph || o.Manager == nil || o.Manager.Name != "bob@contoso.com" || len(o.Licences) != 1 || len(o.Groups) != 1 || o.Groups[0].Name != "Staff" {
				t.Fatalf("%+v", o)
			}
			if len(o.History) != 1 || o.History[0].RequestID != "req-ada-create-0001" || o.Source == nil || o.Source.Attributes["title"][0] != "Countess" {
				t.Fatalf("history or source: %+v", o)
			}
			if _, ok := o.Source.Attributes["userPassword"]; ok {
				t.Fatal("a password attribute was shown")
			}
			assertNoSecrets(t, q, body)
		})
	}
	t.Run("an unknown UPN is a 404 naming it", func(t *testing.T) {
		req := newReq(t, "GET", tc.srv.URL+"/api/v1/objects?upn=nobody@contoso.com", nil)
		req.Header.Set("Authorization", "Bearer "+testToken)
		code, body, _ := do(t, client(t), req)
		if code != 404 || !strings.Contains(body, "nobody@contoso.com") {
			t.Fatal(code, body)
		}
	})
	t.Run("two keys at once are refused", func(t *testing.T) {
		req := newReq(t, "GET", tc.srv.URL+"/api/v1/objects?upn=a@b.c&dn=cn=x", nil)
		req.Header.Set("Authorization", "Bearer "+testToken)
		if code, body, _ := do(t, client(t), req); code != 400 {
			t.Fatal(code, body)
		}
	})
}

// login signs in through the login page and returns the client and the
// session's CSRF token as the pages carry it.
func login(t *testing.T, tc *testConsole) (*http.Client, string) {
	t.Helper()
	c := client(t)
	code, page, _ := do(t, c, newReq(t, "GET", tc.srv.URL+"/login?next=/channels/contoso", nil))
	if code != 200 {
		t.Fatal(code)
	}
	tok := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
	if tok == nil {
		t.Fatal("no CSRF field on the login page")
	}
	form := url.Values{"csrf": {tok[1]}, "next": {"/channels/contoso"}, "name": {"Ada Admin"}, "token": {testToken}}
	req := newReq(t, "POST", tc.srv.URL+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	code, body, hdr := do(t, c, req)
	if code != http.StatusSeeOther || hdr.Get("Location") != "/channels/contoso" {
		t.Fatalf("login: %d %s %v", code, body, hdr)
	}
	code, page, _ = do(t, c, newReq(t, "GET", tc.srv.URL+"/channels/contoso", nil))
	if code != 200 {
		t.Fatal(code, page)
	}
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
	if csrf == nil {
		t.Fatal("no CSRF token on the channel page")
	}
	return c, csrf[1]
}

func TestLoginThenActWithTheSessionsCSRFToken(t *testing.T) {
	forEachSessionStore(t, func(t *testing.T, opt consoleOption) {
		tc := newTestConsole(t, testToken, opt)
		c, csrf := login(t, tc)
		post := func(form url.Values, origin string) (int, string) {
			req := newReq(t, "POST", tc.srv.URL+"/api/v1/channels/contoso/sync", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if origin != "" {
				req.Header.Set("Origin", origin)
			}
			code, body, _ := do(t, c, req)
			return code, body
		}
		t.Run("an action without the CSRF token is refused", func(t *testing.T) {
			if code, body := post(url.Values{"mode": {"full"}}, ""); code != http.StatusForbidden {
				t.Fatal(code, body)
			}
		})
		t.Run("an action with another session's token is refused", func(t *testing.T) {
			if code, body := post(url.Values{"mode": {"full"}, "csrf": {"x" + csrf}}, ""); code != http.StatusForbidden {
				t.Fatal(code, body)
			}
		})
		t.Run("an action from another site is refused even with the token", func(t *testing.T) {
			if code, body := post(url.Values{"mode": {"full"}, "csrf": {csrf}}, "https://evil.example"); code != http.StatusForbidden {
				t.Fatal(code, body)
			}
		})
		if got := tc.control.Calls(); len(got) != 0 {
			t.Fatalf("a refused action reached the controller: %v", got)
		}
		t.Run("an action with the token is done and audited with who", func(t *testing.T) {
			if code, body := post(url.Values{"mode": {"full"}, "csrf": {csrf}, "back": {"/channels/contoso"}}, tc.srv.URL); code != http.StatusSeeOther {
				t.Fatal(code, body)
			}
			if got := tc.control.Calls(); len(got) != 1 || got[0] != "sync contoso full" {
				t.Fatalf("controller calls %v", got)
			}
			e, err := tc.st.QueryAudit(t.Context(), state.AuditQuery{Operation: "console:sync"})
			must(t, err)
			if len(e) != 1 || !strings.Contains(e[0].Detail, "Ada Admin (console,") {
				t.Fatalf("%+v", e)
			}
		})
		t.Run("a script with the session sends the token in a header and JSON", func(t *testing.T) {
			req := newReq(t, "POST", tc.srv.URL+"/api/v1/channels/contoso/sync", strings.NewReader(`{"mode":"verify"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set(csrfHeader, csrf)
			if code, body, _ := do(t, c, req); code != http.StatusOK {
				t.Fatal(code, body)
			}
			if got := tc.control.Calls(); len(got) != 2 || got[1] != "sync contoso verify" {
				t.Fatalf("controller calls %v", got)
			}
		})
		t.Run("signing out ends the session", func(t *testing.T) {
			req := newReq(t, "POST", tc.srv.URL+"/logout", strings.NewReader(url.Values{"csrf": {csrf}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if code, body, _ := do(t, c, req); code != http.StatusSeeOther {
				t.Fatal(code, body)
			}
			if code, _, _ := do(t, c, newReq(t, "GET", tc.srv.URL+"/api/v1/overview", nil)); code != http.StatusUnauthorized {
				t.Fatal(code)
			}
		})
	})
}

func TestLoginRefusesAWrongTokenAndAFormWithoutItsCSRFToken(t *testing.T) {
	forEachSessionStore(t, func(t *testing.T, opt consoleOption) {
		tc := newTestConsole(t, testToken, opt)
		c := client(t)
		_, page, _ := do(t, c, newReq(t, "GET", tc.srv.URL+"/login", nil))
		tok := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)[1]
		for _, tt := range []struct {
			name string
			form url.Values
			code int
		}{
			{"a wrong token", url.Values{"csrf": {tok}, "name": {"x"}, "token": {"not-the-token-at-all"}}, http.StatusUnauthorized},
			{"no CSRF token", url.Values{"name": {"x"}, "token": {testToken}}, http.StatusForbidden},
		} {
			t.Run(tt.name, func(t *testing.T) {
				req := newReq(t, "POST", tc.srv.URL+"/login", strings.NewReader(tt.form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				code, body, hdr := do(t, c, req)
				if code != tt.code {
					t.Fatal(code, body)
				}
				assertNoSecrets(t, "login", body)
				for _, ck := range hdr.Values("Set-Cookie") {
					if strings.HasPrefix(ck, sessionCookie) {
						t.Fatal("a session was opened")
					}
				}
			})
		}
	})
}

func TestOpenAPIMatchesRoutes(t *testing.T) {
	tc := newTestConsole(t, testToken)
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	must(t, json.Unmarshal(openAPIDoc, &doc))
	documented := map[string]bool{}
	for p, ops := range doc.Paths {
		for m := range ops {
			documented[strings.ToUpper(m)+" "+p] = true
		}
	}
	served := map[string]bool{}
	for _, rt := range tc.routes {
		if rt.api || rt.path == "/healthz" || rt.path == "/readyz" || rt.path == "/metrics" {
			served[rt.method+" "+rt.path] = true
		}
	}
	var missing, stale []string
	for k := range served {
		if !documented[k] {
			missing = append(missing, k)
		}
	}
	for k := range documented {
		if !served[k] {
			stale = append(stale, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(stale)
	if len(missing) > 0 || len(stale) > 0 {
		t.Fatalf("OpenAPI and routes differ:\n served, not documented: %v\n documented, not served: %v", missing, stale)
	}
	// Each documented answer's required properties are in the real answer.
	var full struct {
		Components struct {
			Schemas map[string]struct {
				Required []string `json:"required"`
			} `json:"schemas"`
		} `json:"components"`
	}
	must(t, json.Unmarshal(openAPIDoc, &full))
	for path, schema := range map[string]string{"/api/v1/overview": "Overview", "/api/v1/objects?guid=" + ada: "Object", "/api/v1/plans/" + heldPlan: "Plan", "/api/v1/audit": "AuditPage", "/api/v1/activity": "Activity", "/readyz": "Readiness"} {
		req := newReq(t, "GET", tc.srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+testToken)
		_, body, _ := do(t, client(t), req)
		var got map[string]json.RawMessage
		must(t, json.Unmarshal([]byte(body), &got))
		for _, f := range full.Components.Schemas[schema].Required {
			if _, ok := got[f]; !ok {
				t.Errorf("%s: the answer lacks %q, which the %s schema requires", path, f, schema)
			}
		}
	}
}

func TestReadyzNamesEachCheck(t *testing.T) {
	tc := newTestConsole(t, testToken)
	code, body, _ := do(t, client(t), newReq(t, "GET", tc.srv.URL+"/readyz", nil))
	if code != 200 || !strings.Contains(body, `"name": "store"`) {
		t.Fatal(code, body)
	}
	tc.o.Checks = append(tc.o.Checks, Check{Name: "directory contoso", Probe: func(context.Context) error { return errors.New("dial tcp 127.0.0.1:389: connection refused") }})
	code, body, _ = do(t, client(t), newReq(t, "GET", tc.srv.URL+"/readyz", nil))
	if code != http.StatusServiceUnavailable || !strings.Contains(body, `"name": "directory contoso"`) || !strings.Contains(body, "connection refused") {
		t.Fatal(code, body)
	}
}

func TestSyncReadsItsModeFromJSONWhateverTheContentType(t *testing.T) {
	for _, tt := range []struct {
		name, contentType, body, want string
	}{
		{"JSON", "application/json", `{"mode":"verify"}`, "sync contoso verify"},
		{"JSON sent as a form, as curl -d does", "application/x-www-form-urlencoded", `{"mode":"full"}`, "sync contoso full"},
		{"a form", "application/x-www-form-urlencoded", "mode=full", "sync contoso full"},
		{"no body", "", "", "sync contoso incremental"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tc := newTestConsole(t, testToken)
			req := newReq(t, "POST", tc.srv.URL+"/api/v1/channels/contoso/sync", strings.NewReader(tt.body))
			req.Header.Set("Authorization", "Bearer "+testToken)
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			code, body, _ := do(t, client(t), req)
			if code != 200 || !json.Valid([]byte(body)) {
				t.Fatal(code, body)
			}
			if got := tc.control.Calls(); len(got) != 1 || got[0] != tt.want {
				t.Fatalf("calls %v, want %q", got, tt.want)
			}
		})
	}
	t.Run("an unknown mode is refused", func(t *testing.T) {
		tc := newTestConsole(t, testToken)
		req := newReq(t, "POST", tc.srv.URL+"/api/v1/channels/contoso/sync", strings.NewReader(`{"mode":"everything"}`))
		req.Header.Set("Authorization", "Bearer "+testToken)
		if code, body, _ := do(t, client(t), req); code != 400 || !strings.Contains(body, "incremental, full or verify") {
			t.Fatal(code, body)
		}
	})
}

func TestARunningApplyShowsItsProgressETAAndNode(t *testing.T) {
	tc := newTestConsole(t, testToken)
	now := fixtureNow
	tc.monitor.clock = func() time.Time { return now }
	tr := tc.monitor.Progress("contoso")
	tr.Start(1000)
	now = now.Add(10 * time.Second)
	tr.Done(250)
	_, err := tc.st.AcquireLease(t.Context(), "channel/contoso", "node-b/4242", 2*time.Minute)
	must(t, err)
	ov, err := BuildOverview(t.Context(), tc.o.Store, tc.o.Channels, tc.monitor, now)
	must(t, err)
	c := ov.Channels[0]
	if c.Status != StatusRunning || c.Progress == nil || c.Progress.Done != 250 || c.Progress.Total != 1000 || c.Node != "node-b/4242" {
		t.Fatalf("%+v", c)
	}
	if c.Progress.ETA == nil || !c.Progress.ETA.Equal(now.Add(30*time.Second)) || c.Progress.Remaining != "30s" {
		t.Fatalf("250 of 1000 in 10 s leaves 30 s: %+v", c.Progress)
	}
	tr.Finish()
	ov, err = BuildOverview(t.Context(), tc.o.Store, tc.o.Channels, tc.monitor, now)
	must(t, err)
	if ov.Channels[0].Progress != nil || ov.Channels[0].Status != StatusHeld {
		t.Fatalf("after the apply: %+v", ov.Channels[0])
	}
}
