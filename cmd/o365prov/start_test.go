package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/o365prov/o365prov/internal/directory/slapdtest"
)

// A failure at start used to panic (nil *System closed by Open's own
// cleanup) and exit 2. Each must exit 3 with the channel, the cause and
// the fix on standard error, even at --log-level error.
func TestAFailureAtStartIsReportedWithItsFixAndExitsThree(t *testing.T) {
	w := newWorld(t)
	base := w.cfg
	hung := hungServer(t)
	cases := []struct {
		name      string
		old, new  string
		wantInErr []string
	}{
		{"an unreachable directory names the url and says nothing listens there", w.ldapURL, "ldap://127.0.0.1:1",
			[]string{"channel contoso: directory ldap://127.0.0.1:1", "connection refused", "to fix: nothing listens there"}},
		{"a directory that never answers gives up after source.timeout", "      type: openldap\n", "      type: openldap\n      timeout: 1s\n",
			nil}, // url replaced below
		{"a wrong bind password says to check the bind DN and password", "password: ${file:" + w.dir + "/ldap-password}", "password: wrong-password",
			[]string{"channel contoso: directory " + w.ldapURL, "Invalid Credentials", "check source.bindDN and source.password"}},
		{"a state file in a missing directory says what state.dsn needs", "dsn: " + w.dir + "/state.db", "dsn: " + w.dir + "/missing/state.db",
			[]string{"state (sqlite)", "state.dsn must name a file in a directory this user can write"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w.cfg = base
			restore := snapshot(t, w.cfg)
			defer restore()
			w.edit(t, tc.old, tc.new)
			want := tc.wantInErr
			if strings.Contains(tc.name, "never answers") {
				w.edit(t, w.ldapURL, "ldap://"+hung)
				want = []string{"channel contoso: directory ldap://" + hung, "no answer within 1s (source.timeout)"}
			}
			for _, cmd := range [][]string{{"plan"}, {"sync", "--once", "--channel", "contoso"}} {
				start := time.Now()
				code, _, errOut := runCLI(t, append(cmd, "--config", w.cfg, "--log-level", "error")...)
				if code != 3 {
					t.Fatalf("%s: exit %d, want 3:\n%s", cmd[0], code, errOut)
				}
				for _, s := range want {
					if !strings.Contains(errOut, s) {
						t.Errorf("%s: stderr lacks %q:\n%s", cmd[0], s, errOut)
					}
				}
				if strings.Contains(errOut, "panic") || strings.Contains(errOut, "wrong-password") {
					t.Errorf("%s: stderr:\n%s", cmd[0], errOut)
				}
				// Five connection attempts of 1 s each took 5 s and more.
				if took := time.Since(start); strings.Contains(tc.name, "never answers") && took > 3*time.Second {
					t.Errorf("%s gave up after %v; source.timeout is 1s", cmd[0], took)
				}
			}
		})
	}
}

// One slapd, as OpenLDAP is installed (TLS with its own CA), serves the
// directory cases: an untrusted certificate fails plan and check
// --connect with the fix; trusted and bound as its admin, check --connect
// passes; a wrong password is reported with its fix.
func TestPlanAndCheckConnectAgainstSlapd(t *testing.T) {
	slapdtest.Require(t)
	srv := slapdtest.Start(t, slapdtest.Options{TLS: true, Suffix: "dc=contoso,dc=com"})
	srv.AddUser(t, "ada", map[string][]string{"mail": {"ada@contoso.com"}})
	srv.AddGroup(t, "staff", srv.UserDN("ada"))
	w := newWorld(t)
	w.edit(t, w.ldapURL, srv.LDAPSURL)
	w.edit(t, "bindDN: cn=o365prov,ou=services,dc=contoso,dc=com", "bindDN: "+srv.AdminDN)
	w.edit(t, "password: ${file:"+w.dir+"/ldap-password}", "password: ${file:"+w.dir+"/slapd-password}")
	if err := os.WriteFile(filepath.Join(w.dir, "slapd-password"), []byte(srv.AdminPassword), 0o600); err != nil {
		t.Fatal(err)
	}

	t.Run("an untrusted certificate says to set source.caFile", func(t *testing.T) {
		code, _, errOut := runCLI(t, "plan", "--config", w.cfg, "--log-level", "error")
		if code != 3 || !strings.Contains(errOut, "channel contoso: directory "+srv.LDAPSURL) || !strings.Contains(errOut, "set source.caFile") {
			t.Fatalf("plan: exit %d:\n%s", code, errOut)
		}
		code, out, _ := runCLI(t, "check", "--connect", "--config", w.cfg, "--log-level", "error")
		if code != 3 || !strings.Contains(out, "FAILED  channel contoso: directory "+srv.LDAPSURL) || !strings.Contains(out, "to fix: the directory's certificate is signed by an authority this machine does not trust: set source.caFile") {
			t.Fatalf("check --connect: exit %d:\n%s", code, out)
		}
	})
	w.edit(t, "      type: openldap\n", "      type: openldap\n      caFile: "+srv.CAFile+"\n")
	t.Run("a trusted directory passes check --connect", func(t *testing.T) {
		out := mustRun(t, 0, "check", "--connect", "--config", w.cfg, "--log-level", "error")
		for _, want := range []string{"ok      channel contoso: directory " + srv.LDAPSURL + ": bound as " + srv.AdminDN, "user search: found " + srv.UserDN("ada"), "group search: found " + srv.GroupDN("staff"), "userPrincipalName domain: contoso.com (of ada@contoso.com) is verified"} {
			if !strings.Contains(out, want) {
				t.Errorf("lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("a wrong password says to check bindDN and password", func(t *testing.T) {
		if err := os.WriteFile(filepath.Join(w.dir, "slapd-password"), []byte("wrong"), 0o600); err != nil {
			t.Fatal(err)
		}
		code, out, _ := runCLI(t, "check", "--connect", "--config", w.cfg, "--log-level", "error")
		if code != 3 || !strings.Contains(out, "Invalid Credentials") || !strings.Contains(out, "check source.bindDN and source.password") {
			t.Fatalf("exit %d:\n%s", code, out)
		}
	})
}

func TestAChannelThatDoesNotExistIsRefusedListingTheChannels(t *testing.T) {
	w := newWorld(t)
	for _, cmd := range [][]string{{"plan", "--channel", "nope"}, {"sync", "--once", "--channel", "nope"}} {
		code, _, errOut := runCLI(t, append(cmd, "--config", w.cfg)...)
		if code != 2 || !strings.Contains(errOut, "no such channel nope in "+w.cfg+": the channels are contoso") {
			t.Errorf("%s: exit %d:\n%s", cmd[0], code, errOut)
		}
	}
}

// The check an engineer runs before stopping: the configuration init
// writes, pointed at a port nothing listens on.
func TestPlanOnTheInitConfigurationWithNoDirectoryDoesNotPanic(t *testing.T) {
	t.Setenv("O365PROV_CLIENT_SECRET", "cs-value")
	t.Setenv("O365PROV_LDAP_PASSWORD", "lp-value")
	dir := t.TempDir()
	path := filepath.Join(dir, "o365prov.yaml")
	initConfig(t, path)
	w := &world{cfg: path}
	w.edit(t, "ldap://ldap.contoso.com:389", "ldap://127.0.0.1:1")
	w.edit(t, "startTLS: true", "startTLS: false")
	w.edit(t, "dsn: 'o365prov.db'", "dsn: '"+filepath.Join(dir, "state.db")+"'")
	code, _, errOut := runCLI(t, "plan", "--config", path)
	if code != 3 || !strings.Contains(errOut, "channel staff: directory ldap://127.0.0.1:1") {
		t.Fatalf("exit %d:\n%s", code, errOut)
	}
}

// The daemon does not refuse to start when the directory is down: it logs
// why, keeps trying, and provisions once the directory answers.
func TestRunWaitsForADirectoryThatIsDownAtStart(t *testing.T) {
	w := newWorld(t)
	w.stopLDAP()
	addr := freeAddr(t)
	w.edit(t, w.ldapURL, "ldap://"+addr)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut lockedBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"run", "--config", w.cfg, "--log-level", "error"}, &out, &errOut) }()
	waitFor(t, 10*time.Second, func() bool { return strings.Contains(errOut.String(), "directory not usable at start") }, &errOut)
	if !strings.Contains(errOut.String(), "channel=contoso") || !strings.Contains(errOut.String(), "connection refused") {
		t.Fatalf("the log does not say which channel and why:\n%s", errOut.String())
	}
	srv, _, err := startDemoDirectory(ctx, addr, smallCompany(t))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	waitFor(t, 30*time.Second, func() bool { return len(w.tenant.Users()) >= worldPeople }, &errOut)
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d:\n%s", code, errOut.String())
	}
}

// hungServer accepts connections and never answers.
func hungServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() { l.Close() })
	return l.Addr().String()
}

func waitFor(t *testing.T, limit time.Duration, ok func() bool, log *lockedBuffer) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %v; log:\n%s", limit, log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Two processes starting at once on a state file that does not exist yet
// (a daemon and a sync --once, say) used to fail one of them 1 time in 16
// while both created the schema.
func TestTwoCommandsStartingOnANewStateFileBothWork(t *testing.T) {
	w := newWorld(t)
	for round := range 4 {
		w.edit(t, "dsn: "+w.dir+"/state", fmt.Sprintf("dsn: %s/state%d-", w.dir, round))
		codes := make(chan string, 2)
		for range 2 {
			go func() {
				code, _, errOut := runCLI(t, "plan", "--config", w.cfg, "--log-level", "error")
				codes <- fmt.Sprintf("%d %s", code, errOut)
			}()
		}
		for range 2 {
			if got := <-codes; got != "0 " {
				t.Fatalf("round %d: %s", round, got)
			}
		}
	}
}
