package directory

import (
	"strings"

	"github.com/o365prov/o365prov/internal/ldapdn"
)

// normDN returns a form of a DN in which two spellings of the same name
// compare equal (package ldapdn).
func normDN(dn string) string { return ldapdn.Normalize(dn) }

// dnWithin reports whether dn is base or below it.
func dnWithin(dn, base string) bool { return ldapdn.Within(dn, base) }

// stripUID removes the optional unique identifier of a nameAndOptionalUID
// value (uniqueMember: "cn=x,dc=y#'0101'B").
func stripUID(v string) string {
	i := strings.LastIndex(v, "#'")
	if i < 0 || !strings.HasSuffix(v, "'B") {
		return v
	}
	bits := v[i+2 : len(v)-2]
	if strings.Trim(bits, "01") != "" {
		return v
	}
	return v[:i]
}
