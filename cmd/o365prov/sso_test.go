package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/o365prov/o365prov/internal/graph"
)

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

var (
	// demoSignInRe finds where the demo says to sign in, as whom, and the
	// password.
	demoSignInRe = regexp.MustCompile(`(https://\S+/login\?username=(\S+))\n  password: (\S+)`)
	hiddenRe     = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
	formRe       = regexp.MustCompile(`<form method="post" action="([^"]+)"`)
)

type browser struct {
	t *testing.T
	c *http.Client
}

func (b browser) do(method, u string, form url.Values) (string, string) {
	b.t.Helper()
	var resp *http.Response
	var err error
	if method == http.MethodGet {
		resp, err = b.c.Get(u)
	} else {
		resp, err = b.c.PostForm(u, form)
	}
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.Request.URL.String(), string(body)
}

// newDemoBrowser is a browser with its own cookies that trusts the demo's
// fake tenant.
func newDemoBrowser(t *testing.T, dir string) browser {
	t.Helper()
	ca, err := os.ReadFile(filepath.Join(dir, "tenant-ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	jar, _ := cookiejar.New(nil)
	return browser{t, &http.Client{Jar: jar, Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}}
}

func hiddenFields(body string) (string, url.Values) {
	v := url.Values{}
	for _, m := range hiddenRe.FindAllStringSubmatch(body, -1) {
		v.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	action := ""
	if m := formRe.FindStringSubmatch(body); m != nil {
		action = html.UnescapeString(m[1])
	}
	return action, v
}

// signIn walks the browser flow and returns the fake tenant's final page.
func (b browser) signIn(start, user, password string) string {
	b.t.Helper()
	at, body := b.do(http.MethodGet, start, nil)
	if !strings.Contains(body, `name="password"`) {
		b.t.Fatalf("no login form at %s:\n%s", at, body)
	}
	u, _ := url.Parse(at)
	_, v := hiddenFields(body)
	v.Set("username", user)
	v.Set("password", password)
	_, body = b.do(http.MethodPost, u.Scheme+"://"+u.Host+"/idp/login", v)
	action, v := hiddenFields(body)
	if !strings.Contains(body, `id="autopost"`) {
		return body
	}
	_, body = b.do(http.MethodPost, action, v)
	return body
}

// TestDemoFederatesAndSignsIn runs `o365prov demo`, signs a demo user in
// through the fake tenant with the password the demo prints, and drives
// `o365prov federate` against the tenant the demo federated.
func TestDemoFederatesAndSignsIn(t *testing.T) {
	if testing.Short() {
		t.Skip("heavy end to end: skipped with -short, run once by make e2e")
	}
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	var out lockedBuffer
	done := make(chan int, 1)
	port := strconv.Itoa(freePort(t))
	go func() {
		done <- run(ctx, []string{"demo", "--dir", dir, "--ldap", "127.0.0.1:0", "--tenant", "127.0.0.1:0", "--sso", "127.0.0.1:" + port, "--log-level", "warn"}, &out, io.Discard)
	}()
	t.Cleanup(func() { cancel(); <-done })
	var m []string
	for deadline := time.Now().Add(90 * time.Second); m == nil; {
		if time.Now().After(deadline) {
			t.Fatalf("the demo printed no sign-in URL:\n%s", out.String())
		}
		time.Sleep(200 * time.Millisecond)
		m = demoSignInRe.FindStringSubmatch(out.String())
	}
	start, user, password := m[1], m[2], m[3]
	newBrowser := func() browser { return newDemoBrowser(t, dir) }
	cfgPath := filepath.Join(dir, "o365prov.yaml")

	t.Run("a demo user signs in with the password the demo prints", func(t *testing.T) {
		if page := newBrowser().signIn(start, user, password); !strings.Contains(page, `<span id="upn">`+user+`</span>`) {
			t.Fatalf("not signed in:\n%s", page)
		}
	})
	t.Run("a wrong password is refused with a clear message", func(t *testing.T) {
		if page := newBrowser().signIn(start, user, "not-the-password"); !strings.Contains(page, "Your user name or password is incorrect.") {
			t.Fatalf("%s", page)
		}
	})
	t.Run("the audit log has each sign-in, who and from where, and never the password", func(t *testing.T) {
		code, stdout, stderr := runCLI(t, "audit", "--config", cfgPath, "--operation", "signIn")
		if code != 0 || !regexp.MustCompile(`signIn\s+ok\s+uid=\S+\s+`+regexp.QuoteMeta(user)+` from 127.0.0.1 by wsfed`).MatchString(stdout) ||
			!regexp.MustCompile(`signIn\s+failed\s+`+regexp.QuoteMeta(user)+` from 127.0.0.1 by wsfed: invalid user name or password`).MatchString(stdout) {
			t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
		}
		if strings.Contains(stdout, password) || strings.Contains(stdout, "not-the-password") {
			t.Fatal("a password is in the audit log")
		}
	})
	t.Run("a rich client's password grant goes through the WS-Trust endpoint federate configured", func(t *testing.T) {
		tenant := start[:strings.Index(start, "/login?")]
		grant := func(pw string) (int, string) {
			resp, err := newBrowser().c.PostForm(tenant+"/contoso.com/oauth2/v2.0/token", url.Values{"grant_type": {"password"},
				"client_id": {"0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"}, "scope": {"User.Read"}, "username": {user}, "password": {pw}})
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}
		if code, body := grant(password); code != http.StatusOK || !strings.Contains(body, `"access_token"`) {
			t.Fatalf("%d %s", code, body)
		}
		if code, body := grant("not-the-password"); code != http.StatusBadRequest || !strings.Contains(body, "AADSTS50126") {
			t.Fatalf("%d %s", code, body)
		}
		code, stdout, _ := runCLI(t, "audit", "--config", cfgPath, "--operation", "signIn")
		if code != 0 || !regexp.MustCompile(`signIn\s+ok\s+uid=\S+\s+`+regexp.QuoteMeta(user)+` from 127.0.0.1 by wstrust1.3`).MatchString(stdout) {
			t.Fatalf("the audit log lacks the WS-Trust sign-in:\n%s", stdout)
		}
	})
	t.Run("federate --show says the tenant matches", func(t *testing.T) {
		code, stdout, stderr := runCLI(t, "federate", "--config", cfgPath, "--domain", "contoso.com", "--show")
		if code != 0 || !strings.Contains(stdout, "The tenant matches this configuration.") {
			t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
		}
	})
	t.Run("federate --show reports a hand-made change, and federate repairs it", func(t *testing.T) {
		cfg, err := loadConfig(cfgPath)
		if err != nil {
			t.Fatal(err)
		}
		g, err := graph.New(cfg.Target, graph.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer g.Close()
		cur, err := g.GetFederation(context.Background(), "contoso.com")
		if err != nil || cur == nil {
			t.Fatalf("%v %v", cur, err)
		}
		if _, err := g.UpdateFederation(context.Background(), "contoso.com", cur.ID, graph.Properties{"passiveSignInUri": "https://adfs.contoso.com/adfs/ls"}); err != nil {
			t.Fatal(err)
		}
		code, stdout, _ := runCLI(t, "federate", "--config", cfgPath, "--domain", "contoso.com", "--show")
		if code != 0 || !regexp.MustCompile(`\*\s+passiveSignInUri\s+https://adfs.contoso.com/adfs/ls\s+http://127.0.0.1:`+port+`/idp/prp.wsf`).MatchString(stdout) || !strings.Contains(stdout, "1 setting(s) differ") {
			t.Fatalf("exit %d\n%s", code, stdout)
		}
		code, stdout, stderr := runCLI(t, "federate", "--config", cfgPath, "--domain", "contoso.com")
		if code != 0 || !strings.Contains(stdout, "updated passiveSignInUri") {
			t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
		}
		if page := newBrowser().signIn(start, user, password); !strings.Contains(page, `<span id="upn">`+user+`</span>`) {
			t.Fatalf("sign-in after federate failed:\n%s", page)
		}
	})
	t.Run("federate over SAML 2.0, then a sign-in uses exactly what it configured", func(t *testing.T) {
		code, stdout, stderr := runCLI(t, "federate", "--config", cfgPath, "--domain", "contoso.com", "--protocol", "saml")
		if code != 0 || !strings.Contains(stdout, "preferredAuthenticationProtocol") {
			t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
		}
		b := newBrowser()
		at, _ := b.do(http.MethodGet, start, nil)
		if !strings.Contains(at, "/idp/SSO.saml2?SAMLRequest=") {
			t.Fatalf("home-realm discovery went to %s", at)
		}
		if page := b.signIn(start, user, password); !strings.Contains(page, `<span id="upn">`+user+`</span>`) || !strings.Contains(page, `<p id="protocol">saml</p>`) {
			t.Fatalf("%s", page)
		}
	})
	t.Run("federate refuses when no identity provider answers at baseURL, and changes nothing", func(t *testing.T) {
		b, err := os.ReadFile(cfgPath)
		if err != nil {
			t.Fatal(err)
		}
		dead := strconv.Itoa(freePort(t))
		other := filepath.Join(dir, "dead-idp.yaml")
		doc := strings.ReplaceAll(string(b), "baseURL: http://127.0.0.1:"+port, "baseURL: http://127.0.0.1:"+dead)
		if err := os.WriteFile(other, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		code, _, stderr := runCLI(t, "federate", "--config", other, "--domain", "contoso.com")
		if code != 1 || !strings.Contains(stderr, "not federating contoso.com") || !strings.Contains(stderr, "--force") {
			t.Fatalf("exit %d %s", code, stderr)
		}
		code, stdout, _ := runCLI(t, "federate", "--config", cfgPath, "--domain", "contoso.com", "--protocol", "saml", "--show")
		if code != 0 || !strings.Contains(stdout, "The tenant matches") {
			t.Fatalf("the refused federate changed the tenant:\n%s", stdout)
		}
	})
	t.Run("federate refuses a domain not in sso.domains", func(t *testing.T) {
		code, _, stderr := runCLI(t, "federate", "--config", cfgPath, "--domain", "fabrikam.com")
		if code != 2 || !strings.Contains(stderr, "not in sso.domains") {
			t.Fatalf("exit %d %s", code, stderr)
		}
	})
	t.Run("federate --remove returns the domain to managed", func(t *testing.T) {
		code, stdout, _ := runCLI(t, "federate", "--config", cfgPath, "--domain", "contoso.com", "--remove", "--dry-run")
		if code != 0 || !strings.Contains(stdout, "would return contoso.com to managed") {
			t.Fatalf("exit %d\n%s", code, stdout)
		}
		code, stdout, _ = runCLI(t, "federate", "--config", cfgPath, "--domain", "contoso.com", "--remove")
		if code != 0 || !strings.Contains(stdout, "managed again") {
			t.Fatalf("exit %d\n%s", code, stdout)
		}
		code, stdout, _ = runCLI(t, "federate", "--config", cfgPath, "--domain", "contoso.com", "--show")
		if code != 0 || !strings.Contains(stdout, "managed (not federated)") {
			t.Fatalf("exit %d\n%s", code, stdout)
		}
	})
	t.Run("sso rollover prepares a next certificate, then promotes it", func(t *testing.T) {
		code, _, stderr := runCLI(t, "sso", "rollover", "--config", cfgPath)
		if code != 1 || !strings.Contains(stderr, "no next signing certificate") {
			t.Fatalf("promoting with nothing prepared: exit %d %s", code, stderr)
		}
		code, stdout, stderr := runCLI(t, "sso", "rollover", "--config", cfgPath, "--prepare")
		if code != 0 || !strings.Contains(stdout, "Next signing certificate: ") {
			t.Fatalf("exit %d %s%s", code, stdout, stderr)
		}
		code, stdout, _ = runCLI(t, "federate", "--config", cfgPath, "--domain", "contoso.com", "--show")
		if code != 0 || regexp.MustCompile(`nextSigningCertificate\s+-\s+-`).MatchString(stdout) {
			t.Fatalf("the next certificate is not offered:\n%s", stdout)
		}
		code, stdout, _ = runCLI(t, "sso", "rollover", "--config", cfgPath)
		if code != 0 || !strings.Contains(stdout, "Promoted") {
			t.Fatalf("exit %d %s", code, stdout)
		}
		// The running identity provider still signs with the old key until
		// it restarts: federating with the new one now would break sign-in.
		code, _, stderr = runCLI(t, "federate", "--config", cfgPath, "--domain", "contoso.com")
		if code != 1 || !strings.Contains(stderr, "does not publish the signing certificate") {
			t.Fatalf("exit %d %s", code, stderr)
		}
	})
}
