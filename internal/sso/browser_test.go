package sso

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium starts one headless Chromium for a test, or skips the test when
// it is not installed (and fails under CI=true, where it must be).
func chromium(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium is not installed (scripts/test-deps installs it)")
		}
		t.Skip("chromium is not installed; browser tests need Debian's chromium")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.WindowSize(1100, 820))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	return actx
}

// tab is a fresh browser profile: no cookies.
func tab(t *testing.T, actx context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	ctx, cancel2 := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(cancel2)
	return ctx
}

func typeAndSubmit(user, password string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.WaitVisible(chromedp.ID("password")),
		chromedp.SetValue(chromedp.ID("username"), user),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.ID("submit")),
	)
}

// text waits for the element with id and returns its text.
func text(t *testing.T, ctx context.Context, id string) string {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID(id))); err != nil {
		t.Fatalf("waiting for #%s: %v", id, err)
	}
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID(id)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100) /* 100: PNG */)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("testdata", "screenshots", name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("heavy end to end: skipped with -short, run once by make e2e")
	}
	actx := chromium(t)
	if err := os.MkdirAll(filepath.Join("testdata", "screenshots"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, proto := range []string{"wsFed", "saml"} {
		t.Run("over "+proto, func(t *testing.T) {
			h := newHarness(t, harnessConfig{protocol: proto})
			start := h.tsrv.URL + "/login?username=alice@fed.contoso.com"
			ctx := tab(t, actx)
			t.Run("Alice signs in from Microsoft 365's page and arrives back signed in", func(t *testing.T) {
				if err := chromedp.Do(ctx, chromedp.Navigate(start), chromedp.WaitVisible(chromedp.ID("password"))); err != nil {
					t.Fatal(err)
				}
				if proto == "wsFed" {
					screenshot(t, ctx, "login.png")
				}
				if err := chromedp.Do(ctx, typeAndSubmit("alice@fed.contoso.com", alicePassword)); err != nil {
					t.Fatal(err)
				}
				if upn := text(t, ctx, "upn"); upn != "alice@fed.contoso.com" {
					t.Fatalf("signed in as %q", upn)
				}
			})
			t.Run("a second sign-in asks no password", func(t *testing.T) {
				if err := chromedp.Do(ctx, chromedp.Navigate(start)); err != nil {
					t.Fatal(err)
				}
				if again := text(t, ctx, "upn"); again != "alice@fed.contoso.com" {
					t.Fatalf("signed in as %q", again)
				}
			})
			t.Run("sign-out ends the session", func(t *testing.T) {
				signout := h.isrv.URL + "/idp/prp.wsf?wa=wsignout1.0"
				if proto == "saml" {
					signout = h.isrv.URL + "/idp/SLO.saml2"
				}
				if err := chromedp.Do(ctx, chromedp.Navigate(signout)); err != nil {
					t.Fatal(err)
				}
				note := text(t, ctx, "note")
				if err := chromedp.Do(ctx, chromedp.Navigate(start), chromedp.WaitVisible(chromedp.ID("password"))); err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(note, "signed out") {
					t.Fatalf("note %q", note)
				}
			})
			// The login and error pages are the same for both protocols: once
			// is enough, and keeps the browser tests quick.
			for _, c := range []struct{ name, user, password, want, shot string }{
				{"a wrong password", "alice@fed.contoso.com", "wrong-one", "Your user name or password is incorrect.", ""},
				{"a disabled account", "bob@fed.contoso.com", "Bobs-Password-1", "Your account is disabled.", ""},
				{"an unknown user", "nobody@fed.contoso.com", "Whatever-1", "Your user name or password is incorrect.", ""},
				{"a user not provisioned", "carol@fed.contoso.com", "Carols-Password-1", "Your account is not set up for Microsoft 365.", "error.png"},
			} {
				if proto != "wsFed" {
					break
				}
				t.Run(c.name+" shows a clear message and no token", func(t *testing.T) {
					ctx := tab(t, actx)
					if err := chromedp.Do(ctx, chromedp.Navigate(start), typeAndSubmit(c.user, c.password)); err != nil {
						t.Fatal(err)
					}
					msg := text(t, ctx, "error")
					url, err := chromedp.Run(ctx, chromedp.Location())
					if err != nil {
						t.Fatal(err)
					}
					if !strings.Contains(msg, c.want) || !strings.HasPrefix(url, h.isrv.URL) {
						t.Fatalf("message %q at %s", msg, url)
					}
					if c.shot != "" && proto == "wsFed" {
						screenshot(t, ctx, c.shot)
					}
					if c.name == "a wrong password" && proto == "wsFed" {
						screenshot(t, ctx, "wrong-password.png")
					}
				})
			}
			if proto == "saml" {
				t.Run("IdP-initiated sign-in arrives at Microsoft 365 signed in", func(t *testing.T) {
					ctx := tab(t, actx)
					if err := chromedp.Do(ctx, chromedp.Navigate(h.isrv.URL+"/idp/startSSO.ping?PartnerSpId=urn:federation:MicrosoftOnline"),
						typeAndSubmit("alice@fed.contoso.com", alicePassword)); err != nil {
						t.Fatal(err)
					}
					if upn := text(t, ctx, "upn"); upn != "alice@fed.contoso.com" {
						t.Fatalf("signed in as %q", upn)
					}
				})
			}
		})
	}
}
