package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/o365prov/o365prov/internal/faketenant"
)

// lockedBuffer lets the test read what the command writes from its goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestFakeTenantServesTLSAndStopsOnCancel(t *testing.T) {
	dir := t.TempDir()
	caPath := filepath.Join(dir, "ca.pem")
	statePath := filepath.Join(dir, "state.json")
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"fake-tenant", "--listen", "127.0.0.1:0", "--tls", "--ca-out", caPath, "--state", statePath, "--time-scale", "10"}, &out, &errOut)
	}()
	var base string
	re := regexp.MustCompile(`listening on (https://\S+)`)
	for i := 0; i < 100 && base == ""; i++ {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			base = m[1]
		}
		time.Sleep(50 * time.Millisecond)
	}
	if base == "" {
		cancel()
		t.Fatalf("no banner; stdout %q stderr %q", out.String(), errOut.String())
	}
	for _, want := range []string{"client_id=" + faketenant.DemoClientID, faketenant.DemoClientSecret, "CA to trust: " + caPath, "time scale 10x"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("banner lacks %q:\n%s", want, out.String())
		}
	}

	pem, err := os.ReadFile(caPath)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.PostForm(base+"/contoso.com/oauth2/v2.0/token", url.Values{
		"client_id": {faketenant.DemoClientID}, "client_secret": {faketenant.DemoClientSecret},
		"grant_type": {"client_credentials"}, "scope": {"https://graph.microsoft.com/.default"},
	})
	if err != nil {
		t.Fatalf("token over TLS trusting the written CA: %v", err)
	}
	var tok map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if resp.StatusCode != 200 || tok["access_token"] == nil {
		t.Fatalf("token %d %v", resp.StatusCode, tok)
	}

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("fake-tenant did not stop")
	}
	if _, err := os.Stat(statePath); err != nil {
		t.Fatalf("state not saved on shutdown: %v", err)
	}
}

func TestFakeTenantRefusesABadThrottleProfile(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"fake-tenant", "--throttle", "fast"}, &out, &errOut)
	if code == 0 || !strings.Contains(errOut.String(), "--throttle") {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
}
