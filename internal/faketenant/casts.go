package faketenant

import "strings"

// canonicalCast turns the short type-cast spelling the SDKs build
// ("graph.user") into the full one ("microsoft.graph.user"); Graph serves
// both (docs/graph.md §14). Object keys never look like this: ids are GUIDs
// and UPNs hold an '@'.
func canonicalCast(seg string) string {
	if len(seg) > len("graph.") && strings.EqualFold(seg[:len("graph.")], "graph.") && !strings.Contains(seg, "@") {
		return "microsoft." + seg
	}
	return seg
}

// castKind maps a route's cast segment to the object kind it keeps.
func castKind(seg string) objKind {
	switch strings.ToLower(seg) {
	case "microsoft.graph.user":
		return kindUser
	case "microsoft.graph.group":
		return kindGroup
	}
	return 0
}

// castSchema is the schema and @odata.context collection of a cast.
func (t *Tenant) castSchema(kind objKind) (*schema, string) {
	if kind == kindGroup {
		return t.groupSch, "groups"
	}
	return t.userSch, "users"
}

// castQuery parses a member-collection query under a cast: an OData cast
// there is an advanced query, so it needs ConsistencyLevel: eventual and
// $count=true (docs/graph.md §4.3).
func (t *Tenant) castQuery(rc *reqCtx, kind objKind, count bool) (*listQuery, *gresp) {
	sch, _ := t.castSchema(kind)
	opts := queryOpts{collection: true, pageSize: 100, filter: true, orderBy: []string{"displayName"}}
	if count {
		opts = queryOpts{collection: true, filter: true}
	}
	q, bad := t.parseQuery(rc, sch, opts)
	if bad != nil {
		return nil, bad
	}
	if !rc.eventual() || (!count && !q.advanced) {
		return nil, rc.unsupportedQuery("Unsupported Query.")
	}
	return q, nil
}

// listMembersCast is GET /groups/{id}/members/microsoft.graph.user (or
// .group): the direct members of that type.
func (t *Tenant) listMembersCast(rc *reqCtx) *gresp {
	return t.listGroupMembersCast(rc, false)
}

// listTransitiveMembersCast is the same over transitive members.
func (t *Tenant) listTransitiveMembersCast(rc *reqCtx) *gresp {
	return t.listGroupMembersCast(rc, true)
}

func (t *Tenant) listGroupMembersCast(rc *reqCtx, transitive bool) *gresp {
	kind := castKind(rc.route.pattern[len(rc.route.pattern)-1])
	q, bad := t.castQuery(rc, kind, false)
	if bad != nil {
		return bad
	}
	_, context := t.castSchema(kind)
	t.mu.RLock()
	defer t.mu.RUnlock()
	g, bad := t.groupRef(rc, rc.param(0))
	if bad != nil {
		return bad
	}
	set := g.members
	if transitive {
		set = t.transitiveMembers(g)
	}
	return t.listObjects(rc, q, listSpec{set: set, kind: kind, context: context, typed: true, include: (*object).active})
}

// countMembersCast is GET /groups/{id}/members/microsoft.graph.user/$count.
func (t *Tenant) countMembersCast(rc *reqCtx) *gresp {
	kind := castKind(rc.route.pattern[len(rc.route.pattern)-2])
	q, bad := t.castQuery(rc, kind, true)
	if bad != nil {
		return bad
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	g, bad := t.groupRef(rc, rc.param(0))
	if bad != nil {
		return bad
	}
	return t.countResp(rc, q, listSpec{set: g.members, kind: kind, include: (*object).active})
}

// listTransitiveMembers is GET /groups/{id}/transitiveMembers: members of
// the group and, through nested groups, of every group below it, each once.
func (t *Tenant) listTransitiveMembers(rc *reqCtx) *gresp {
	q, bad := t.memberQuery(rc)
	if bad != nil {
		return bad
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	g, bad := t.groupRef(rc, rc.param(0))
	if bad != nil {
		return bad
	}
	return t.listObjects(rc, q, listSpec{set: t.transitiveMembers(g), context: "directoryObjects", typed: true, include: (*object).active})
}

// transitiveMembers walks nested groups breadth first, guarding against
// cycles, and returns the active members in creation order so paging is
// stable. The caller holds the read lock.
func (t *Tenant) transitiveMembers(g *object) *orderedSet {
	all := map[string]bool{}
	seen := map[string]bool{g.id: true}
	queue := []*object{g}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, id := range cur.members.keys() {
			all[id] = true
			if sub := t.dir.activeObject(id); sub != nil && sub.kind == kindGroup && !seen[id] {
				seen[id] = true
				queue = append(queue, sub)
			}
		}
	}
	return t.linkedSet(all)
}

// listMemberOfCast is GET /users/{id}/memberOf/microsoft.graph.group.
// docs/graph.md states the advanced-query rule for members only, so this
// cast is served without it.
func (t *Tenant) listMemberOfCast(rc *reqCtx) *gresp {
	q, bad := t.parseQuery(rc, t.groupSch, queryOpts{collection: true, pageSize: 100})
	if bad != nil {
		return bad
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	u, bad := t.userRef(rc, rc.param(0))
	if bad != nil {
		return bad
	}
	return t.listObjects(rc, q, listSpec{set: t.linkedSet(t.dir.memberOf[u.id]), kind: kindGroup, context: "groups", typed: true})
}
