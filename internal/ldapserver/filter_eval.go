package ldapserver

import (
	"slices"
	"strings"
)

// tri is the three-valued result of RFC 4511 §4.5.1.7: an item whose
// attribute has no suitable matching rule, or whose assertion is not valid
// in the attribute's syntax, is Undefined, and "not Undefined" stays
// Undefined. Only TRUE returns an entry.
type tri uint8

const (
	isFalse tri = iota
	isTrue
	isUndefined
)

func triOf(b bool) tri {
	if b {
		return isTrue
	}
	return isFalse
}

// view is the directory as one reader sees it: virtual attributes computed,
// userPassword visible only to the administrator.
type view struct {
	s     *store
	admin bool
}

// attr returns the values of t on e with their normalised forms.
func (v view) attr(e *entry, t attrType) (vals, norms []string) {
	switch t.key {
	case "memberof":
		for _, g := range v.s.linkedFrom("member", e.ndn) {
			vals, norms = append(vals, g.display), append(norms, g.ndn)
		}
		return vals, norms
	case "hassubordinates":
		if len(e.children) > 0 {
			return []string{"TRUE"}, []string{"true"}
		}
		return []string{"FALSE"}, []string{"false"}
	case "entrydn":
		return []string{e.display}, []string{e.ndn}
	case "subschemasubentry":
		return nil, nil
	case "contextcsn":
		// OpenLDAP's syncprov keeps the greatest CSN on the suffix entry,
		// which lets a client take an exact entryCSN watermark.
		if e.parent != nil || e.ndn == "" || v.s.csn.last.IsZero() {
			return nil, nil
		}
		csn := formatCSN(v.s.csn.last, v.s.csn.count, v.s.csn.sid)
		return []string{csn}, []string{prepString(csn)}
	case "userpassword":
		if !v.admin {
			return nil, nil
		}
	}
	a := e.attrs.get(t.key)
	if a == nil {
		return nil, nil
	}
	return a.vals, a.norm
}

// match evaluates f against e.
func (v view) match(f *filter, e *entry) tri {
	switch f.kind {
	case fAnd:
		out := isTrue
		for _, c := range f.children {
			switch v.match(c, e) {
			case isFalse:
				return isFalse
			case isUndefined:
				out = isUndefined
			}
		}
		return out
	case fOr:
		out := isFalse
		for _, c := range f.children {
			switch v.match(c, e) {
			case isTrue:
				return isTrue
			case isUndefined:
				out = isUndefined
			}
		}
		return out
	case fNot:
		switch r := v.match(f.children[0], e); r {
		case isUndefined:
			return r
		default:
			return triOf(r == isFalse)
		}
	case fPresent:
		vals, _ := v.attr(e, f.typ)
		return triOf(len(vals) > 0)
	case fEquality, fApprox:
		return v.equal(f, e)
	case fSubstrings:
		return v.substrings(f, e)
	case fGreaterEq, fLessEq:
		return v.ordering(f, e)
	case fExtensible:
		return v.extensible(f, e)
	}
	return isUndefined
}

func (v view) equal(f *filter, e *entry) tri {
	if f.typ.key == "memberof" && f.valid {
		// The link index holds exactly memberOf's normalised values; reading
		// it directly saves building the attribute for every candidate.
		return triOf(slices.Contains(v.s.links["member"][e.ndn], f.norm))
	}
	_, norms := v.attr(e, f.typ)
	if len(norms) == 0 {
		return isFalse
	}
	if !f.valid {
		return isUndefined
	}
	for _, n := range norms {
		if n == f.norm {
			return isTrue
		}
	}
	return isFalse
}

func (v view) substrings(f *filter, e *entry) tri {
	_, norms := v.attr(e, f.typ)
	if len(norms) == 0 {
		return isFalse
	}
	switch f.typ.syn {
	case synDN, synInteger, synTime:
		return isUndefined // these syntaxes define no substrings rule
	}
	for _, n := range norms {
		if matchSubstrings(n, f.initial, f.any, f.final) {
			return isTrue
		}
	}
	return isFalse
}

// matchSubstrings matches initial, then each any in order, then final, none
// overlapping.
func matchSubstrings(v, initial string, any []string, final string) bool {
	if !strings.HasPrefix(v, initial) {
		return false
	}
	v = v[len(initial):]
	for _, a := range any {
		i := strings.Index(v, a)
		if i < 0 {
			return false
		}
		v = v[i+len(a):]
	}
	return strings.HasSuffix(v, final)
}

func (v view) ordering(f *filter, e *entry) tri {
	vals, _ := v.attr(e, f.typ)
	if len(vals) == 0 {
		return isFalse
	}
	if !f.valid || f.typ.syn == synDN {
		return isUndefined
	}
	out := isUndefined
	for _, val := range vals {
		cmp, ok := order(f.typ.syn, val, f.value)
		if !ok {
			continue
		}
		if f.kind == fGreaterEq && cmp >= 0 || f.kind == fLessEq && cmp <= 0 {
			return isTrue
		}
		out = isFalse
	}
	return out
}
