package ldapserver_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/o365prov/o365prov/internal/ldapserver"
	"github.com/o365prov/o365prov/internal/ldapserver/fakeorg"
	"github.com/o365prov/o365prov/internal/ldapserver/ldif"
)

const serviceDN = "cn=o365prov,ou=services,dc=contoso,dc=com"

func contosoPath(t *testing.T) string {
	t.Helper()
	_, here, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(here), "..", "..", "examples", "contoso.ldif")
}

func TestTheContosoOrganisation(t *testing.T) {
	srv, err := ldapserver.New(ldapserver.Options{LDIFPath: contosoPath(t), AdminDN: "cn=admin,dc=contoso,dc=com", AdminPassword: adminPW})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	addr, err := srv.Start(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e := &env{srv: srv, addr: addr}
	c := e.as(t, serviceDN, fakeorg.ServicePassword)
	people := mustSearch(t, c, search("ou=people,dc=contoso,dc=com", ldap.ScopeSingleLevel, "(objectClass=inetOrgPerson)", "mail", "nsAccountLock", "memberOf"))

	t.Run("the service account reads 200 people", func(t *testing.T) {
		if len(people) != 200 {
			t.Errorf("%d people", len(people))
		}
	})
	t.Run("people bind with the documented password, except the disabled ones", func(t *testing.T) {
		var enabled, disabled int
		for _, p := range people {
			err := e.dial(t).Bind(p.DN, fakeorg.UserPassword)
			if p.GetAttributeValue("nsAccountLock") == "true" {
				disabled++
				if code(err) != ldap.LDAPResultUnwillingToPerform {
					t.Errorf("disabled %s: bind %v", p.DN, err)
				}
				continue
			}
			enabled++
			if err != nil {
				t.Errorf("%s: bind %v", p.DN, err)
			}
			if enabled >= 5 && disabled > 0 {
				break
			}
		}
		if disabled == 0 {
			t.Error("no disabled account was tried")
		}
	})
	t.Run("account status is a filter away", func(t *testing.T) {
		locked := mustSearch(t, c, search("dc=contoso,dc=com", ldap.ScopeWholeSubtree, "(&(objectClass=inetOrgPerson)(nsAccountLock=TRUE))", "1.1"))
		if len(locked) < 2 {
			t.Errorf("%d disabled accounts", len(locked))
		}
	})
	t.Run("department groups show in the people's memberOf", func(t *testing.T) {
		for _, p := range people {
			if len(p.GetAttributeValues("memberOf")) == 0 {
				t.Errorf("%s is in no group", p.DN)
				break
			}
		}
	})
	t.Run("the nested group is the memberOf of its inner groups", func(t *testing.T) {
		got := dns(mustSearch(t, c, search("ou=groups,dc=contoso,dc=com", ldap.ScopeSingleLevel,
			"(memberOf=cn=Product & Engineering,ou=groups,dc=contoso,dc=com)", "1.1")))
		want := []string{"cn=Engineering,ou=groups,dc=contoso,dc=com", "cn=Product,ou=groups,dc=contoso,dc=com"}
		if !slices.Equal(got, want) {
			t.Errorf("groups in the nested group: %v, want %v", got, want)
		}
	})
	t.Run("a group DN that needs escaping matches however it is escaped", func(t *testing.T) {
		a := mustSearch(t, c, search("dc=contoso,dc=com", ldap.ScopeWholeSubtree, `(memberOf=cn=Sales\5c, EMEA,ou=groups,dc=contoso,dc=com)`, "1.1"))
		b := mustSearch(t, c, search("dc=contoso,dc=com", ldap.ScopeWholeSubtree, `(memberOf=CN=Sales\5c2C EMEA, OU=Groups,DC=Contoso,DC=Com)`, "1.1"))
		if len(a) == 0 || len(a) != len(b) {
			t.Errorf("%d and %d members", len(a), len(b))
		}
	})
	t.Run("entryUUIDs are the ones in the file", func(t *testing.T) {
		f, err := os.Open(contosoPath(t))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		recs, err := ldif.ReadAll(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			got, err := srv.Get(r.DN)
			if err != nil {
				t.Fatal(err)
			}
			if got.Value("entryUUID") != r.Values("entryUUID")[0] {
				t.Fatalf("%s: entryUUID %s, file has %s", r.DN, got.Value("entryUUID"), r.Values("entryUUID")[0])
			}
		}
	})
}

func TestPersistenceKeepsIdentityAndOrder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dir.ldif")
	e := start(t, smallLDIF, ldapserver.Options{PersistPath: path})
	if err := e.srv.Modify(aliceDN, ldapserver.Replace("title", "Persisted")); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Delete(lockedDN); err != nil {
		t.Fatal(err)
	}
	before := e.srv.Entries()
	if err := e.srv.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := ldapserver.New(ldapserver.Options{LDIFPath: path})
	if err != nil {
		t.Fatalf("reload the persisted file: %v", err)
	}
	after := again.Entries()
	if len(after) != len(before) {
		t.Fatalf("%d entries after reload, %d before", len(after), len(before))
	}
	for i := range before {
		for _, attr := range []string{"entryUUID", "entryCSN", "modifyTimestamp", "title", "jpegPhoto"} {
			if before[i].DN != after[i].DN || before[i].Value(attr) != after[i].Value(attr) {
				t.Errorf("%s %s: %q before, %q after", before[i].DN, attr, before[i].Value(attr), after[i].Value(attr))
			}
		}
	}
	if slices.ContainsFunc(after, func(en ldapserver.Entry) bool { return en.DN == lockedDN }) {
		t.Error("a deleted entry came back")
	}
	if got := again.Entries()[len(after)-1].Values("member"); !slices.Equal(got, []string{aliceDN}) {
		t.Errorf("group members %v", got)
	}
	if strings.Contains(mustRead(t, path), "memberOf") {
		t.Error("the persisted file holds memberOf, which is computed")
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestLoadErrorsNameTheLine(t *testing.T) {
	tests := []struct {
		name, ldif, want string
	}{
		{"a syntax error", "dn: dc=example,dc=com\nobjectClass: domain\ndc example\n", "line 3"},
		{"an entry before its parent", "dn: dc=example,dc=com\nobjectClass: domain\ndc: example\n\ndn: uid=a,ou=missing,dc=example,dc=com\nobjectClass: person\nuid: a\n", "line 5"},
		{"an entry outside the base", "dn: dc=example,dc=com\nobjectClass: domain\ndc: example\n\ndn: dc=other\nobjectClass: domain\ndc: other\n", "line 5"},
		{"an entry without objectClass", "dn: dc=example,dc=com\ndc: example\n", "line 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name+" names its line", func(t *testing.T) {
			_, err := ldapserver.New(ldapserver.Options{LDIF: strings.NewReader(tt.ldif)})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}
