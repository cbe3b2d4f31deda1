package main

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// world is what a command works against in these tests: the demo's
// embedded directory (examples/contoso.ldif) and fake tenant, in process,
// on free ports, with the configuration the demo writes.
type world struct {
	dir       string
	cfg       string // the configuration file
	ldapURL   string
	tenantURL string
	tenant    *demoTenant
	stopLDAP  func()
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	w := &world{dir: t.TempDir()}
	srv, ldapURL, err := startDemoDirectory(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	w.ldapURL, w.stopLDAP = ldapURL, func() { srv.Close() }
	t.Cleanup(w.stopLDAP)
	w.tenant, w.tenantURL, err = startDemoTenant(ctx, "127.0.0.1:0", w.dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.tenant.Close() })
	if w.cfg, err = writeDemoConfig(w.dir, w.ldapURL, w.tenantURL, time.Second); err != nil {
		t.Fatal(err)
	}
	return w
}

// edit rewrites the world's configuration, replacing old by new (which must
// be there), and returns the file's path.
func (w *world) edit(t *testing.T, old, new string) string {
	t.Helper()
	b, err := os.ReadFile(w.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("test broken: %q is not in the configuration", old)
	}
	if err := os.WriteFile(w.cfg, []byte(strings.Replace(string(b), old, new, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	return w.cfg
}

// freeAddr is a loopback address nothing listens on (for now).
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// writeFile writes a file under dir and returns its path.
func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// snapshot returns a function that puts a file back as it is now.
func snapshot(t *testing.T, path string) func() {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return func() {
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Error(err)
		}
	}
}
