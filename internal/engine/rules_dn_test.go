package engine

import "testing"

func TestDNsAreComparedAsDNsNotAsText(t *testing.T) {
	tests := []struct {
		name string
		dn   string // the manager's and member's entry DN
		ref  string // how the manager and member attributes name it
	}{
		{name: "an escaped comma is part of the name", dn: `CN=Smith\, John,OU=People,DC=example,DC=com`, ref: `CN=Smith\, John,OU=People,DC=example,DC=com`},
		{name: "a comma escaped in hex is the same comma", dn: `CN=Smith\, John,OU=People,DC=example,DC=com`, ref: `cn=Smith\2C John,ou=People,dc=example,dc=com`},
		{name: "an escaped plus sign is part of the name", dn: `CN=R\+D Lead,OU=People,DC=example,DC=com`, ref: `CN=R\+D Lead,OU=People,DC=example,DC=com`},
		{name: "a multi-valued RDN matches in any order", dn: `CN=Lee+UID=lee1,OU=People,DC=example,DC=com`, ref: `uid=lee1+cn=Lee,ou=People,dc=example,dc=com`},
		{name: "UTF-8 names match whatever their case", dn: `CN=Émilie Ångström,OU=Personnel,DC=example,DC=com`, ref: `cn=émilie ångström,ou=personnel,dc=example,dc=com`},
		{name: "case and spaces around separators do not matter", dn: `CN=Ada Boss,OU=People,DC=example,DC=com`, ref: `cn=ada boss , ou=people,  dc=example,dc=com`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, "")
			r.src.userAt(tt.dn, "boss")
			r.src.user("ann", true, "manager", tt.ref)
			r.src.groupOf("Team", tt.ref, annDN)
			res := r.sync(Full)
			if len(res.Plan.Problems) > 0 {
				t.Errorf("problems: %+v", res.Plan.Problems)
			}
			if got := r.tgt.counts(); got.Managers != 1 || got.Memberships != 2 {
				t.Errorf("the tenant holds %+v, want ann's manager and both members", got)
			}
		})
	}
}
