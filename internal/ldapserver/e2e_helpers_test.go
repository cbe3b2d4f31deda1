package ldapserver_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/o365prov/o365prov/internal/ldapserver"
	"github.com/o365prov/o365prov/internal/ldapserver/fakeorg"
)

const (
	base     = "dc=example,dc=com"
	adminDN  = "cn=admin,dc=example,dc=com"
	adminPW  = "admin-secret"
	peopleDN = "ou=people,dc=example,dc=com"
	aliceDN  = "uid=alice,ou=people,dc=example,dc=com"
	bobDN    = "uid=bob,ou=people,dc=example,dc=com"
	lockedDN = "uid=locked,ou=people,dc=example,dc=com"
	groupDN  = "cn=staff,ou=groups,dc=example,dc=com"
	alicePW  = "alice-pw"
)

const smallLDIF = `dn: dc=example,dc=com
objectClass: domain
dc: example

dn: ou=people,dc=example,dc=com
objectClass: organizationalUnit
ou: people

dn: ou=groups,dc=example,dc=com
objectClass: organizationalUnit
ou: groups

dn: uid=alice,ou=people,dc=example,dc=com
objectClass: inetOrgPerson
uid: alice
cn: Alice Smith
sn: Smith
mail: alice@example.com
title: Engineer
userPassword: {CLEARTEXT}alice-pw
jpegPhoto:: AAECA/79/P8=

dn: uid=bob,ou=people,dc=example,dc=com
objectClass: inetOrgPerson
uid: bob
cn: Bob Jones
sn: Jones
manager: uid=alice,ou=people,dc=example,dc=com
userPassword: bob-pw

dn: uid=locked,ou=people,dc=example,dc=com
objectClass: inetOrgPerson
uid: locked
cn: Locked Out
sn: Out
nsAccountLock: TRUE
userPassword: locked-pw

dn: cn=staff,ou=groups,dc=example,dc=com
objectClass: groupOfNames
cn: staff
member: uid=alice,ou=people,dc=example,dc=com
`

type env struct {
	srv   *ldapserver.Server
	addr  string
	clock *ldapserver.TestClock
}

// start runs a server over ldif on a free port; opts may set anything but
// the LDIF, admin and clock.
func start(t testing.TB, ldif string, opts ldapserver.Options) *env {
	t.Helper()
	c := ldapserver.NewTestClock(time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC))
	opts.LDIF = strings.NewReader(ldif)
	opts.AdminDN, opts.AdminPassword = adminDN, adminPW
	if opts.Clock == nil {
		opts.Clock = c.Now
	}
	srv, err := ldapserver.New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	addr, err := srv.Start(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return &env{srv: srv, addr: addr, clock: c}
}

func (e *env) dial(t testing.TB) *ldap.Conn {
	t.Helper()
	c, err := ldap.DialURL("ldap://" + e.addr)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// as dials and binds as dn.
func (e *env) as(t testing.TB, dn, password string) *ldap.Conn {
	t.Helper()
	c := e.dial(t)
	if err := c.Bind(dn, password); err != nil {
		t.Fatalf("bind as %s: %v", dn, err)
	}
	return c
}

func (e *env) admin(t testing.TB) *ldap.Conn { return e.as(t, adminDN, adminPW) }

func search(base string, scope int, filter string, attrs ...string) *ldap.SearchRequest {
	return ldap.NewSearchRequest(base, scope, ldap.NeverDerefAliases, 0, 0, false, filter, attrs, nil)
}

func mustSearch(t testing.TB, c *ldap.Conn, req *ldap.SearchRequest) []*ldap.Entry {
	t.Helper()
	res, err := c.Search(req)
	if err != nil {
		t.Fatalf("search %s %s: %v", req.BaseDN, req.Filter, err)
	}
	return res.Entries
}

func dns(entries []*ldap.Entry) []string {
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.DN
	}
	return out
}

// code returns the LDAP result code of err, or 0 for nil and 0xffff for
// an error that carries none.
func code(err error) uint16 {
	if err == nil {
		return 0
	}
	var le *ldap.Error
	if errors.As(err, &le) {
		return le.ResultCode
	}
	return 0xffff
}

// org generates a fakeorg organisation under dc=contoso,dc=com.
func org(t testing.TB, users, groups int) string {
	t.Helper()
	var b bytes.Buffer
	if err := fakeorg.Generate(context.Background(), &b, fakeorg.Options{Users: users, Groups: groups, Seed: 42, Domain: "contoso.com"}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// needTool returns the path of an OpenLDAP client tool, skipping the test
// when it is missing (failing under CI=true).
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not installed (scripts/test-deps installs ldap-utils)", name)
	}
	t.Skipf("%s is not installed; run scripts/test-deps", name)
	return ""
}
