package mapping

import (
	"fmt"
	"regexp"
	"strings"
)

// template is a literal with ${attr} references. A template that is exactly
// one reference yields every value of the attribute; otherwise each
// reference stands for the attribute's first value.
type template struct {
	parts []part
}

type part struct {
	literal string
	attr    string // set for a reference
}

var attrName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]*(;[A-Za-z0-9-]+)*$`)

// compileTemplate parses s; "$${" writes a literal "${".
func compileTemplate(s string) (evaluator, []string, error) {
	var t template
	var refs []string
	var lit strings.Builder
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "$${"):
			lit.WriteString("${")
			i += 3
		case strings.HasPrefix(s[i:], "${"):
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return nil, nil, fmt.Errorf("template %q: ${ at column %d is not closed (write ${attribute})", s, i+1)
			}
			name := strings.TrimSpace(s[i+2 : i+end])
			if !attrName.MatchString(name) {
				return nil, nil, fmt.Errorf("template %q: %q at column %d is not an attribute name (a letter, then letters, digits or '-')", s, name, i+3)
			}
			if lit.Len() > 0 {
				t.parts = append(t.parts, part{literal: lit.String()})
				lit.Reset()
			}
			t.parts = append(t.parts, part{attr: name})
			refs = append(refs, name)
			i += end + 1
		default:
			lit.WriteByte(s[i])
			i++
		}
	}
	if lit.Len() > 0 {
		t.parts = append(t.parts, part{literal: lit.String()})
	}
	return t, refs, nil
}

func (t template) eval(e Entry, _ Options) (any, error) {
	if len(t.parts) == 1 && t.parts[0].attr != "" {
		return e.values(t.parts[0].attr), nil
	}
	var b strings.Builder
	found := false
	hasRefs := false
	for _, p := range t.parts {
		if p.attr == "" {
			b.WriteString(p.literal)
			continue
		}
		hasRefs = true
		if v := e.values(p.attr); len(v) > 0 {
			b.WriteString(v[0])
			found = true
		}
	}
	// "${givenName} ${sn}" of an entry with neither is empty, not " ".
	if hasRefs && !found {
		return nil, nil
	}
	return strings.TrimSpace(b.String()), nil
}
