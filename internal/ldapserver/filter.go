package ldapserver

import (
	"fmt"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
)

// filterKind is the CHOICE tag of an RFC 4511 Filter.
type filterKind ber.Tag

const (
	fAnd             filterKind = 0
	fOr              filterKind = 1
	fNot             filterKind = 2
	fEquality        filterKind = 3
	fSubstrings      filterKind = 4
	fGreaterEq       filterKind = 5
	fLessEq          filterKind = 6
	fPresent         filterKind = 7
	fApprox          filterKind = 8
	fExtensible      filterKind = 9
	maxFilterNesting            = 64
)

// filter is a compiled search filter; assertion values are normalised once
// at compile time rather than per entry.
type filter struct {
	kind     filterKind
	children []*filter
	// attribute items
	desc  string
	typ   attrType
	value string // assertion value as sent
	norm  string // normalised by the attribute's equality rule
	valid bool   // whether value is valid in the attribute's syntax
	// substrings, prepared like the stored values they are matched against
	initial, final string
	any            []string
	// extensible match
	rule    string
	dnAttrs bool
}

// compileFilter turns a BER Filter into a filter.
func compileFilter(p *ber.Packet) (*filter, error) {
	return compileAt(p, 0)
}

// compileFilterString compiles an RFC 4515 string; tests and the Go API use
// it, the wire carries filters already encoded.
func compileFilterString(s string) (*filter, error) {
	p, err := ldap.CompileFilter(s)
	if err != nil {
		return nil, errorf(ProtocolError, "filter %q: %v", s, err)
	}
	return compileFilter(p)
}

func compileAt(p *ber.Packet, depth int) (*filter, error) {
	if depth > maxFilterNesting {
		return nil, errorf(ProtocolError, "filter nested deeper than %d levels", maxFilterNesting)
	}
	if p.ClassType != ber.ClassContext {
		return nil, errorf(ProtocolError, "filter element has class %d: want a context-specific choice", p.ClassType)
	}
	f := &filter{kind: filterKind(p.Tag)}
	switch f.kind {
	case fAnd, fOr, fNot:
		for _, c := range p.Children {
			cf, err := compileAt(c, depth+1)
			if err != nil {
				return nil, err
			}
			f.children = append(f.children, cf)
		}
		if f.kind == fNot && len(f.children) != 1 {
			return nil, errorf(ProtocolError, "not filter with %d elements: want exactly one", len(f.children))
		}
	case fEquality, fGreaterEq, fLessEq, fApprox:
		if len(p.Children) != 2 {
			return nil, errorf(ProtocolError, "attribute value assertion with %d elements: want attribute and value", len(p.Children))
		}
		f.setAttr(p.Children[0].Data.String())
		f.value = p.Children[1].Data.String()
		f.norm, f.valid = normalize(f.typ.syn, f.value)
	case fPresent:
		f.setAttr(p.Data.String())
	case fSubstrings:
		if err := f.compileSubstrings(p); err != nil {
			return nil, err
		}
	case fExtensible:
		if err := f.compileExtensible(p); err != nil {
			return nil, err
		}
	default:
		return nil, errorf(ProtocolError, "filter choice %d: want and, or, not, equality, substrings, >=, <=, present, approx or extensible", p.Tag)
	}
	return f, nil
}

func (f *filter) setAttr(desc string) {
	f.desc = desc
	f.typ = lookupAttr(desc)
}

func (f *filter) compileSubstrings(p *ber.Packet) error {
	if len(p.Children) != 2 {
		return errorf(ProtocolError, "substrings filter with %d elements: want attribute and substrings", len(p.Children))
	}
	f.setAttr(p.Children[0].Data.String())
	prep := func(s string) string {
		switch f.typ.syn {
		case synTelephone:
			return prepTelephone(s)
		case synOctet:
			return s
		default:
			return prepPiece(s)
		}
	}
	for i, c := range p.Children[1].Children {
		v := prep(c.Data.String())
		switch c.Tag {
		case 0:
			if i != 0 {
				return errorf(ProtocolError, "substrings filter on %s: initial must come first", f.desc)
			}
			f.initial = v
		case 1:
			f.any = append(f.any, v)
		case 2:
			if i != len(p.Children[1].Children)-1 {
				return errorf(ProtocolError, "substrings filter on %s: final must come last", f.desc)
			}
			f.final = v
		default:
			return errorf(ProtocolError, "substrings filter on %s: element tag %d, want initial (0), any (1) or final (2)", f.desc, c.Tag)
		}
	}
	return nil
}

func (f *filter) compileExtensible(p *ber.Packet) error {
	for _, c := range p.Children {
		switch c.Tag {
		case 1:
			f.rule = c.Data.String()
		case 2:
			f.setAttr(c.Data.String())
		case 3:
			f.value = c.Data.String()
		case 4:
			f.dnAttrs = len(c.Data.Bytes()) > 0 && c.Data.Bytes()[0] != 0
		default:
			return errorf(ProtocolError, "extensible match element tag %d: want matchingRule (1), type (2), matchValue (3) or dnAttributes (4)", c.Tag)
		}
	}
	if f.rule == "" && f.desc == "" {
		return errorf(ProtocolError, "extensible match needs a matching rule, an attribute or both")
	}
	if f.desc != "" {
		f.norm, f.valid = normalize(f.typ.syn, f.value)
	}
	return nil
}

// String renders the filter back in RFC 4515 form, for logs.
func (f *filter) String() string {
	switch f.kind {
	case fAnd, fOr, fNot:
		op := map[filterKind]string{fAnd: "&", fOr: "|", fNot: "!"}[f.kind]
		s := "(" + op
		for _, c := range f.children {
			s += c.String()
		}
		return s + ")"
	case fPresent:
		return "(" + f.desc + "=*)"
	case fSubstrings:
		s := "(" + f.desc + "=" + f.shown(f.initial) + "*"
		for _, a := range f.any {
			s += f.shown(a) + "*"
		}
		return s + f.shown(f.final) + ")"
	case fExtensible:
		return fmt.Sprintf("(%s:%s:=%s)", f.desc, f.rule, f.shown(f.value))
	default:
		op := map[filterKind]string{fEquality: "=", fGreaterEq: ">=", fLessEq: "<=", fApprox: "~="}[f.kind]
		return "(" + f.desc + op + f.shown(f.value) + ")"
	}
}

// shown escapes a value for a log line; password assertions are redacted.
func (f *filter) shown(v string) string {
	if f.typ.key == "userpassword" {
		return "(redacted)"
	}
	return ldap.EscapeFilter(v)
}
