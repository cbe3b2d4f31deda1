package ldapserver

import (
	"slices"
)

// attribute holds the values of one attribute of an entry, with their
// equality-normalised forms computed once when written, so that filters do
// not prepare the same stored value on every search.
type attribute struct {
	name string // as first written, returned to clients
	typ  attrType
	vals []string
	norm []string
}

func (a *attribute) clone() *attribute {
	c := *a
	c.vals = slices.Clone(a.vals)
	c.norm = slices.Clone(a.norm)
	return &c
}

func (a *attribute) index(norm string) int { return slices.Index(a.norm, norm) }

// add appends value unless an equal value is present; it reports whether the
// value was added.
func (a *attribute) add(value string) bool {
	n, _ := normalize(a.typ.syn, value)
	if a.index(n) >= 0 {
		return false
	}
	a.vals = append(a.vals, value)
	a.norm = append(a.norm, n)
	return true
}

// remove deletes the value equal to value; it reports whether one was there.
func (a *attribute) remove(value string) bool {
	n, _ := normalize(a.typ.syn, value)
	i := a.index(n)
	if i < 0 {
		return false
	}
	a.vals = slices.Delete(a.vals, i, i+1)
	a.norm = slices.Delete(a.norm, i, i+1)
	return true
}

// attrSet is an entry's stored attributes in the order they were first
// written, so that entries read back the way they were loaded.
type attrSet struct {
	byKey map[string]*attribute
	order []string
}

func newAttrSet(n int) attrSet {
	return attrSet{byKey: make(map[string]*attribute, n), order: make([]string, 0, n)}
}

func (s attrSet) get(key string) *attribute { return s.byKey[key] }

// values returns the stored values of key, or nil.
func (s attrSet) values(key string) []string {
	if a := s.byKey[key]; a != nil {
		return a.vals
	}
	return nil
}

func (s attrSet) first(key string) string {
	if v := s.values(key); len(v) > 0 {
		return v[0]
	}
	return ""
}

// ensure returns the attribute named desc, creating it empty if needed.
func (s *attrSet) ensure(desc string) *attribute {
	t := lookupAttr(desc)
	if a := s.byKey[t.key]; a != nil {
		return a
	}
	a := &attribute{name: desc, typ: t}
	s.byKey[t.key] = a
	s.order = append(s.order, t.key)
	return a
}

// set replaces the values of desc; no values removes the attribute.
func (s *attrSet) set(desc string, values ...string) {
	t := lookupAttr(desc)
	if len(values) == 0 {
		s.drop(t.key)
		return
	}
	a := s.ensure(desc)
	a.vals, a.norm = a.vals[:0], a.norm[:0]
	for _, v := range values {
		a.add(v)
	}
}

func (s *attrSet) drop(key string) {
	if _, ok := s.byKey[key]; !ok {
		return
	}
	delete(s.byKey, key)
	s.order = slices.DeleteFunc(s.order, func(k string) bool { return k == key })
}

// each calls f for every attribute in order.
func (s attrSet) each(f func(*attribute)) {
	for _, k := range s.order {
		f(s.byKey[k])
	}
}

func (s attrSet) clone() attrSet {
	c := attrSet{byKey: make(map[string]*attribute, len(s.byKey)), order: slices.Clone(s.order)}
	for k, a := range s.byKey {
		c.byKey[k] = a.clone()
	}
	return c
}

// entry is one node of the tree.
type entry struct {
	dn       dn
	display  string // dn.String(), kept to avoid rebuilding it per search
	ndn      string
	parent   *entry
	children []*entry
	attrs    attrSet
	removed  bool // set when deleted, for paged searches holding a pointer
}

func (e *entry) setDN(d dn) {
	e.dn = d
	e.display = d.String()
	e.ndn = d.norm()
}

// isDescendantOf walks up the tree; paged searches use it to drop entries
// moved out of the searched subtree between pages.
func (e *entry) isDescendantOf(base *entry) bool {
	for p := e; p != nil; p = p.parent {
		if p == base {
			return true
		}
	}
	return false
}
