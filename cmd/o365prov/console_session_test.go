package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestAConsoleSessionOutlivesARestartAndSignOutEndsIt runs the demo,
// opens a console page, stops the demo and starts it again on the same
// directory: the session (kept in the state store) still carries its
// actions; after sign-out it carries none.
func TestAConsoleSessionOutlivesARestartAndSignOutEndsIt(t *testing.T) {
	if testing.Short() {
		t.Skip("heavy end to end (two demo starts): skipped with -short, run once by make e2e")
	}
	dir, addr := t.TempDir(), "127.0.0.1:"+strconv.Itoa(freePort(t))
	base := "http://" + addr
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	send := func(method, path, csrf string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, base+path, strings.NewReader(`{"mode":"incremental"}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-CSRF-Token", csrf)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		_, _ = io.Copy(&b, resp.Body)
		return resp.StatusCode, b.String()
	}

	_, stop := startDemoIn(t, dir, addr)
	code, page := send(http.MethodGet, "/channels/contoso", "")
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
	if code != http.StatusOK || m == nil {
		t.Fatalf("the channel page: %d, CSRF token found: %v", code, m != nil)
	}
	csrf := m[1]
	stop()

	startDemoIn(t, dir, addr)
	t.Run("after a restart the session still carries an action", func(t *testing.T) {
		if code, body := send(http.MethodPost, "/api/v1/channels/contoso/sync", csrf); code != http.StatusOK {
			t.Fatalf("%d: %s", code, body)
		}
	})
	t.Run("after sign-out it carries none", func(t *testing.T) {
		u, _ := url.Parse(base)
		kept := jar.Cookies(u) // the browser forgets the cookie; a thief who copied it would not
		if code, body := send(http.MethodPost, "/logout", csrf); code != http.StatusSeeOther {
			t.Fatalf("sign-out: %d: %s", code, body)
		}
		jar.SetCookies(u, kept)
		if code, body := send(http.MethodPost, "/api/v1/channels/contoso/sync", csrf); code != http.StatusForbidden {
			t.Fatalf("%d: %s", code, body)
		}
	})
}
