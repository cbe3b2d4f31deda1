package directory

import (
	"slices"
	"strings"

	"github.com/go-ldap/ldap/v3"
)

// normDN returns a form of a DN in which two spellings of the same name
// compare equal: attribute types and values lower-cased (the naming
// attributes directories use, cn, uid, ou, dc, o, c, are case-insensitive),
// escapes resolved, spaces around separators dropped, the parts of a
// multi-valued RDN sorted. A string that does not parse as a DN is
// lower-cased and trimmed.
func normDN(dn string) string {
	p, err := ldap.ParseDN(dn)
	if err != nil {
		return strings.ToLower(strings.TrimSpace(dn))
	}
	var b strings.Builder
	for i, rdn := range p.RDNs {
		if i > 0 {
			b.WriteByte(0) // no value can hold NUL unescaped, so no two DNs collide
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

// dnWithin reports whether dn is base or below it.
func dnWithin(dn, base string) bool {
	if base == "" {
		return true
	}
	n, b := normDN(dn), normDN(base)
	return n == b || strings.HasSuffix(n, "\x00"+b)
}

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
