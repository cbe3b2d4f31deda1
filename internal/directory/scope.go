package directory

import (
	"context"
	"fmt"
	"strings"

	"github.com/go-ldap/ldap/v3"
	"github.com/o365prov/o365prov/internal/config"
)

// scope decides which entries of a kind are in a channel's scope: those
// under the base DN that match the location's filter and, when a group DN
// is set, are members of that group (through nested groups with
// nestedSearch).
//
// Active Directory keeps memberOf as a back link of member, so there the
// group test is part of the search filter (LDAP_MATCHING_RULE_IN_CHAIN for
// nested groups). Elsewhere memberOf is an optional overlay that may be
// missing or stale, so membership is read from the groups themselves: a
// full read resolves the group's members (and nested groups' members, with
// cycle detection) into a set of DNs; an incremental read walks upward from
// each changed entry through the groups that list it.
type scope struct {
	d       *Directory
	kind    Kind
	loc     config.Location
	groupNC string // where nested groups are looked for

	members map[string]struct{} // the resolved closure (normalised DNs), once computed
	parents map[string][]string // normalised DN -> DNs of the groups that list it
}

func (d *Directory) newScope(kind Kind) (*scope, error) {
	loc, err := d.location(kind)
	if err != nil {
		return nil, err
	}
	sc := &scope{d: d, kind: kind, loc: loc, parents: map[string][]string{}}
	if loc.GroupDN != "" {
		sc.groupNC = d.namingContext(loc.GroupDN, d.src.BaseDN)
	}
	return sc, nil
}

// byGroup reports whether membership of a group limits the scope.
func (sc *scope) byGroup() bool { return sc.loc.GroupDN != "" }

// serverSide reports whether the group test is part of the filter.
func (sc *scope) serverSide() bool { return sc.byGroup() && sc.d.info.ad }

func (sc *scope) memberOfAttr() string {
	if a := sc.d.src.MemberOfAttribute; a != "" {
		return a
	}
	return "memberOf"
}

// groupClause is Active Directory's filter for members of the scope group.
func (sc *scope) groupClause() string {
	if sc.loc.NestedSearch {
		return "(" + sc.memberOfAttr() + ":" + oidMatchingChain + ":=" + ldap.EscapeFilter(sc.loc.GroupDN) + ")"
	}
	return "(" + sc.memberOfAttr() + "=" + ldap.EscapeFilter(sc.loc.GroupDN) + ")"
}

// filter is the search filter for entries in scope (the group test
// included on Active Directory), with extra clauses.
func (sc *scope) filter(extra ...string) string {
	parts := []string{sc.loc.Filter}
	if sc.serverSide() {
		parts = append(parts, sc.groupClause())
	}
	parts = append(parts, extra...)
	if len(parts) == 1 {
		return parts[0]
	}
	return "(&" + strings.Join(parts, "") + ")"
}

// checkGroup fails when the scope group does not exist: a group that was
// renamed or deleted must not read as "nobody is in scope".
func (sc *scope) checkGroup(c *ldap.Conn) error {
	if !sc.byGroup() {
		return nil
	}
	e, err := sc.d.baseEntry(c, sc.loc.GroupDN, "(objectClass=*)", []string{"1.1"})
	if err != nil {
		return fmt.Errorf("read scope group %s: %w", sc.loc.GroupDN, err)
	}
	if e == nil {
		return fmt.Errorf("%s group %s: %w", sc.kind, sc.loc.GroupDN, ErrScopeGroupMissing)
	}
	return nil
}

// prepareFull readies a full read: it checks the group and, where the
// group test is not in the filter, resolves the group's members. The
// returned test is nil when every entry the filter returns is in scope.
func (sc *scope) prepareFull(ctx context.Context, s *session, st *ReadStats) (func(dn string) bool, error) {
	if err := sc.checkGroup(s.c); err != nil {
		return nil, err
	}
	if !sc.byGroup() || sc.serverSide() {
		return nil, nil
	}
	if err := sc.resolve(ctx, s, st); err != nil {
		return nil, err
	}
	return func(dn string) bool {
		_, ok := sc.members[normDN(dn)]
		return ok
	}, nil
}

// resolve computes the members of the scope group, through nested groups
// when nestedSearch is set. Memory is one normalised DN per member.
func (sc *scope) resolve(ctx context.Context, s *session, st *ReadStats) error {
	if sc.members != nil {
		return nil
	}
	var groups map[string]bool
	if sc.loc.NestedSearch {
		// Which member values are groups: every group DN (nothing else) of
		// the naming context holding the scope group.
		groups = map[string]bool{}
		q := query{
			base:   sc.groupNC,
			scope:  ldap.ScopeWholeSubtree,
			filter: "(objectClass=" + ldap.EscapeFilter(sc.d.src.GroupObjectClass) + ")",
			attrs:  []string{"1.1"},
		}
		if err := sc.d.search(ctx, s, q, st, func(_ *ldap.Conn, e *ldap.Entry) error {
			groups[normDN(e.DN)] = true
			return nil
		}); err != nil {
			return fmt.Errorf("list groups for nested search: %w", err)
		}
	}
	members := map[string]struct{}{}
	seen := map[string]bool{normDN(sc.loc.GroupDN): true}
	queue := []string{sc.loc.GroupDN}
	for len(queue) > 0 {
		g := queue[0]
		queue = queue[1:]
		vals, found, err := sc.d.readMembers(ctx, s.c, g)
		if err != nil {
			return err
		}
		if !found {
			if g == sc.loc.GroupDN {
				return fmt.Errorf("%s group %s: %w", sc.kind, g, ErrScopeGroupMissing)
			}
			// A nested group that is gone (a dangling member value) has no
			// members.
			continue
		}
		for _, v := range vals {
			n := normDN(v)
			members[n] = struct{}{}
			if groups[n] && !seen[n] {
				seen[n] = true // cycles stop here
				queue = append(queue, v)
			}
		}
	}
	sc.members = members
	return nil
}

// walkLimit is how many changed entries an incremental read checks by
// walking upward; with more it resolves the whole group first.
func (sc *scope) walkLimit() int { return 2 * sc.d.page }

// contains reports whether the entry at dn (known to match the filter) is
// in scope as far as group membership goes. It uses no paged search, so it
// may run while a paged search on the same connection is between pages.
func (sc *scope) contains(ctx context.Context, s *session, dn string) (bool, error) {
	if !sc.byGroup() {
		return true, nil
	}
	if sc.serverSide() {
		e, err := sc.d.baseEntry(s.c, dn, sc.groupClause(), []string{"1.1"})
		if err != nil {
			return false, fmt.Errorf("check membership of %s: %w", dn, err)
		}
		return e != nil, nil
	}
	if sc.members != nil {
		_, ok := sc.members[normDN(dn)]
		return ok, nil
	}
	target := normDN(sc.loc.GroupDN)
	if !sc.loc.NestedSearch {
		e, err := sc.d.baseEntry(s.c, sc.loc.GroupDN, "("+ldap.EscapeFilter(sc.d.src.MemberAttribute)+"="+ldap.EscapeFilter(dn)+")", []string{"1.1"})
		if err != nil {
			return false, fmt.Errorf("check membership of %s: %w", dn, err)
		}
		return e != nil, nil
	}
	frontier := []string{dn}
	visited := map[string]bool{normDN(dn): true}
	for len(frontier) > 0 {
		var next []string
		for _, f := range frontier {
			ps, err := sc.parentsOf(ctx, s, f)
			if err != nil {
				return false, err
			}
			for _, p := range ps {
				n := normDN(p)
				if n == target {
					return true, nil
				}
				if !visited[n] {
					visited[n] = true
					next = append(next, p)
				}
			}
		}
		frontier = next
	}
	return false, nil
}

// parentsOf lists the groups that have dn as a member (memoised).
func (sc *scope) parentsOf(ctx context.Context, s *session, dn string) ([]string, error) {
	n := normDN(dn)
	if ps, ok := sc.parents[n]; ok {
		return ps, nil
	}
	q := query{
		base:  sc.groupNC,
		scope: ldap.ScopeWholeSubtree,
		filter: "(&(objectClass=" + ldap.EscapeFilter(sc.d.src.GroupObjectClass) + ")(" +
			ldap.EscapeFilter(sc.d.src.MemberAttribute) + "=" + ldap.EscapeFilter(dn) + "))",
		attrs: []string{"1.1"},
	}
	// Not paged: this runs between the pages of another search on the same
	// connection, and a server may keep one paged search per connection.
	res, err := sc.d.searchAll(s.c, q)
	if err != nil {
		return nil, fmt.Errorf("find groups of %s: %w", dn, err)
	}
	ps := make([]string, len(res))
	for i, e := range res {
		ps[i] = e.DN
	}
	sc.parents[n] = ps
	return ps, nil
}
