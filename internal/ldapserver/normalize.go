package ldapserver

import (
	"bytes"
	"math/big"
	"strings"
	"time"
	"unicode"

	ber "github.com/go-asn1-ber/asn1-ber"
)

// prepString is the case-ignore string preparation of RFC 4518 reduced to
// what matters here: case folded, leading and trailing spaces removed and
// inner runs of spaces collapsed to one.
func prepString(s string) string {
	if isPrepared(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range strings.TrimSpace(s) {
		if unicode.IsSpace(r) {
			space = true
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// isPrepared tells whether s is already prepared: ASCII, no upper case, no
// space at either end or twice in a row. Most stored values that are not
// names (mail, uid, codes) are, and then need no copy.
func isPrepared(s string) bool {
	if s == "" {
		return true
	}
	if s[0] == ' ' || s[len(s)-1] == ' ' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 || c >= 'A' && c <= 'Z' || c < ' ' || c == ' ' && s[i-1] == ' ' {
			return false
		}
	}
	return true
}

// prepPiece prepares a substring assertion piece: like prepString, but the
// spaces at its ends are significant for where it may match.
func prepPiece(s string) string {
	lead := len(s) > 0 && unicode.IsSpace(rune(s[0]))
	trail := len(s) > 0 && unicode.IsSpace(rune(s[len(s)-1]))
	p := prepString(s)
	if lead && p != "" {
		p = " " + p
	}
	if trail && p != "" {
		p += " "
	}
	return p
}

func prepTelephone(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || unicode.IsSpace(r) {
			return -1
		}
		return unicode.ToLower(r)
	}, s)
}

// normalize returns the form under which two values of syntax syn are equal,
// and whether value is valid in that syntax. An invalid value keeps a
// normalised string form so that it can still be stored and equal itself.
func normalize(syn syntax, value string) (string, bool) {
	switch syn {
	case synDN:
		n, err := normalizeDN(value)
		if err != nil {
			return prepString(value), false
		}
		return n, true
	case synInteger:
		i, ok := parseInteger(value)
		if !ok {
			return prepString(value), false
		}
		return i.String(), true
	case synTime:
		t, err := parseTime(value)
		if err != nil {
			return prepString(value), false
		}
		return t.Format("20060102150405.000000000Z"), true
	case synOctet:
		return value, true
	case synTelephone:
		return prepTelephone(value), true
	default:
		return prepString(value), true
	}
}

func parseInteger(s string) (*big.Int, bool) {
	s = strings.TrimSpace(s)
	return new(big.Int).SetString(s, 10)
}

func parseTime(s string) (time.Time, error) {
	t, err := ber.ParseGeneralizedTime([]byte(strings.TrimSpace(s)))
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}

// order compares a stored value with an assertion value for >= and <=. ok is
// false when the syntax has no ordering rule or a value is not valid in it,
// which makes the filter item Undefined (RFC 4511 §4.5.1.7).
func order(syn syntax, stored, assertion string) (cmp int, ok bool) {
	switch syn {
	case synString:
		return strings.Compare(prepString(stored), prepString(assertion)), true
	case synTelephone:
		return strings.Compare(prepTelephone(stored), prepTelephone(assertion)), true
	case synOctet:
		return bytes.Compare([]byte(stored), []byte(assertion)), true
	case synInteger:
		a, okA := parseInteger(stored)
		b, okB := parseInteger(assertion)
		if !okA || !okB {
			return 0, false
		}
		return a.Cmp(b), true
	case synTime:
		a, errA := parseTime(stored)
		b, errB := parseTime(assertion)
		if errA != nil || errB != nil {
			return 0, false
		}
		return a.Compare(b), true
	default:
		return 0, false
	}
}
