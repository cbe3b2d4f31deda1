package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/o365prov/o365prov/internal/faketenant"
	"github.com/o365prov/o365prov/internal/ldapserver"
	"github.com/o365prov/o365prov/internal/ldapserver/fakeorg"
)

// world is what a command works against in these tests: the demo's
// embedded directory (holding a small generated company) and fake tenant,
// in process, on free ports, with the configuration the demo writes.
type world struct {
	dir       string
	cfg       string // the configuration file
	ldapURL   string
	tenantURL string
	tenant    *demoTenant
	ldap      *ldapserver.Server
	stopLDAP  func()
}

func newWorld(t *testing.T) *world {
	t.Helper()
	return newWorldWith(t, func(*faketenant.Config) {})
}

// newWorldWith is newWorld with the fake tenant's configuration changed.
func newWorldWith(t *testing.T, tenant func(*faketenant.Config)) *world {
	t.Helper()
	tcfg := demoTenantConfig()
	tenant(&tcfg)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	w := &world{dir: t.TempDir()}
	srv, ldapURL, err := startDemoDirectory(ctx, "127.0.0.1:0", smallCompany(t))
	if err != nil {
		t.Fatal(err)
	}
	w.ldap, w.ldapURL, w.stopLDAP = srv, ldapURL, func() { srv.Close() }
	t.Cleanup(w.stopLDAP)
	w.tenant, w.tenantURL, err = startDemoTenant(ctx, "127.0.0.1:0", w.dir, tcfg)
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

// deletePeople deletes n people from the directory.
func (w *world) deletePeople(t *testing.T, n int) {
	t.Helper()
	for _, e := range w.ldap.Entries() {
		if n == 0 {
			return
		}
		if strings.HasPrefix(e.DN, "uid=") && strings.Contains(e.DN, ",ou=people,") {
			if err := w.ldap.Delete(e.DN); err != nil {
				t.Fatal(err)
			}
			n--
		}
	}
	if n > 0 {
		t.Fatalf("%d people left to delete", n)
	}
}

// mustRun runs a command that must exit with code, and returns its stdout.
func mustRun(t *testing.T, code int, args ...string) string {
	t.Helper()
	got, out, errOut := runCLI(t, args...)
	if got != code {
		t.Fatalf("%v: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", args, got, code, out, errOut)
	}
	return out
}

// pasted runs a command line printed for an operator to paste.
func pasted(t *testing.T, code int, line string) string {
	t.Helper()
	f := strings.Fields(line)
	if len(f) == 0 || f[0] != "o365prov" {
		t.Fatalf("not an o365prov command: %q", line)
	}
	return mustRun(t, code, f[1:]...)
}

// lineAfter is the rest of the first line of s after prefix.
func lineAfter(t *testing.T, s, prefix string) string {
	t.Helper()
	_, rest, ok := strings.Cut(s, prefix)
	if !ok {
		t.Fatalf("no %q in:\n%s", prefix, s)
	}
	line, _, _ := strings.Cut(rest, "\n")
	return line
}

// worldPeople is how many people the test company has: few, so a first
// sync takes a second at Graph's pace.
const worldPeople = 24

// smallCompany is the demo company at worldPeople people and 3 groups.
func smallCompany(t *testing.T) []byte {
	t.Helper()
	o := fakeorg.Contoso()
	o.Users, o.Groups = worldPeople, 3
	var b bytes.Buffer
	if err := fakeorg.Generate(context.Background(), &b, o); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
