package fakeorg

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// needBinary returns the path of an OpenLDAP program; it skips the test
// when the program is missing, except under CI=true where that fails.
func needBinary(t *testing.T, name string) string {
	t.Helper()
	for _, p := range []string{"/usr/sbin/" + name, "/usr/local/sbin/" + name} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not installed (scripts/test-deps installs it)", name)
	}
	t.Skipf("%s is not installed; run scripts/test-deps", name)
	return ""
}

const slapdConfig = `dn: cn=config
objectClass: olcGlobal
cn: config

dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file:///etc/ldap/schema/core.ldif
include: file:///etc/ldap/schema/cosine.ldif
include: file:///etc/ldap/schema/inetorgperson.ldif
include: file://%s

dn: olcDatabase={1}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {1}mdb
olcDbDirectory: %s
olcSuffix: dc=contoso,dc=com
olcAccess: {0}to attrs=userPassword by anonymous auth by * none
olcAccess: {1}to * by users read
`

// TestSlapdLoadsContosoAndAcceptsItsPasswords is the independent check of
// the shipped files: a real OpenLDAP loads examples/contoso.ldif with the
// shipped schema, schema checks on, and accepts the documented passwords.
func TestSlapdLoadsContosoAndAcceptsItsPasswords(t *testing.T) {
	slapd, slapadd := needBinary(t, "slapd"), needBinary(t, "slapadd")
	dir := t.TempDir()
	cfgDir, dbDir := filepath.Join(dir, "config"), filepath.Join(dir, "db")
	for _, d := range []string{cfgDir, dbDir} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	schema, err := filepath.Abs(repoFile(t, "examples/o365prov-schema.ldif"))
	if err != nil {
		t.Fatal(err)
	}
	cfgFile := filepath.Join(dir, "config.ldif")
	if err := os.WriteFile(cfgFile, fmt.Appendf(nil, slapdConfig, schema, dbDir), 0o600); err != nil {
		t.Fatal(err)
	}
	run(t, slapadd, "-n0", "-F", cfgDir, "-l", cfgFile)
	run(t, slapadd, "-n1", "-F", cfgDir, "-l", repoFile(t, "examples/contoso.ldif"))

	addr := freeAddr(t)
	var logs bytes.Buffer
	cmd := exec.Command(slapd, "-F", cfgDir, "-h", "ldap://"+addr+"/", "-d", "0")
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	conn := dialWhenUp(t, addr, &logs)
	defer conn.Close()

	for _, b := range []struct{ dn, password string }{
		{"cn=o365prov,ou=services,dc=contoso,dc=com", ServicePassword},
		{"uid=david.murphy,ou=people,dc=contoso,dc=com", UserPassword},
	} {
		if err := conn.Bind(b.dn, b.password); err != nil {
			t.Fatalf("slapd refused the documented password of %s: %v", b.dn, err)
		}
	}
	res, err := conn.Search(ldap.NewSearchRequest("ou=people,dc=contoso,dc=com", ldap.ScopeSingleLevel,
		ldap.NeverDerefAliases, 0, 0, false, "(objectClass=o365provPerson)", []string{"o365Sku"}, nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Entries) != 200 {
		t.Errorf("slapd holds %d people, want 200", len(res.Entries))
	}
}

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", filepath.Base(name), args, err, out)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

func dialWhenUp(t *testing.T, addr string, logs *bytes.Buffer) *ldap.Conn {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, err := ldap.DialURL("ldap://" + addr)
		if err == nil {
			return conn
		}
		if time.Now().After(deadline) {
			t.Fatalf("slapd did not come up on %s: %v\n%s", addr, err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
