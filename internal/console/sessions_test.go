package console

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/o365prov/o365prov/internal/state/sqlite"
)

// testClock is a clock a test moves; the console reads it from its
// handlers' goroutines.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// twoNodes serves two consoles, each with its own connection to one SQLite
// file, as two processes of a cluster have; sessions are kept in the store.
func twoNodes(t *testing.T, clock *testClock) (a, b *testConsole, dir string) {
	t.Helper()
	dir = t.TempDir()
	open := func() *sqlite.Store {
		st, err := sqlite.Open(t.Context(), filepath.Join(dir, "state.db"))
		must(t, err)
		t.Cleanup(func() { st.Close() })
		return st
	}
	stA := open()
	seed(t, stA)
	stored := func(o *Options, st *sqlite.Store) {
		o.Sessions, o.Clock = Observe(st, o.Monitor, nil).(SessionStore), clock.Now
	}
	return newConsoleOn(t, stA, testToken, stored), newConsoleOn(t, open(), testToken, stored), dir
}

func TestASessionOpenedOnOneNodeIsHonouredAndEndedOnAnother(t *testing.T) {
	clock := &testClock{now: fixtureNow}
	a, b, dir := twoNodes(t, clock)
	c, csrf := login(t, a)
	status := func(tc *testConsole) int {
		code, _, _ := do(t, c, newReq(t, "GET", tc.srv.URL+"/api/v1/overview", nil))
		return code
	}
	signOut := func(tc *testConsole) {
		req := newReq(t, "POST", tc.srv.URL+"/logout", strings.NewReader(url.Values{"csrf": {csrf}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if code, body, _ := do(t, c, req); code != http.StatusSeeOther {
			t.Fatal(code, body)
		}
	}

	t.Run("the other node knows who is signed in and takes their CSRF token", func(t *testing.T) {
		if code := status(b); code != http.StatusOK {
			t.Fatalf("node b: %d", code)
		}
		req := newReq(t, "POST", b.srv.URL+"/api/v1/channels/contoso/sync", strings.NewReader(`{"mode":"full"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(csrfHeader, csrf)
		if code, body, _ := do(t, c, req); code != http.StatusOK {
			t.Fatal(code, body)
		}
		if got := b.control.Calls(); len(got) != 1 {
			t.Fatalf("node b's controller calls %v", got)
		}
	})
	t.Run("the database holds no usable session token", func(t *testing.T) {
		tok := c.Jar.(*cookieJar).m[sessionCookie].Value
		files, err := filepath.Glob(filepath.Join(dir, "state.db*"))
		must(t, err)
		for _, f := range files {
			raw, err := os.ReadFile(f)
			must(t, err)
			if bytes.Contains(raw, []byte(tok)) {
				t.Fatalf("%s holds the session token", filepath.Base(f))
			}
		}
		if _, ok, err := a.sessions.get(t.Context(), tok); err != nil || !ok {
			t.Fatalf("the session is not in the store under its hash: %v %v", ok, err)
		}
	})
	t.Run("signing out on the other node ends the session on both", func(t *testing.T) {
		signOut(b)
		if ca, cb := status(a), status(b); ca != http.StatusUnauthorized || cb != http.StatusUnauthorized {
			t.Fatalf("after sign-out: node a %d, node b %d", ca, cb)
		}
	})
	t.Run("a session expires on every node with its lifetime", func(t *testing.T) {
		c, csrf = login(t, b)
		clock.Advance(sessionLifetime - time.Second)
		if code := status(a); code != http.StatusOK {
			t.Fatalf("before its end: %d", code)
		}
		clock.Advance(time.Second)
		if ca, cb := status(a), status(b); ca != http.StatusUnauthorized || cb != http.StatusUnauthorized {
			t.Fatalf("after its lifetime: node a %d, node b %d", ca, cb)
		}
	})
}

// brokenSessions is a session store that cannot be reached.
type brokenSessions struct{ *MemorySessions }

func (brokenSessions) Item(context.Context, string, time.Time) ([]byte, error) {
	return nil, context.DeadlineExceeded
}

func TestASessionStoreThatCannotBeReadIsAnErrorNotASignOut(t *testing.T) {
	tc := newTestConsole(t, testToken)
	c, _ := login(t, tc)
	tc.sessions.store = brokenSessions{NewMemorySessions()}
	code, body, hdr := do(t, c, newReq(t, "GET", tc.srv.URL+"/channels/contoso", nil))
	if code != http.StatusServiceUnavailable || hdr.Get("Location") != "" || !strings.Contains(body, "sessions cannot be read") {
		t.Fatalf("%d %q: %s", code, hdr.Get("Location"), body)
	}
}
