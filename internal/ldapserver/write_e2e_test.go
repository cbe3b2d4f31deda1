package ldapserver_test

import (
	"slices"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/o365prov/o365prov/internal/ldapserver"
)

func entryOf(t *testing.T, c *ldap.Conn, dn string, attrs ...string) *ldap.Entry {
	t.Helper()
	got := mustSearch(t, c, search(dn, ldap.ScopeBaseObject, "(objectClass=*)", attrs...))
	return got[0]
}

func TestWritesOverLDAP(t *testing.T) {
	e := start(t, smallLDIF, ldapserver.Options{})
	c := e.admin(t)
	carol := "uid=carol,ou=people,dc=example,dc=com"

	add := ldap.NewAddRequest(carol, nil)
	add.Attribute("objectClass", []string{"inetOrgPerson"})
	add.Attribute("uid", []string{"carol"})
	add.Attribute("cn", []string{"Carol"})
	add.Attribute("sn", []string{"Hill"})
	if err := c.Add(add); err != nil {
		t.Fatalf("add: %v", err)
	}
	created := entryOf(t, c, carol, "+")
	if created.GetAttributeValue("creatorsName") != adminDN || created.GetAttributeValue("entryUUID") == "" {
		t.Errorf("added entry's operational attributes: %v", created.Attributes)
	}

	mod := ldap.NewModifyRequest(carol, nil)
	mod.Add("mail", []string{"carol@example.com", "c.hill@example.com"})
	mod.Replace("cn", []string{"Carol Hill"})
	if err := c.Modify(mod); err != nil {
		t.Fatalf("modify: %v", err)
	}
	if got := entryOf(t, c, carol, "mail").GetAttributeValues("mail"); len(got) != 2 {
		t.Errorf("a multi-valued add gave mail %v", got)
	}

	if err := c.ModifyDN(ldap.NewModifyDNRequest(carol, "uid=caroline", true, "ou=groups,dc=example,dc=com")); err != nil {
		t.Fatalf("modrdn: %v", err)
	}
	moved := entryOf(t, c, "uid=caroline,ou=groups,dc=example,dc=com", "uid", "entryUUID")
	if moved.GetAttributeValue("entryUUID") != created.GetAttributeValue("entryUUID") || moved.GetAttributeValue("uid") != "caroline" {
		t.Errorf("moved entry %v", moved.Attributes)
	}

	if err := c.Del(ldap.NewDelRequest("uid=caroline,ou=groups,dc=example,dc=com", nil)); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := c.Search(search("uid=caroline,ou=groups,dc=example,dc=com", ldap.ScopeBaseObject, "(objectClass=*)")); code(err) != ldap.LDAPResultNoSuchObject {
		t.Errorf("search after delete: %v", err)
	}
}

func TestWriteErrorsCarryTheirResultCodes(t *testing.T) {
	e := start(t, smallLDIF, ldapserver.Options{})
	c := e.admin(t)
	mod := func(dn string, f func(*ldap.ModifyRequest)) error {
		m := ldap.NewModifyRequest(dn, nil)
		f(m)
		return c.Modify(m)
	}
	tests := []struct {
		name string
		op   func() error
		want uint16
	}{
		{"adding an existing entry", func() error {
			a := ldap.NewAddRequest(aliceDN, nil)
			a.Attribute("objectClass", []string{"person"})
			a.Attribute("uid", []string{"alice"})
			return c.Add(a)
		}, ldap.LDAPResultEntryAlreadyExists},
		{"modifying a missing entry", func() error {
			return mod("uid=ghost,ou=people,dc=example,dc=com", func(m *ldap.ModifyRequest) { m.Replace("cn", []string{"x"}) })
		}, ldap.LDAPResultNoSuchObject},
		{"writing entryCSN", func() error {
			return mod(aliceDN, func(m *ldap.ModifyRequest) { m.Replace("entryCSN", []string{"x"}) })
		}, ldap.LDAPResultConstraintViolation},
		{"deleting an entry with children", func() error { return c.Del(ldap.NewDelRequest(peopleDN, nil)) }, ldap.LDAPResultNotAllowedOnNonLeaf},
		{"removing the RDN value", func() error {
			return mod(aliceDN, func(m *ldap.ModifyRequest) { m.Delete("uid", []string{"alice"}) })
		}, ldap.LDAPResultNotAllowedOnRDN},
		{"renaming onto an existing entry", func() error {
			return c.ModifyDN(ldap.NewModifyDNRequest(aliceDN, "uid=bob", true, ""))
		}, ldap.LDAPResultEntryAlreadyExists},
		{"adding outside the naming context", func() error {
			a := ldap.NewAddRequest("dc=other,dc=org", nil)
			a.Attribute("objectClass", []string{"domain"})
			a.Attribute("dc", []string{"other"})
			return c.Add(a)
		}, ldap.LDAPResultUnwillingToPerform},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is refused", func(t *testing.T) {
			if got := code(tt.op()); got != tt.want {
				t.Errorf("result %d, want %d", got, tt.want)
			}
		})
	}
}

// TestChangeDetection plays what the directory client does on each poll:
// a watermark, changes, a search for what changed since.
func TestChangeDetection(t *testing.T) {
	e := start(t, smallLDIF, ldapserver.Options{})
	c := e.admin(t)
	changedSince := func(filter string) []string {
		return dns(mustSearch(t, c, search(base, ldap.ScopeWholeSubtree, filter, "1.1")))
	}

	t.Run("by modifyTimestamp", func(t *testing.T) {
		e.clock.Advance(time.Hour)
		mark := "20260401100000Z"
		m := ldap.NewModifyRequest(bobDN, nil)
		m.Replace("title", []string{"Lead"})
		if err := c.Modify(m); err != nil {
			t.Fatal(err)
		}
		if got := changedSince("(modifyTimestamp>=" + mark + ")"); !slices.Equal(got, []string{bobDN}) {
			t.Errorf("changed since %s: %v, want only bob", mark, got)
		}
	})

	t.Run("by entryCSN from the suffix's contextCSN", func(t *testing.T) {
		ctx := entryOf(t, c, base, "contextCSN").GetAttributeValue("contextCSN")
		if ctx == "" {
			t.Fatal("the suffix entry has no contextCSN")
		}
		e.clock.Advance(time.Nanosecond) // well inside one microsecond
		m := ldap.NewModifyRequest(aliceDN, nil)
		m.Replace("title", []string{"Architect"})
		if err := c.Modify(m); err != nil {
			t.Fatal(err)
		}
		got := changedSince("(&(entryCSN>=" + ctx + ")(!(entryCSN=" + ctx + ")))")
		if !slices.Equal(got, []string{aliceDN}) {
			t.Errorf("changed after %s: %v, want only alice", ctx, got)
		}
		if now := entryOf(t, c, base, "contextCSN").GetAttributeValue("contextCSN"); now <= ctx {
			t.Errorf("contextCSN did not advance: %s then %s", ctx, now)
		}
	})

	t.Run("a group membership change shows on the group and the member", func(t *testing.T) {
		ctx := entryOf(t, c, base, "contextCSN").GetAttributeValue("contextCSN")
		m := ldap.NewModifyRequest(groupDN, nil)
		m.Add("member", []string{bobDN})
		if err := c.Modify(m); err != nil {
			t.Fatal(err)
		}
		got := changedSince("(&(entryCSN>=" + ctx + ")(!(entryCSN=" + ctx + ")))")
		slices.Sort(got)
		if !slices.Equal(got, []string{groupDN, bobDN}) {
			t.Errorf("changed: %v, want the group and bob", got)
		}
		if mo := entryOf(t, c, bobDN, "memberOf").GetAttributeValues("memberOf"); !slices.Equal(mo, []string{groupDN}) {
			t.Errorf("bob memberOf %v", mo)
		}
	})

	t.Run("a delete is seen as a missing entryUUID", func(t *testing.T) {
		uuids := func() map[string]string {
			out := map[string]string{}
			for _, en := range mustSearch(t, c, search(peopleDN, ldap.ScopeSingleLevel, "(objectClass=*)", "entryUUID")) {
				out[en.GetAttributeValue("entryUUID")] = en.DN
			}
			return out
		}
		before := uuids()
		if err := c.Del(ldap.NewDelRequest(lockedDN, nil)); err != nil {
			t.Fatal(err)
		}
		after := uuids()
		var gone []string
		for id, dn := range before {
			if _, ok := after[id]; !ok {
				gone = append(gone, dn)
			}
		}
		if !slices.Equal(gone, []string{lockedDN}) || len(after) != len(before)-1 {
			t.Errorf("gone %v", gone)
		}
	})
}
