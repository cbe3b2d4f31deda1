package ldapserver

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/o365prov/o365prov/internal/ldapserver/ldif"
)

// The methods below change and read the directory without LDAP, for tests
// and for the demo. They maintain the operational attributes exactly as the
// LDAP operations do, record the administrator (or "cn=o365prov-embedded"
// when none is configured) as modifiersName, and bypass access control.

// Entry is a copy of a directory entry.
type Entry struct {
	DN         string
	Attributes []Attribute
}

// Values returns the values of the attribute named name (any case).
func (e Entry) Values(name string) []string {
	key := lookupAttr(name).key
	for _, a := range e.Attributes {
		if lookupAttr(a.Name).key == key {
			return a.Values
		}
	}
	return nil
}

// Value returns the first value of name, or "".
func (e Entry) Value(name string) string {
	if v := e.Values(name); len(v) > 0 {
		return v[0]
	}
	return ""
}

func (s *Server) who() string {
	if s.opts.AdminDN != "" {
		return s.opts.AdminDN
	}
	return "cn=o365prov-embedded"
}

// Add creates an entry. Attribute order follows the map's sorted keys with
// objectClass first.
func (s *Server) Add(dn string, attrs map[string][]string) error {
	names := make([]string, 0, len(attrs))
	for n := range attrs {
		names = append(names, n)
	}
	slices.SortFunc(names, func(a, b string) int {
		oa, ob := strings.EqualFold(a, "objectClass"), strings.EqualFold(b, "objectClass")
		switch {
		case oa && !ob:
			return -1
		case ob && !oa:
			return 1
		}
		return strings.Compare(a, b)
	})
	list := make([]Attribute, 0, len(names))
	for _, n := range names {
		list = append(list, Attribute{Name: n, Values: attrs[n]})
	}
	return s.change("add", dn, func(st *store) error { return st.add(s.who(), dn, list, false) })
}

// Modify applies changes to the entry at dn, all or none.
func (s *Server) Modify(dn string, changes ...Change) error {
	return s.change("modify", dn, func(st *store) error { return st.modify(s.who(), dn, changes) })
}

// Delete removes the leaf entry at dn.
func (s *Server) Delete(dn string) error {
	return s.change("delete", dn, func(st *store) error { return st.delete(s.who(), dn) })
}

// ModifyDN renames the entry at dn to newRDN, under newSuperior when it is
// not empty, removing the old RDN's values when deleteOldRDN is set.
func (s *Server) ModifyDN(dn, newRDN string, deleteOldRDN bool, newSuperior string) error {
	return s.change("modrdn", dn, func(st *store) error {
		return st.modifyDN(s.who(), dn, newRDN, deleteOldRDN, newSuperior)
	})
}

func (s *Server) change(what, dn string, op func(*store) error) error {
	s.store.mu.Lock()
	err := op(s.store)
	s.store.mu.Unlock()
	if err != nil {
		return fmt.Errorf("%s %s: %w", what, dn, err)
	}
	s.log.Debug("ldap "+what+" (in process)", "dn", dn)
	return nil
}

// Get returns a copy of the entry at dn with all its attributes, operational
// ones (memberOf, hasSubordinates, entryDN included) after the user ones.
func (s *Server) Get(dn string) (Entry, error) {
	d, err := parseDN(dn)
	if err != nil {
		return Entry{}, err
	}
	s.store.mu.RLock()
	defer s.store.mu.RUnlock()
	e, err := s.store.lookup(d)
	if err != nil {
		return Entry{}, err
	}
	return s.snapshot(e, true), nil
}

// Entries returns a copy of every entry in tree order (parents before
// children, siblings in insertion order), with all attributes.
func (s *Server) Entries() []Entry {
	s.store.mu.RLock()
	defer s.store.mu.RUnlock()
	out := make([]Entry, 0, len(s.store.byDN))
	for _, r := range s.store.roots {
		walk(r, func(e *entry) bool {
			out = append(out, s.snapshot(e, true))
			return true
		})
	}
	return out
}

// Len returns the number of entries.
func (s *Server) Len() int {
	s.store.mu.RLock()
	defer s.store.mu.RUnlock()
	return len(s.store.byDN)
}

// snapshot copies e; with virtual set it adds the computed attributes.
func (s *Server) snapshot(e *entry, virtual bool) Entry {
	out := Entry{DN: e.display}
	var ops []Attribute
	e.attrs.each(func(a *attribute) {
		attr := Attribute{Name: a.name, Values: slices.Clone(a.vals)}
		if a.typ.operational {
			ops = append(ops, attr)
		} else {
			out.Attributes = append(out.Attributes, attr)
		}
	})
	out.Attributes = append(out.Attributes, ops...)
	if virtual {
		v := view{s: s.store, admin: true}
		for _, name := range virtualAttrs() {
			if vals, _ := v.attr(e, lookupAttr(name)); len(vals) > 0 {
				out.Attributes = append(out.Attributes, Attribute{Name: name, Values: slices.Clone(vals)})
			}
		}
	}
	return out
}

// WriteLDIF writes the whole directory as LDIF, operational attributes
// included and computed ones (memberOf, hasSubordinates, entryDN) left
// out, so that loading the output restores the same directory with the
// same entryUUIDs and CSNs.
func (s *Server) WriteLDIF(w io.Writer) error {
	s.store.mu.RLock()
	entries := make([]Entry, 0, len(s.store.byDN))
	for _, r := range s.store.roots {
		walk(r, func(e *entry) bool {
			entries = append(entries, s.snapshot(e, false))
			return true
		})
	}
	s.store.mu.RUnlock()
	// No "version: 1" line: slapadd refuses it, every reader accepts its
	// absence.
	lw := ldif.NewWriter(w)
	for _, e := range entries {
		rec := &ldif.Record{DN: e.DN}
		for _, a := range e.Attributes {
			for _, v := range a.Values {
				rec.Attrs = append(rec.Attrs, ldif.Attr{Name: a.Name, Value: v})
			}
		}
		if err := lw.Write(rec); err != nil {
			return err
		}
	}
	return lw.Flush()
}
