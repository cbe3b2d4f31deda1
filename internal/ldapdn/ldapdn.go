// Package ldapdn compares LDAP distinguished names as names, not as text:
// parsed as RFC 4514 says (with go-ldap's parser), so escaped commas and
// plus signs, hex escapes, multi-valued RDNs, spaces around separators and
// case do not make one entry look like two.
package ldapdn

import (
	"slices"
	"strings"

	"github.com/go-ldap/ldap/v3"
)

// Normalize returns a form of dn in which two spellings of the same name
// compare equal: escapes resolved, spaces around separators dropped, the
// parts of a multi-valued RDN (cn=a+uid=b) sorted, and attribute types and
// values lower-cased — the naming attributes directories use (cn, uid, ou,
// dc, o, c) compare without regard to case, in any script. A string that
// does not parse as a DN is lower-cased and trimmed.
func Normalize(dn string) string {
	p, err := ldap.ParseDN(dn)
	if err != nil {
		return strings.ToLower(strings.TrimSpace(dn))
	}
	var b strings.Builder
	for i, rdn := range p.RDNs {
		if i > 0 {
			b.WriteByte(0) // NUL cannot appear unescaped in a value, so no two DNs collide
		}
		parts := make([]string, len(rdn.Attributes))
		for j, a := range rdn.Attributes {
			parts[j] = strings.ToLower(a.Type) + "=" + strings.ToLower(a.Value)
		}
		slices.Sort(parts)
		b.WriteString(strings.Join(parts, "\x01"))
	}
	return b.String()
}

// Equal reports whether two DNs name the same entry.
func Equal(a, b string) bool { return Normalize(a) == Normalize(b) }

// Within reports whether dn is base or below it (every DN is within "").
func Within(dn, base string) bool {
	if base == "" {
		return true
	}
	n, b := Normalize(dn), Normalize(base)
	return n == b || strings.HasSuffix(n, "\x00"+b)
}
