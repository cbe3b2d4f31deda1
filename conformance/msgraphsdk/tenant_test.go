package msgraphsdk

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeTenant is a running `o365prov fake-tenant --tls`, as read from the
// banner it prints.
type fakeTenant struct {
	base, tenantID, clientID, secret string
	roots                            *x509.CertPool
}

var (
	bannerListen = regexp.MustCompile(`^fake tenant (\S+) \(\S+\) listening on (https://\S+)$`)
	bannerApp    = regexp.MustCompile(`^\s+app:\s+.* client_id=(\S+)$`)
	bannerSecret = regexp.MustCompile(`^\s+secret:\s+(\S+)$`)
	bannerCA     = regexp.MustCompile(`^\s+CA to trust: (\S+)$`)
)

// o365provBinary is $O365PROV_BIN, or a binary built from this repository.
func o365provBinary(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("O365PROV_BIN"); bin != "" {
		return bin
	}
	bin := filepath.Join(t.TempDir(), "o365prov")
	build := exec.Command("go", "build", "-o", bin, "./cmd/o365prov")
	build.Dir = filepath.Join("..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build o365prov: %v\n%s", err, out)
	}
	return bin
}

// startFakeTenant runs the fake tenant with throttling off on a free port
// and stops it when the test ends.
func startFakeTenant(t *testing.T) *fakeTenant {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, o365provBinary(t), "fake-tenant", "--tls", "--listen", "127.0.0.1:0",
		"--ca-out", filepath.Join(dir, "ca.pem"), "--throttle", "off")
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start fake tenant: %v", err)
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			_ = cmd.Wait()
		})
	}
	t.Cleanup(stop)
	ft, err := readBanner(stdout)
	if err != nil {
		stop()
		t.Fatalf("fake tenant banner: %v\nstderr: %s", err, stderr.String())
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	return ft
}

func readBanner(r io.Reader) (*fakeTenant, error) {
	ft := &fakeTenant{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if m := bannerListen.FindStringSubmatch(line); m != nil {
			ft.tenantID, ft.base = m[1], m[2]
		}
		if m := bannerApp.FindStringSubmatch(line); m != nil && ft.clientID == "" {
			ft.clientID = m[1]
		}
		if m := bannerSecret.FindStringSubmatch(line); m != nil {
			ft.secret = m[1]
		}
		if m := bannerCA.FindStringSubmatch(line); m != nil {
			pem, err := os.ReadFile(m[1])
			if err != nil {
				return nil, fmt.Errorf("read CA: %w", err)
			}
			ft.roots = x509.NewCertPool()
			if !ft.roots.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("CA file %s holds no certificate", m[1])
			}
			if ft.base == "" || ft.clientID == "" || ft.secret == "" {
				return nil, fmt.Errorf("banner lacks the URL, client id or secret")
			}
			return ft, nil
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("fake tenant exited before printing its CA line")
}

// wireLog records what reaches the network below the SDK's middleware, so
// the test can prove the requests it made were really compressed.
type wireLog struct {
	next http.RoundTripper

	mu        sync.Mutex
	gzipped   int
	statusSet map[int]int
}

func newWireLog(roots *x509.CertPool) *wireLog {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	return &wireLog{next: tr, statusSet: map[int]int{}}
}

func (w *wireLog) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := w.next.RoundTrip(req)
	w.mu.Lock()
	defer w.mu.Unlock()
	if strings.EqualFold(req.Header.Get("Content-Encoding"), "gzip") {
		w.gzipped++
	}
	if resp != nil {
		w.statusSet[resp.StatusCode]++
	}
	return resp, err
}

func (w *wireLog) counts() (gzipped int, unsupported int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.gzipped, w.statusSet[http.StatusUnsupportedMediaType]
}
