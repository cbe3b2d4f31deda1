package ldapserver

import (
	"slices"
	"strings"

	"github.com/go-ldap/ldap/v3"
)

// ava is one attribute=value pair of an RDN; value is unescaped.
type ava struct {
	typ   string
	value string
}

// dn is a parsed distinguished name; rdns[0] is the entry's own RDN and the
// empty dn is the root.
type dn struct {
	rdns [][]ava
}

// parseDN parses an RFC 4514 string; spaces around separators and the case of
// attribute types are accepted as written.
func parseDN(s string) (dn, error) {
	if strings.TrimSpace(s) == "" {
		return dn{}, nil
	}
	if d, ok := parseSimpleDN(s); ok {
		return d, nil
	}
	parsed, err := ldap.ParseDN(s)
	if err != nil {
		return dn{}, errorf(InvalidDNSyntax, "invalid DN %q: %v", s, err)
	}
	d := dn{rdns: make([][]ava, 0, len(parsed.RDNs))}
	for _, r := range parsed.RDNs {
		avas := make([]ava, 0, len(r.Attributes))
		for _, a := range r.Attributes {
			if a.Type == "" {
				return dn{}, errorf(InvalidDNSyntax, "invalid DN %q: empty attribute type", s)
			}
			avas = append(avas, ava{typ: a.Type, value: a.Value})
		}
		if len(avas) == 0 {
			return dn{}, errorf(InvalidDNSyntax, "invalid DN %q: empty RDN", s)
		}
		d.rdns = append(d.rdns, avas)
	}
	return d, nil
}

func (d dn) isRoot() bool { return len(d.rdns) == 0 }

// parent returns the DN without its first RDN.
func (d dn) parent() dn {
	if d.isRoot() {
		return d
	}
	return dn{rdns: d.rdns[1:]}
}

// child returns the DN of rdn under d.
func (d dn) child(rdn []ava) dn {
	return dn{rdns: append([][]ava{rdn}, d.rdns...)}
}

// String is the DN as the server shows it: types and values as written, no
// spaces after separators, only the characters RFC 4514 requires escaped.
func (d dn) String() string {
	return d.format(func(a ava) (string, string) { return a.typ, a.value })
}

// norm is the DN's identity: types canonical and lower case, values prepared
// by their equality rule, multi-valued RDNs sorted.
func (d dn) norm() string {
	return d.format(func(a ava) (string, string) {
		t := lookupAttr(a.typ)
		v, _ := normalize(rdnSyntax(t.syn), a.value)
		return t.key, v
	})
}

// rdnSyntax keeps a DN-valued RDN from recursing: naming attributes that are
// themselves DNs are vanishingly rare and compare well enough as strings.
func rdnSyntax(s syntax) syntax {
	if s == synDN {
		return synString
	}
	return s
}

func (d dn) format(f func(ava) (string, string)) string {
	var b strings.Builder
	for i, rdn := range d.rdns {
		if i > 0 {
			b.WriteByte(',')
		}
		parts := make([]string, len(rdn))
		for j, a := range rdn {
			t, v := f(a)
			parts[j] = t + "=" + escapeDNValue(v)
		}
		if len(parts) > 1 {
			slices.Sort(parts)
		}
		b.WriteString(strings.Join(parts, "+"))
	}
	return b.String()
}

// escapeDNValue escapes what RFC 4514 §2.4 requires and nothing more, so that
// UTF-8 stays readable.
func escapeDNValue(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '"' || c == '+' || c == ',' || c == ';' || c == '<' || c == '>' || c == '\\' || c == '=':
			b.WriteByte('\\')
			b.WriteByte(c)
		case (c == ' ' || c == '#') && i == 0, c == ' ' && i == len(v)-1:
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == 0:
			b.WriteString(`\00`)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// normalizeDN returns the normalised form of s.
func normalizeDN(s string) (string, error) {
	d, err := parseDN(s)
	if err != nil {
		return "", err
	}
	return d.norm(), nil
}

// unescapedComma returns the index of the first ',' in a normalised DN that
// separates RDNs (not escaped by an odd run of backslashes), or -1.
func unescapedComma(ndn string) int {
	for i := 0; i < len(ndn); i++ {
		switch ndn[i] {
		case '\\':
			i++ // skip the escaped character
		case ',':
			return i
		}
	}
	return -1
}

// parentNDN cuts the first RDN off a normalised DN.
func parentNDN(ndn string) string {
	if i := unescapedComma(ndn); i >= 0 {
		return ndn[i+1:]
	}
	return ""
}

// hasSuffixNDN tells whether the normalised DN ndn is suffix or below it.
func hasSuffixNDN(ndn, suffix string) bool {
	for {
		if ndn == suffix {
			return true
		}
		if ndn == "" || len(ndn) < len(suffix) {
			return false
		}
		ndn = parentNDN(ndn)
	}
}
