package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/o365prov/o365prov/internal/provision"
)

// checkSignInPage signs a demo user in through the fake tenant, fails one
// sign-in with a wrong password, then reads the console's Sign-in page in
// the browser (bctx) and /metrics, and checks them against the audit log's
// sign-ins, the signing key in the store and the tenant's federation,
// which the demo made to match. shot saves the page.
func checkSignInPage(t *testing.T, bctx context.Context, dir, consoleURL, demoOut string, shot chromedp.Action[chromedp.Void]) {
	m := demoSignInRe.FindStringSubmatch(demoOut)
	start, user, password := m[1], m[2], m[3]
	if page := newDemoBrowser(t, dir).signIn(start, user, password); !strings.Contains(page, `<span id="upn">`+user+`</span>`) {
		t.Fatalf("not signed in:\n%s", page)
	}
	if page := newDemoBrowser(t, dir).signIn(start, user, "not-the-password"); !strings.Contains(page, "Your user name or password is incorrect.") {
		t.Fatalf("a wrong password was not refused:\n%s", page)
	}

	var rows map[string]string
	var page, daysLeft string
	var differs int
	err := chromedp.Do(bctx,
		chromedp.Navigate(consoleURL+"sign-in"),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-signin]`)),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) (err error) {
			rows, err = chromedp.Evaluate[map[string]string](`Object.fromEntries([...document.querySelectorAll('tr[data-signin]')].reverse().map(r => [r.dataset.signin, r.innerText]))`)(ctx, tg)
			return err
		}),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) (err error) {
			page, err = chromedp.Text(chromedp.CSS(`main`))(ctx, tg)
			return err
		}),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) (err error) {
			daysLeft, err = chromedp.Text(chromedp.CSS(`[data-figure=days-left-current]`))(ctx, tg)
			return err
		}),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) (err error) {
			differs, err = chromedp.Evaluate[int](`document.querySelectorAll('table[data-domain="contoso.com"] tr[data-differs]').length`)(ctx, tg)
			return err
		}),
		shot,
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("the sign-in is listed with who, from where and the protocol", func(t *testing.T) {
		if ok := rows["ok"]; !strings.Contains(ok, user) || !strings.Contains(ok, "127.0.0.1") || !strings.Contains(ok, "wsfed") {
			t.Errorf("success row %q", ok)
		}
	})
	t.Run("the failure is listed with its reason", func(t *testing.T) {
		if f := rows["failed"]; !strings.Contains(f, user) || !strings.Contains(f, "invalid user name or password") {
			t.Errorf("failure row %q", f)
		}
	})
	t.Run("no password is on the page", func(t *testing.T) {
		if strings.Contains(page, password) || strings.Contains(page, "not-the-password") {
			t.Error("a password is on the Sign-in page")
		}
	})
	cfg, err := loadConfig(filepath.Join(dir, "o365prov.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := provision.OpenStore(context.Background(), cfg.State)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	keys, err := provision.SSOKeys(context.Background(), cfg, st)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("the signing certificate's days left match the key in the store", func(t *testing.T) {
		want := int(time.Until(keys.Current.Cert.NotAfter) / (24 * time.Hour))
		if got, err := strconv.Atoi(strings.TrimSpace(daysLeft)); err != nil || got < want-1 || got > want {
			t.Errorf("days left %q, the certificate expires %s (%d days)", daysLeft, keys.Current.Cert.NotAfter, want)
		}
	})
	t.Run("contoso.com is federated and matches, as the demo made it", func(t *testing.T) {
		if !strings.Contains(page, "contoso.com") || !strings.Contains(page, "federated") || differs != 0 {
			t.Errorf("%d differing settings on:\n%s", differs, page)
		}
	})
	t.Run("metrics count the sign-ins by result and show the certificate's time left", func(t *testing.T) {
		resp, err := http.Get(consoleURL + "metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body := string(b)
		for _, want := range []string{`o365prov_sso_signins_total{result="success"} 1`, `o365prov_sso_signins_total{result="bad_password"} 1`} {
			if !strings.Contains(body, want) {
				t.Errorf("/metrics lacks %q", want)
			}
		}
		left := regexp.MustCompile(`o365prov_sso_certificate_remaining_seconds\{use="current"\} (\S+)`).FindStringSubmatch(body)
		if left == nil {
			t.Fatal("/metrics has no certificate time left")
		}
		secs, _ := strconv.ParseFloat(left[1], 64)
		// Scraped a moment ago: a little more was left then.
		if d := secs - time.Until(keys.Current.Cert.NotAfter).Seconds(); d < -1 || d > 600 {
			t.Errorf("time left %s s, the certificate expires %s", left[1], fmt.Sprint(keys.Current.Cert.NotAfter))
		}
	})
}
