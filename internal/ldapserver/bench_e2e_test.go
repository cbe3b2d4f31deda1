package ldapserver_test

import (
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/o365prov/o365prov/internal/ldapserver"
)

// BenchmarkPagedSearchOverTheWire10k reads 10,000 generated people in pages
// of 500 through go-ldap, as the directory client's full read does.
func BenchmarkPagedSearchOverTheWire10k(b *testing.B) {
	e := start(b, org(b, 10_000, 20), ldapserver.Options{})
	c := e.admin(b)
	for b.Loop() {
		res, err := c.SearchWithPaging(search(contosoPeople, ldap.ScopeSingleLevel, "(objectClass=inetOrgPerson)",
			"uid", "mail", "cn", "manager", "o365Sku", "c", "entryUUID", "modifyTimestamp"), 500)
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Entries) != 10_000 {
			b.Fatalf("%d entries", len(res.Entries))
		}
	}
}

// BenchmarkBaseSearchOverTheWire is the round trip of one small read.
func BenchmarkBaseSearchOverTheWire(b *testing.B) {
	e := start(b, smallLDIF, ldapserver.Options{})
	c := e.admin(b)
	req := search(aliceDN, ldap.ScopeBaseObject, "(objectClass=*)", "cn", "mail")
	for b.Loop() {
		if _, err := c.Search(req); err != nil {
			b.Fatal(err)
		}
	}
}
