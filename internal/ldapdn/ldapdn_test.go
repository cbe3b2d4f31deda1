package ldapdn

import "testing"

func TestEqual(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		want bool
	}{
		{"an escaped comma and its hex escape are the same comma", `CN=Smith\, John,OU=People,DC=x`, `cn=smith\2c john,ou=people,dc=x`, true},
		{"an escaped comma is not a separator", `CN=Smith\, John,OU=People,DC=x`, `CN=Smith,CN=John,OU=People,DC=x`, false},
		{"an escaped plus sign is not a multi-valued RDN", `CN=R\+D,DC=x`, `CN=R+UID=D,DC=x`, false},
		{"a multi-valued RDN matches in any order", `CN=Lee+UID=lee1,DC=x`, `uid=lee1+cn=Lee,dc=x`, true},
		{"UTF-8 values match without regard to case", `CN=Émilie,DC=x`, `cn=ÉMILIE,dc=x`, true},
		{"spaces around separators do not matter", `CN=Ada , OU=People,DC=x`, `cn=Ada,ou=People,dc=x`, true},
		{"different names differ", `CN=Ada,DC=x`, `CN=Bob,DC=x`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Equal(tt.a, tt.b); got != tt.want {
				t.Errorf("Equal(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
			}
		})
	}
}

func TestWithin(t *testing.T) {
	tests := []struct {
		name     string
		dn, base string
		want     bool
	}{
		{"an entry below the base is within it", `CN=Smith\, John,OU=People,DC=x`, `ou=people,dc=x`, true},
		{"the base is within itself", `OU=People,DC=x`, `ou=people,dc=x`, true},
		{"a sibling whose name ends like the base is not within it", `OU=OtherPeople,DC=x`, `ou=people,dc=x`, false},
		{"everything is within the empty base", `DC=x`, ``, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Within(tt.dn, tt.base); got != tt.want {
				t.Errorf("Within(%q, %q) = %v, want %v", tt.dn, tt.base, got, tt.want)
			}
		})
	}
}
