package ldapserver

import (
	"errors"
	"testing"

	"github.com/go-ldap/ldap/v3"
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

func TestTheFastDNParserAgreesWithTheGeneralOne(t *testing.T) {
	for _, s := range []string{
		"uid=alice,ou=people,dc=example,dc=com",
		" UID = Alice , OU=People,DC=example , DC=com ",
		"cn=Zoë Ünal,dc=x",
		"cn=a b  c,dc=x",
		"2.5.4.3=x,dc=y",
	} {
		fast, ok := parseSimpleDN(s)
		if !ok {
			t.Errorf("%q: the fast parser declined a simple DN", s)
			continue
		}
		parsed, err := ldap.ParseDN(s)
		if err != nil {
			t.Fatal(err)
		}
		general := dn{}
		for _, r := range parsed.RDNs {
			general.rdns = append(general.rdns, []ava{{typ: r.Attributes[0].Type, value: r.Attributes[0].Value}})
		}
		if fast.String() != general.String() || fast.norm() != general.norm() {
			t.Errorf("%q: fast %q / %q, general %q / %q", s, fast.String(), fast.norm(), general.String(), general.norm())
		}
	}
	for _, s := range []string{`cn=a\,b,dc=x`, "cn=a+sn=b,dc=x", "cn=#04016a,dc=x", "cn=a=b,dc=x", "cn,dc=x", "=a,dc=x", "cn=a,,dc=x"} {
		if _, ok := parseSimpleDN(s); ok {
			t.Errorf("%q: the fast parser accepted what it should leave to the general one", s)
		}
	}
}

func TestParentAndSuffixOfNormalisedDNsRespectEscapes(t *testing.T) {
	tests := []struct {
		ndn, parent string
		under       bool // under dc=x
	}{
		{"uid=a,ou=p,dc=x", "ou=p,dc=x", true},
		{`cn=a\,dc=x`, "", false},
		{`cn=a\\,dc=x`, "dc=x", true},
		{"dc=x", "", true},
		{"dc=y", "", false},
	}
	for _, tt := range tests {
		if got := parentNDN(tt.ndn); got != tt.parent {
			t.Errorf("parentNDN(%q) = %q, want %q", tt.ndn, got, tt.parent)
		}
		if got := hasSuffixNDN(tt.ndn, "dc=x"); got != tt.under {
			t.Errorf("hasSuffixNDN(%q, dc=x) = %v, want %v", tt.ndn, got, tt.under)
		}
	}
}
