package ldapserver

import (
	"fmt"
	"slices"
)

// Attribute is an attribute with its values, as given to Add and returned by
// Entries.
type Attribute struct {
	Name   string
	Values []string
}

// ChangeOp is the kind of a modification (RFC 4511 §4.6, RFC 4525).
type ChangeOp int

// Modification kinds, numbered as on the wire.
const (
	OpAdd       ChangeOp = 0
	OpDelete    ChangeOp = 1
	OpReplace   ChangeOp = 2
	OpIncrement ChangeOp = 3
)

// Change is one modification of a Modify.
type Change struct {
	Op     ChangeOp
	Attr   string
	Values []string
}

// AddValues adds values to attr; adding a value already present fails.
func AddValues(attr string, values ...string) Change {
	return Change{Op: OpAdd, Attr: attr, Values: values}
}

// DeleteValues removes values from attr, or the whole attribute when no
// value is given.
func DeleteValues(attr string, values ...string) Change {
	return Change{Op: OpDelete, Attr: attr, Values: values}
}

// Replace sets the values of attr; no value removes it.
func Replace(attr string, values ...string) Change {
	return Change{Op: OpReplace, Attr: attr, Values: values}
}

// Increment adds by to the integer values of attr.
func Increment(attr string, by int64) Change {
	return Change{Op: OpIncrement, Attr: attr, Values: []string{fmt.Sprint(by)}}
}

// add creates an entry. With load set it is an entry read from an LDIF
// file: its operational attributes are kept, missing ones generated, and no
// other entry is stamped.
func (s *store) add(who, dnStr string, attrs []Attribute, load bool) error {
	d, err := parseDN(dnStr)
	if err != nil {
		return err
	}
	if d.isRoot() {
		return errorf(UnwillingToPerform, "the root DSE cannot be added")
	}
	e := &entry{attrs: newAttrSet(len(attrs) + 6)}
	e.setDN(d)
	for _, a := range attrs {
		if err := addAttribute(&e.attrs, a, load); err != nil {
			return err
		}
	}
	if err := checkEntry(e, e.attrs); err != nil {
		return err
	}
	if err := s.checkAttachable(e); err != nil {
		return err
	}
	if err := s.stampNew(e, who, load); err != nil {
		return err
	}
	s.attach(e)
	for key := range s.links {
		if a := e.attrs.get(key); a != nil {
			touched := s.relink(key, e.ndn, nil, a.norm)
			if !load {
				s.touchMembers(key, touched, who)
			}
		}
	}
	s.commit(load)
	return nil
}

func addAttribute(set *attrSet, a Attribute, load bool) error {
	t := lookupAttr(a.Name)
	switch {
	case t.virtual && load:
		return nil // computed on read; a dump that carries memberOf loads cleanly
	case !t.isUserModifiable() && !load:
		return errorf(ConstraintViolation, "%s: no user modification allowed", a.Name)
	case len(a.Values) == 0:
		return errorf(ProtocolError, "%s: an attribute needs at least one value", a.Name)
	}
	if err := checkDescription(a.Name); err != nil {
		return err
	}
	attr := set.ensure(a.Name)
	for _, v := range a.Values {
		if err := checkValue(a.Name, t, v); err != nil {
			return err
		}
		if !attr.add(v) {
			return errorf(AttributeOrValueExists, "%s: the same value is given twice", a.Name)
		}
	}
	return nil
}

// checkAttachable reports the error attach would, before anything is stamped.
func (s *store) checkAttachable(e *entry) error {
	if _, dup := s.byDN[e.ndn]; dup {
		return errorf(EntryAlreadyExists, "entry %s already exists", e.display)
	}
	if !s.inSuffix(e.ndn) {
		return errorf(UnwillingToPerform, "%s is outside the naming context %s", e.display, s.suffix)
	}
	if e.ndn == s.suffixNDN {
		return nil
	}
	if s.byDN[parentNDN(e.ndn)] != nil {
		return nil
	}
	if _, err := s.lookup(e.dn.parent()); err != nil {
		err.(*Error).Msg = fmt.Sprintf("parent of %s does not exist: add it first (in an LDIF, before its children)", e.display)
		return err
	}
	return nil
}

// checkEntry enforces the little schema the server has: an objectClass, and
// the RDN's values present in the entry.
func checkEntry(e *entry, attrs attrSet) error {
	if len(attrs.values("objectclass")) == 0 {
		return errorf(ObjectClassViolation, "%s: an entry needs an objectClass", e.display)
	}
	for _, a := range e.dn.rdns[0] {
		t := lookupAttr(a.typ)
		attr := attrs.get(t.key)
		n, _ := normalize(t.syn, a.value)
		if attr == nil || attr.index(n) < 0 {
			return errorf(NamingViolation, "%s: the naming attribute %s must hold the RDN value %q", e.display, a.typ, a.value)
		}
	}
	return nil
}

// commit tells the persistence hook about a change; loading is not one.
func (s *store) commit(load bool) {
	if !load && s.changed != nil {
		s.changed()
	}
}

// modify applies changes atomically: all of them or, on the first error,
// none.
func (s *store) modify(who, dnStr string, changes []Change) error {
	d, err := parseDN(dnStr)
	if err != nil {
		return err
	}
	e, err := s.lookup(d)
	if err != nil {
		return err
	}
	next := e.attrs.clone()
	for _, c := range changes {
		if err := applyChange(&next, c); err != nil {
			return err
		}
	}
	if err := checkEntry(e, next); err != nil {
		if len(next.values("objectclass")) > 0 {
			return &Error{Code: NotAllowedOnRDN, Msg: err.(*Error).Msg}
		}
		return err
	}
	old := e.attrs
	e.attrs = next
	s.stamp(e, who)
	for key := range s.links {
		var before, after []string
		if a := old.get(key); a != nil {
			before = a.norm
		}
		if a := next.get(key); a != nil {
			after = a.norm
		}
		s.touchMembers(key, s.relink(key, e.ndn, before, after), who)
	}
	s.commit(false)
	return nil
}

func applyChange(set *attrSet, c Change) error {
	t := lookupAttr(c.Attr)
	if !t.isUserModifiable() {
		return errorf(ConstraintViolation, "%s: no user modification allowed", c.Attr)
	}
	if err := checkDescription(c.Attr); err != nil {
		return err
	}
	if c.Op == OpAdd || c.Op == OpReplace {
		for _, v := range c.Values {
			if err := checkValue(c.Attr, t, v); err != nil {
				return err
			}
		}
	}
	switch c.Op {
	case OpAdd:
		if len(c.Values) == 0 {
			return errorf(ProtocolError, "add to %s: no values given", c.Attr)
		}
		a := set.ensure(c.Attr)
		for _, v := range c.Values {
			if !a.add(v) {
				return errorf(AttributeOrValueExists, "add to %s: a value is already present", c.Attr)
			}
		}
	case OpDelete:
		a := set.get(t.key)
		if a == nil {
			return errorf(NoSuchAttribute, "delete %s: the entry has no such attribute", c.Attr)
		}
		for _, v := range c.Values {
			if !a.remove(v) {
				return errorf(NoSuchAttribute, "delete from %s: a value is not present", c.Attr)
			}
		}
		if len(c.Values) == 0 || len(a.vals) == 0 {
			set.drop(t.key)
		}
	case OpReplace:
		set.set(c.Attr, c.Values...)
		if a := set.get(t.key); a != nil && len(a.vals) != len(c.Values) {
			return errorf(AttributeOrValueExists, "replace %s: the same value is given twice", c.Attr)
		}
	case OpIncrement:
		return increment(set, t, c)
	default:
		return errorf(ProtocolError, "modification operation %d: want add (0), delete (1), replace (2) or increment (3)", c.Op)
	}
	return nil
}

func increment(set *attrSet, t attrType, c Change) error {
	a := set.get(t.key)
	if a == nil {
		return errorf(NoSuchAttribute, "increment %s: the entry has no such attribute", c.Attr)
	}
	if len(c.Values) != 1 {
		return errorf(ProtocolError, "increment %s: want exactly one value", c.Attr)
	}
	by, ok := parseInteger(c.Values[0])
	if !ok {
		return errorf(InvalidAttributeSyntax, "increment %s by %q: not an integer", c.Attr, c.Values[0])
	}
	vals := slices.Clone(a.vals)
	for i, v := range vals {
		n, ok := parseInteger(v)
		if !ok {
			return errorf(InvalidAttributeSyntax, "increment %s: value %q is not an integer", c.Attr, v)
		}
		vals[i] = n.Add(n, by).String()
	}
	set.set(a.name, vals...)
	return nil
}

// delete removes a leaf entry. Values of member and manager that named it
// are removed from the entries that held them.
func (s *store) delete(who, dnStr string) error {
	d, err := parseDN(dnStr)
	if err != nil {
		return err
	}
	e, err := s.lookup(d)
	if err != nil {
		return err
	}
	if len(e.children) > 0 {
		return errorf(NotAllowedOnNonLeaf, "%s has %d subordinate entries: delete them first", e.display, len(e.children))
	}
	s.detach(e)
	e.removed = true
	for key := range s.links {
		if a := e.attrs.get(key); a != nil {
			s.touchMembers(key, s.relink(key, e.ndn, a.norm, nil), who)
		}
		for _, src := range slices.Clone(s.links[key][e.ndn]) {
			if holder := s.byDN[src]; holder != nil {
				s.dropLink(holder, key, e.ndn, who)
			}
		}
		delete(s.links[key], e.ndn)
	}
	s.commit(false)
	return nil
}

// dropLink removes the value target from holder's attribute key.
func (s *store) dropLink(holder *entry, key, target, who string) {
	a := holder.attrs.get(key)
	if a == nil {
		return
	}
	if i := a.index(target); i >= 0 {
		a.vals = slices.Delete(a.vals, i, i+1)
		a.norm = slices.Delete(a.norm, i, i+1)
	}
	if len(a.vals) == 0 {
		holder.attrs.drop(key)
	}
	s.stamp(holder, who)
}
