package engine

import (
	"slices"
	"strings"

	"github.com/go-ldap/ldap/v3"
)

// normDN makes DNs comparable, parsed as RFC 4514 says (go-ldap's parser):
// escapes resolved (CN=Smith\, John is one RDN, and \2C the same comma),
// spaces around separators dropped, the parts of a multi-valued RDN (cn=a+uid=b)
// sorted, and attribute types and values lower-cased — the naming attributes
// directories use (cn, uid, ou, dc, o, c) compare without regard to case,
// in any script. A string that does not parse is lower-cased and trimmed.
func normDN(dn string) string {
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

// sameDN reports whether two DNs name the same entry.
func sameDN(a, b string) bool { return normDN(a) == normDN(b) }
