package ldapserver

import (
	"math/big"
	"strings"
)

// ruleFunc compares a stored value of syntax syn with an assertion value.
type ruleFunc func(syn syntax, stored, assertion string) tri

// matchingRule returns the rule named by a name or OID. Besides the
// equality rules of RFC 4517 it knows Active Directory's bitwise rules,
// which account-status filters such as
// (!(userAccountControl:1.2.840.113556.1.4.803:=2)) use.
func matchingRule(rule string) (ruleFunc, bool) {
	switch strings.ToLower(rule) {
	case "":
		return equalityRule, true
	case "caseignorematch", "2.5.13.2", "caseignoreia5match", "1.3.6.1.4.1.1466.109.114.2":
		return func(_ syntax, a, b string) tri { return triOf(prepString(a) == prepString(b)) }, true
	case "caseexactmatch", "2.5.13.5", "caseexactia5match", "1.3.6.1.4.1.1466.109.114.1":
		return func(_ syntax, a, b string) tri { return triOf(squeeze(a) == squeeze(b)) }, true
	case "octetstringmatch", "2.5.13.17":
		return func(_ syntax, a, b string) tri { return triOf(a == b) }, true
	case "distinguishednamematch", "2.5.13.1":
		return typedRule(synDN), true
	case "integermatch", "2.5.13.14":
		return typedRule(synInteger), true
	case "generalizedtimematch", "2.5.13.27":
		return typedRule(synTime), true
	case "telephonenumbermatch", "2.5.13.20":
		return typedRule(synTelephone), true
	case "integerbitandmatch", "1.2.840.113556.1.4.803":
		return bitRule(func(v, mask *big.Int) bool { return new(big.Int).And(v, mask).Cmp(mask) == 0 }), true
	case "integerbitormatch", "1.2.840.113556.1.4.804":
		return bitRule(func(v, mask *big.Int) bool { return new(big.Int).And(v, mask).Sign() != 0 }), true
	}
	return nil, false
}

// equalityRule is the attribute's own equality rule.
func equalityRule(syn syntax, stored, assertion string) tri {
	return typedRule(syn)(syn, stored, assertion)
}

// typedRule compares under the equality rule of syntax as, whatever the
// attribute's own syntax; an assertion invalid in it is Undefined.
func typedRule(as syntax) ruleFunc {
	return func(_ syntax, stored, assertion string) tri {
		b, ok := normalize(as, assertion)
		if !ok {
			return isUndefined
		}
		a, ok := normalize(as, stored)
		if !ok {
			return isFalse
		}
		return triOf(a == b)
	}
}

func bitRule(test func(v, mask *big.Int) bool) ruleFunc {
	return func(_ syntax, stored, assertion string) tri {
		mask, ok := parseInteger(assertion)
		if !ok {
			return isUndefined
		}
		v, ok := parseInteger(stored)
		if !ok {
			return isFalse
		}
		return triOf(test(v, mask))
	}
}

func squeeze(s string) string { return strings.Join(strings.Fields(s), " ") }

// extensible evaluates an extensible match: against the named attribute or,
// without one, every attribute of the entry; with dnAttributes also against
// the attribute values of the entry's DN (RFC 4511 §4.5.1.7.7).
func (v view) extensible(f *filter, e *entry) tri {
	rule, ok := matchingRule(f.rule)
	if !ok {
		return isUndefined
	}
	out := isFalse
	consider := func(syn syntax, vals []string) bool {
		for _, val := range vals {
			switch rule(syn, val, f.value) {
			case isTrue:
				return true
			case isUndefined:
				out = isUndefined
			}
		}
		return false
	}
	if f.desc != "" {
		vals, _ := v.attr(e, f.typ)
		if consider(f.typ.syn, vals) {
			return isTrue
		}
	} else {
		found := false
		e.attrs.each(func(a *attribute) {
			if !found && a.typ.key != "userpassword" {
				found = consider(a.typ.syn, a.vals)
			}
		})
		if found {
			return isTrue
		}
	}
	if f.dnAttrs {
		for _, rdn := range e.dn.rdns {
			for _, a := range rdn {
				t := lookupAttr(a.typ)
				if (f.desc == "" || t.key == f.typ.key) && consider(t.syn, []string{a.value}) {
					return isTrue
				}
			}
		}
	}
	return out
}
