package ldapserver

import "strings"

// parseSimpleDN parses the common DN with no escapes, quotes, multi-valued
// RDNs or hex values without going through go-ldap's general parser, which
// dominates the time to load a large LDIF. ok is false when the DN needs
// the general parser.
func parseSimpleDN(s string) (dn, bool) {
	if strings.ContainsAny(s, "\\\"+#;<>") {
		return dn{}, false
	}
	d := dn{rdns: make([][]ava, 0, strings.Count(s, ",")+1)}
	for part := range strings.SplitSeq(s, ",") {
		typ, value, ok := strings.Cut(part, "=")
		typ, value = strings.TrimSpace(typ), strings.TrimSpace(value)
		if !ok || typ == "" || strings.Contains(value, "=") || !isAttrName(typ) {
			return dn{}, false
		}
		d.rdns = append(d.rdns, []ava{{typ: typ, value: value}})
	}
	return d, true
}

func isAttrName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}
