package faketenant

import (
	"fmt"
	"strings"
	"unicode"
)

// searchTerm is one "property:text" clause of $search.
type searchTerm struct {
	prop string
	text string
}

// parseSearchExpr reads `"displayName:foo" AND "mail:bar" OR "…"` into
// OR-of-ANDs.
func parseSearchExpr(s string, sch *schema) ([][]searchTerm, string) {
	var groups [][]searchTerm
	var cur []searchTerm
	rest := strings.TrimSpace(s)
	for rest != "" {
		if !strings.HasPrefix(rest, `"`) {
			return nil, fmt.Sprintf("Syntax error: character '%c' is not valid at position 0 in '%s'.", rest[0], s)
		}
		end := strings.Index(rest[1:], `"`)
		if end < 0 {
			return nil, fmt.Sprintf("Syntax error: unterminated string in '%s'.", s)
		}
		clause := rest[1 : end+1]
		rest = strings.TrimSpace(rest[end+2:])
		prop, text, ok := strings.Cut(clause, ":")
		if !ok {
			return nil, fmt.Sprintf("Invalid search clause '%s': use \"property:text\".", clause)
		}
		p, found := sch.lookup(prop)
		if !found || !searchable(p.name) {
			return nil, fmt.Sprintf("Invalid search property '%s'.", prop)
		}
		cur = append(cur, searchTerm{p.name, strings.ToLower(text)})
		switch {
		case strings.HasPrefix(rest, "OR "):
			groups, cur, rest = append(groups, cur), nil, strings.TrimSpace(rest[3:])
		case strings.HasPrefix(rest, "AND "):
			rest = strings.TrimSpace(rest[4:])
		case rest != "":
			return nil, fmt.Sprintf("Syntax error in '%s'.", s)
		}
	}
	if len(cur) > 0 {
		groups = append(groups, cur)
	}
	return groups, ""
}

func searchable(prop string) bool {
	switch prop {
	case "displayName", "description", "mail", "mailNickname", "userPrincipalName", "givenName", "surname":
		return true
	}
	return false
}

// matchSearch: a clause matches when a word of the value starts with the
// text, the tokenized prefix match the directory's search index does.
func matchSearch(groups [][]searchTerm, get func(string) any) bool {
	for _, and := range groups {
		all := true
		for _, term := range and {
			if !termMatches(term, get) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

func termMatches(term searchTerm, get func(string) any) bool {
	v, _ := get(term.prop).(string)
	v = strings.ToLower(v)
	if strings.HasPrefix(v, term.text) {
		return true
	}
	for _, w := range strings.FieldsFunc(v, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if strings.HasPrefix(w, term.text) {
			return true
		}
	}
	return false
}
