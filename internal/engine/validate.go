package engine

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"
)

// Graph refuses, with a 400 and no clue which entry is at fault, values
// that break its documented property rules (docs/graph.md §1.1, §4.1). The
// engine checks every mapped value against them before planning: an object
// with a value Graph would refuse is reported invalid, naming the property
// and the rule, nothing of it is sent, and the other objects go on.

// propertyRule is one documented rule of a Graph property.
type propertyRule struct {
	maxLen   int    // in characters; 0: none
	forbid   string // characters not allowed
	ascii    bool   // printable ASCII only
	required bool
}

var userRules = map[string]propertyRule{
	"userPrincipalName":     {required: true},
	"displayName":           {maxLen: 256, required: true},
	"mailNickname":          {maxLen: 64, forbid: `@()\[]";:<>, `, ascii: true},
	"givenName":             {maxLen: 64},
	"surname":               {maxLen: 64},
	"jobTitle":              {maxLen: 128},
	"department":            {maxLen: 64},
	"companyName":           {maxLen: 64},
	"city":                  {maxLen: 128},
	"employeeId":            {maxLen: 16},
	"onPremisesImmutableId": {forbid: "$_"},
}

var groupRules = map[string]propertyRule{
	"displayName":  {maxLen: 256, required: true},
	"mailNickname": {maxLen: 64, forbid: `@()\[]";:.<>, `, ascii: true, required: true},
	"description":  {maxLen: 1024},
}

// upnAliasChars are the characters Entra allows before the @ of a
// userPrincipalName.
const upnAliasChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'.-_!#^~"

// invalidValue returns why a mapped value breaks rule, or "".
func invalidValue(prop string, v any, rule propertyRule) string {
	var vals []string
	switch x := v.(type) {
	case string:
		vals = []string{x}
	case []string:
		vals = x
	case nil:
	default:
		return ""
	}
	if rule.required && (len(vals) == 0 || vals[0] == "") {
		return fmt.Sprintf("%s is empty: Graph requires a value", prop)
	}
	for _, s := range vals {
		switch {
		case !utf8.ValidString(s):
			return fmt.Sprintf("%s holds bytes that are not UTF-8 (Graph would store U+FFFD in their place)", prop)
		case strings.ContainsRune(s, 0):
			return fmt.Sprintf("%s holds a NUL character", prop)
		case rule.maxLen > 0 && utf8.RuneCountInString(s) > rule.maxLen:
			return fmt.Sprintf("%s is %d characters long: Graph allows at most %d", prop, utf8.RuneCountInString(s), rule.maxLen)
		case rule.forbid != "" && strings.ContainsAny(s, rule.forbid):
			return fmt.Sprintf("%s %q holds a character Graph does not allow in it (none of %q, and no space)", prop, s, strings.TrimSpace(rule.forbid))
		case rule.ascii && !isPrintableASCII(s):
			return fmt.Sprintf("%s %q holds characters that are not printable ASCII, which Graph does not allow in it", prop, s)
		}
	}
	return ""
}

func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// invalidUPN checks the form of a userPrincipalName and its domain against
// the tenant's verified domains (nil when they could not be read: Graph
// then judges the domain).
func invalidUPN(upn string, verified map[string]bool) string {
	alias, domain, ok := strings.Cut(upn, "@")
	switch {
	case !ok || alias == "" || domain == "" || strings.Contains(domain, "@"):
		return fmt.Sprintf("userPrincipalName %q is not of the form alias@domain", upn)
	case utf8.RuneCountInString(alias) > 64:
		return fmt.Sprintf("userPrincipalName %q: the part before @ is longer than 64 characters", upn)
	case strings.ContainsFunc(alias, func(r rune) bool { return !strings.ContainsRune(upnAliasChars, r) }):
		return fmt.Sprintf("userPrincipalName %q: the part before @ may hold only letters, digits and ' . - _ ! # ^ ~", upn)
	case strings.HasPrefix(alias, ".") || strings.HasSuffix(alias, ".") || strings.Contains(alias, ".."):
		return fmt.Sprintf("userPrincipalName %q: the part before @ cannot start or end with a period or hold two in a row", upn)
	case verified != nil && !verified[strings.ToLower(domain)]:
		return fmt.Sprintf("userPrincipalName %q is in domain %s, which is not a verified domain of the tenant (verified: %s)", upn, domain, strings.Join(sortedDomains(verified), ", "))
	}
	return ""
}

func sortedDomains(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for d := range m {
		out = append(out, d)
	}
	sort.Strings(out)
	return out
}

// invalidFields checks mapped Graph properties against rules; the first
// broken rule is returned, properties in name order.
func invalidFields(fields map[string]any, rules map[string]propertyRule) string {
	for _, prop := range sortedKeys(fields) {
		if provisionerFields[prop] {
			continue
		}
		rule := rules[prop]
		if why := invalidValue(prop, fields[prop], rule); why != "" {
			return why
		}
	}
	for _, prop := range sortedKeys(rules) {
		rule := rules[prop]
		if _, mapped := fields[prop]; !mapped && rule.required {
			// Absent is the same as empty for a required property.
			return fmt.Sprintf("%s is not mapped or empty: Graph requires a value", prop)
		}
	}
	return ""
}

// domainSet reads the tenant's verified domains once per cycle.
type domainSet struct {
	target Target
	once   sync.Once
	set    map[string]bool // nil when they could not be read
}

func (d *domainSet) verified(ctx context.Context) map[string]bool {
	d.once.Do(func() {
		names, err := d.target.VerifiedDomains(ctx)
		if err != nil {
			return
		}
		d.set = map[string]bool{}
		for _, n := range names {
			d.set[strings.ToLower(n)] = true
		}
	})
	return d.set
}

// validUser reports a mapped user whose values Graph would refuse as an
// invalid object, and says whether it may be planned.
func (p *planner) validUser(ctx context.Context, su *sourceUser) bool {
	why := invalidFields(su.desired.Fields, userRules)
	if why == "" {
		why = invalidUPN(su.desired.String("userPrincipalName"), p.domains.verified(ctx))
	}
	if why == "" {
		return true
	}
	p.b.problem(KindUser, su.entry.GUID, su.entry.DN, "invalid: %s; nothing of it is sent to Entra", why)
	return false
}
