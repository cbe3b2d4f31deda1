package ldapserver

import (
	"errors"
	"testing"
)

func TestDNNormalisation(t *testing.T) {
	tests := []struct {
		name string
		a, b string
	}{
		{"case of types and values is ignored", "UID=Alice,OU=People,DC=Example,DC=Com", "uid=alice,ou=people,dc=example,dc=com"},
		{"spaces after commas are ignored", "uid=alice, ou=people,  dc=example, dc=com", "uid=alice,ou=people,dc=example,dc=com"},
		{"type aliases resolve", "commonName=Bob,organizationalUnitName=x,domainComponent=com", "cn=bob,ou=x,dc=com"},
		{"multi-valued RDNs are order-insensitive", "cn=a+sn=b,dc=x", "sn=b+cn=a,dc=x"},
		{"escapes and hex escapes mean the same character", `cn=Sales\, EMEA,dc=x`, `cn=Sales\2C EMEA,dc=x`},
		{"redundant inner spaces in a value are ignored", "cn=Alice   Smith,dc=x", "cn=alice smith,dc=x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			na, err := normalizeDN(tt.a)
			if err != nil {
				t.Fatal(err)
			}
			nb, err := normalizeDN(tt.b)
			if err != nil {
				t.Fatal(err)
			}
			if na != nb {
				t.Errorf("%q normalises to %q and %q to %q: want equal", tt.a, na, tt.b, nb)
			}
		})
	}
}

func TestDNDisplayKeepsSpellingAndEscapesOnlyWhatIsNeeded(t *testing.T) {
	tests := []struct{ in, want string }{
		{"uid=Alice, ou=People, dc=example,dc=com", "uid=Alice,ou=People,dc=example,dc=com"},
		{`cn=Sales\2C EMEA,dc=x`, `cn=Sales\, EMEA,dc=x`},
		{`cn=Zoë,dc=x`, `cn=Zoë,dc=x`},
		{`cn=\ lead,dc=x`, `cn=\ lead,dc=x`},
		{`cn=\#hash,dc=x`, `cn=\#hash,dc=x`},
	}
	for _, tt := range tests {
		d, err := parseDN(tt.in)
		if err != nil {
			t.Fatalf("%s: %v", tt.in, err)
		}
		if got := d.String(); got != tt.want {
			t.Errorf("%s displays as %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestInvalidDNsAreInvalidDNSyntax(t *testing.T) {
	for _, in := range []string{"uid", "=x,dc=y", "cn=a,,dc=x", `cn=a\`} {
		if _, err := parseDN(in); !errors.Is(err, ErrInvalidDNSyntax) {
			t.Errorf("parseDN(%q) = %v, want invalidDNSyntax", in, err)
		}
	}
}
