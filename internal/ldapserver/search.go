package ldapserver

import (
	"slices"
)

// Search scopes (RFC 4511 §4.5.1.2; subordinate is RFC draft "children",
// which OpenLDAP implements).
const (
	scopeBase        = 0
	scopeOne         = 1
	scopeSub         = 2
	scopeSubordinate = 3
)

// selection is the attribute list of a search request.
type selection struct {
	user      bool // "*" or an empty list: every user attribute
	oper      bool // "+": every operational attribute
	names     map[string]bool
	typesOnly bool
	// virtual lists the computed attributes selected, resolved once.
	virtual []attrType
}

func newSelection(attrs []string, typesOnly bool) selection {
	sel := selection{names: make(map[string]bool, len(attrs)), typesOnly: typesOnly}
	if len(attrs) == 0 {
		sel.user = true
	}
	for _, a := range attrs {
		switch a {
		case "*":
			sel.user = true
		case "+":
			sel.oper = true
		case "1.1":
			// "no attributes"; ignored when combined with others (RFC 4511 §4.5.1.8)
		default:
			sel.names[lookupAttr(a).key] = true
		}
	}
	for _, name := range virtualAttrs() {
		if t := lookupAttr(name); sel.wants(t) {
			sel.virtual = append(sel.virtual, t)
		}
	}
	return sel
}

func (sel selection) wants(t attrType) bool {
	if t.operational {
		return sel.oper || sel.names[t.key]
	}
	return sel.user || sel.names[t.key]
}

// render encodes e, as v sees it, as a complete LDAPMessage with message
// ID id holding a SearchResultEntry.
func (v view) render(e *entry, sel selection, id int64) []byte {
	attrs := make([]partial, 0, len(e.attrs.order)+4)
	e.attrs.each(func(a *attribute) {
		if a.typ.key == "userpassword" && !v.admin {
			return
		}
		if sel.wants(a.typ) {
			attrs = append(attrs, partial{a.name, a.vals})
		}
	})
	for _, t := range sel.virtual {
		vals, _ := v.attr(e, t)
		attrs = append(attrs, partial{t.name, vals})
	}
	return entryMessage(id, e.display, attrs, sel.typesOnly)
}

// cursor walks the candidates of one search. The candidates are fixed when
// the search starts, which gives paged searches a stable order; each one is
// checked again when its turn comes, so that entries deleted or moved away
// between pages are skipped and modified ones are sent as they are now.
type cursor struct {
	base  *entry
	scope int
	cands []*entry
	pos   int
	sent  int
}

// open resolves the base and lists the candidates; the caller holds the
// read lock.
func (s *store) open(base dn, scope int) (*cursor, error) {
	b, err := s.lookup(base)
	if err != nil {
		return nil, err
	}
	c := &cursor{base: b, scope: scope}
	switch scope {
	case scopeBase:
		c.cands = []*entry{b}
	case scopeOne:
		c.cands = slices.Clone(b.children)
	case scopeSub, scopeSubordinate:
		walk(b, func(e *entry) bool {
			if e != b || scope == scopeSub {
				c.cands = append(c.cands, e)
			}
			return true
		})
	default:
		return nil, errorf(ProtocolError, "scope %d: want base (0), one (1), sub (2) or subordinate (3)", scope)
	}
	return c, nil
}

func (c *cursor) done() bool { return c.pos >= len(c.cands) }

// inScope tells whether e still belongs to the search.
func (c *cursor) inScope(e *entry) bool {
	if e.removed || c.base.removed {
		return false
	}
	switch c.scope {
	case scopeBase:
		return true
	case scopeOne:
		return e.parent == c.base
	default:
		return e.isDescendantOf(c.base)
	}
}

// next renders up to max matching entries (max <= 0: no limit) as
// messages with ID id, and advances the cursor; the caller holds the read
// lock.
func (v view) next(c *cursor, f *filter, sel selection, max int, id int64) [][]byte {
	var out [][]byte
	for !c.done() && (max <= 0 || len(out) < max) {
		e := c.cands[c.pos]
		c.pos++
		if !c.inScope(e) || v.match(f, e) != isTrue {
			continue
		}
		out = append(out, v.render(e, sel, id))
	}
	c.sent += len(out)
	return out
}

// hasMore tells whether another candidate matches, without consuming it,
// to decide between success and sizeLimitExceeded.
func (v view) hasMore(c *cursor, f *filter) bool {
	for i := c.pos; i < len(c.cands); i++ {
		if e := c.cands[i]; c.inScope(e) && v.match(f, e) == isTrue {
			return true
		}
	}
	return false
}
