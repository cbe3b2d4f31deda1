package ldapserver

import (
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
)

// store is the directory tree: entries indexed by normalised DN, each with
// its children in insertion order, so that a base lookup is a map access and
// a subtree walk touches only the subtree. One RWMutex guards it all: a write
// is a few map operations, and searches copy what they send before writing to
// the network, so no lock is held across I/O.
type store struct {
	mu     sync.RWMutex
	suffix dn
	// suffixNDN is suffix.norm(), asked for on every add.
	suffixNDN string
	// roots are the entries without a parent: the suffix entry, once added.
	roots []*entry
	byDN  map[string]*entry
	// links indexes the link attributes, member and manager, backwards:
	// attribute key -> target normalised DN -> normalised DNs of the entries
	// whose attribute holds it. memberOf is links["member"] read from the
	// member's side. The server keeps referential integrity for them: a
	// deleted or renamed target is removed from or rewritten in its holders,
	// as OpenLDAP's refint overlay (configured for member and manager),
	// 389-DS's referential integrity plugin and AD's linked attributes do.
	links map[string]map[string][]string
	csn   csnClock
	rand  io.Reader
	// changed is called after every committed write, with the lock held.
	changed func()
}

func newStore(suffix dn, clock func() time.Time, sid int, rand io.Reader) *store {
	return &store{
		suffix:    suffix,
		suffixNDN: suffix.norm(),
		byDN:      make(map[string]*entry),
		links:     map[string]map[string][]string{"member": {}, "manager": {}},
		csn:       csnClock{now: clock, sid: sid},
		rand:      rand,
	}
}

// lookup returns the entry at ndn, or a noSuchObject error naming the
// deepest existing ancestor as RFC 4511 asks.
func (s *store) lookup(d dn) (*entry, error) {
	if e := s.byDN[d.norm()]; e != nil {
		return e, nil
	}
	err := errorf(NoSuchObject, "no entry %s", d)
	for p := d.parent(); !p.isRoot(); p = p.parent() {
		if e := s.byDN[p.norm()]; e != nil {
			err.MatchedDN = e.display
			break
		}
	}
	return nil, err
}

// inSuffix checks that the entry at ndn is the suffix or below it.
func (s *store) inSuffix(ndn string) bool { return hasSuffixNDN(ndn, s.suffixNDN) }

// attach links e into the tree under its parent; checkAttachable has
// vouched that the parent exists unless e is the suffix entry.
func (s *store) attach(e *entry) {
	if e.ndn == s.suffixNDN {
		e.parent = nil
		s.roots = append(s.roots, e)
	} else {
		e.parent = s.byDN[parentNDN(e.ndn)]
		e.parent.children = append(e.parent.children, e)
	}
	s.byDN[e.ndn] = e
}

// detach removes e from the tree; e must be a leaf.
func (s *store) detach(e *entry) {
	delete(s.byDN, e.ndn)
	if e.parent == nil {
		s.roots = slices.DeleteFunc(s.roots, func(x *entry) bool { return x == e })
		return
	}
	p := e.parent
	p.children = slices.DeleteFunc(p.children, func(x *entry) bool { return x == e })
}

// walk calls f for e and its descendants in tree order until f returns false.
func walk(e *entry, f func(*entry) bool) bool {
	if !f(e) {
		return false
	}
	for _, c := range e.children {
		if !walk(c, f) {
			return false
		}
	}
	return true
}

// stamp records a change to e: new entryCSN and modifyTimestamp (taken from
// the CSN, so that timestamps never step back), and who made it.
func (s *store) stamp(e *entry, who string) time.Time {
	csn, t := s.csn.next()
	e.attrs.set("entryCSN", csn)
	e.attrs.set("modifyTimestamp", generalizedTime(t))
	e.attrs.set("modifiersName", who)
	return t
}

// stampNew gives a new entry its operational attributes, keeping any the
// caller supplied (an LDIF being loaded carries them).
func (s *store) stampNew(e *entry, who string, keep bool) error {
	a := &e.attrs
	if !keep || a.first("entryuuid") == "" {
		id, err := uuid.NewRandomFromReader(s.rand)
		if err != nil {
			return fmt.Errorf("entryUUID for %s: %w", e.display, err)
		}
		a.set("entryUUID", id.String())
	}
	if keep && a.first("entrycsn") != "" {
		s.csn.observe(a.first("entrycsn"))
		return nil
	}
	t := s.stamp(e, who)
	if !keep || a.first("createtimestamp") == "" {
		a.set("createTimestamp", generalizedTime(t))
	}
	if !keep || a.first("creatorsname") == "" {
		a.set("creatorsName", who)
	}
	return nil
}

// relink updates the link index for attribute key of the entry at ndn, from
// the values in old to those in now (both normalised), and returns the
// targets that gained or lost the link.
func (s *store) relink(key, ndn string, old, now []string) []string {
	idx := s.links[key]
	if idx == nil {
		return nil
	}
	var touched []string
	for _, t := range old {
		if !slices.Contains(now, t) {
			idx[t] = slices.DeleteFunc(idx[t], func(x string) bool { return x == ndn })
			if len(idx[t]) == 0 {
				delete(idx, t)
			}
			touched = append(touched, t)
		}
	}
	for _, t := range now {
		if !slices.Contains(old, t) && !slices.Contains(idx[t], ndn) {
			idx[t] = append(idx[t], ndn)
			touched = append(touched, t)
		}
	}
	return touched
}

// linkedFrom returns the entries whose attribute key holds ndn.
func (s *store) linkedFrom(key, ndn string) []*entry {
	var out []*entry
	for _, src := range s.links[key][ndn] {
		if e := s.byDN[src]; e != nil {
			out = append(out, e)
		}
	}
	return out
}

// touchMembers stamps the existing entries among targets, whose memberOf
// changed: OpenLDAP's memberof overlay writes memberOf into the member
// entries, which changes their modifyTimestamp and entryCSN, and a client
// that detects changes by those must see it.
func (s *store) touchMembers(key string, targets []string, who string) {
	if key != "member" {
		return
	}
	for _, t := range targets {
		if e := s.byDN[t]; e != nil {
			s.stamp(e, who)
		}
	}
}
