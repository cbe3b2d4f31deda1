package ldapserver

import (
	"slices"
)

// modifyDN renames e (RFC 4511 §4.9) and, with a new superior, moves it with
// its whole subtree. entryUUID is kept; the entry itself gets a new entryCSN
// and modifyTimestamp, as OpenLDAP does, while its descendants keep theirs.
// member and manager values naming a renamed entry follow it.
func (s *store) modifyDN(who, dnStr, newRDN string, deleteOldRDN bool, newSuperior string) error {
	d, err := parseDN(dnStr)
	if err != nil {
		return err
	}
	e, err := s.lookup(d)
	if err != nil {
		return err
	}
	if e.parent == nil {
		return errorf(UnwillingToPerform, "%s is the naming context and cannot be renamed", e.display)
	}
	rdn, err := parseRDN(newRDN)
	if err != nil {
		return err
	}
	parent, err := s.newParent(e, newSuperior)
	if err != nil {
		return err
	}
	target := parent.dn.child(rdn)
	if other := s.byDN[target.norm()]; other != nil && other != e {
		return errorf(EntryAlreadyExists, "entry %s already exists", other.display)
	}
	next, err := renamedAttrs(e, rdn, deleteOldRDN)
	if err != nil {
		return err
	}
	// The new attributes go in first: moving rewrites link values in place,
	// and an entry may hold links to its own subtree.
	e.attrs = next
	s.move(e, parent, target, who)
	s.stamp(e, who)
	s.commit(false)
	return nil
}

func parseRDN(s string) ([]ava, error) {
	d, err := parseDN(s)
	if err != nil {
		return nil, err
	}
	if len(d.rdns) != 1 {
		return nil, errorf(InvalidDNSyntax, "new RDN %q: want exactly one RDN such as uid=jdoe", s)
	}
	return d.rdns[0], nil
}

// newParent returns the entry that will hold e: its parent, or newSuperior.
func (s *store) newParent(e *entry, newSuperior string) (*entry, error) {
	if newSuperior == "" {
		return e.parent, nil
	}
	sd, err := parseDN(newSuperior)
	if err != nil {
		return nil, err
	}
	p, err := s.lookup(sd)
	if err != nil {
		return nil, err
	}
	if p.isDescendantOf(e) {
		return nil, errorf(UnwillingToPerform, "%s cannot be moved below itself (%s)", e.display, p.display)
	}
	return p, nil
}

// renamedAttrs returns e's attributes with the new RDN's values added and,
// if asked, the old RDN's values removed.
func renamedAttrs(e *entry, rdn []ava, deleteOld bool) (attrSet, error) {
	next := e.attrs.clone()
	for _, a := range rdn {
		if !lookupAttr(a.typ).isUserModifiable() {
			return attrSet{}, errorf(ConstraintViolation, "new RDN uses %s, which is not user-modifiable", a.typ)
		}
		next.ensure(a.typ).add(a.value)
	}
	if deleteOld {
		for _, old := range e.dn.rdns[0] {
			if !slices.ContainsFunc(rdn, func(n ava) bool { return sameAVA(n, old) }) {
				t := lookupAttr(old.typ)
				if a := next.get(t.key); a != nil {
					a.remove(old.value)
					if len(a.vals) == 0 {
						next.drop(t.key)
					}
				}
			}
		}
	}
	if len(next.values("objectclass")) == 0 {
		return attrSet{}, errorf(ObjectClassViolation, "renaming %s would remove its objectClass", e.display)
	}
	return next, nil
}

func sameAVA(a, b ava) bool {
	ta, tb := lookupAttr(a.typ), lookupAttr(b.typ)
	if ta.key != tb.key {
		return false
	}
	na, _ := normalize(ta.syn, a.value)
	nb, _ := normalize(tb.syn, b.value)
	return na == nb
}

// move gives e the DN target under parent and re-keys its subtree, the link
// index and the link values that named any entry of the subtree.
func (s *store) move(e, parent *entry, target dn, who string) {
	type renamed struct {
		e      *entry
		oldNDN string
	}
	var subtree []renamed
	walk(e, func(x *entry) bool {
		subtree = append(subtree, renamed{x, x.ndn})
		for key := range s.links {
			if a := x.attrs.get(key); a != nil {
				s.relink(key, x.ndn, a.norm, nil)
			}
		}
		delete(s.byDN, x.ndn)
		return true
	})
	if e.parent != parent {
		e.parent.children = slices.DeleteFunc(e.parent.children, func(x *entry) bool { return x == e })
		parent.children = append(parent.children, e)
		e.parent = parent
	}
	e.setDN(target)
	for _, r := range subtree[1:] {
		r.e.setDN(r.e.parent.dn.child(r.e.dn.rdns[0]))
	}
	for _, r := range subtree {
		s.byDN[r.e.ndn] = r.e
		for key := range s.links {
			if a := r.e.attrs.get(key); a != nil {
				s.touchMembers(key, s.relink(key, r.e.ndn, nil, a.norm), who)
			}
		}
	}
	for _, r := range subtree {
		if r.oldNDN != r.e.ndn {
			s.retarget(r.oldNDN, r.e, who)
		}
	}
}

// retarget rewrites the link values that named oldNDN to x's new DN.
func (s *store) retarget(oldNDN string, x *entry, who string) {
	for key, idx := range s.links {
		holders := idx[oldNDN]
		if len(holders) == 0 {
			continue
		}
		delete(idx, oldNDN)
		idx[x.ndn] = append(idx[x.ndn], holders...)
		for _, h := range holders {
			holder := s.byDN[h]
			if holder == nil {
				continue
			}
			if a := holder.attrs.get(key); a != nil {
				if i := a.index(oldNDN); i >= 0 {
					a.vals[i], a.norm[i] = x.display, x.ndn
				}
			}
			s.stamp(holder, who)
		}
	}
}
