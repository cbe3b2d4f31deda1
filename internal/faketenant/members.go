package faketenant

import "strings"

const (
	msgMemberExists  = "One or more added object references already exist for the following modified properties: 'members'."
	msgDistribution  = "Cannot Update a mail-enabled security groups and or distribution list."
	msgDynamicMember = "Members cannot be added to or removed from a group with dynamic membership."
)

// checkMemberWritable refuses groups whose membership Graph cannot write:
// dynamic groups and mail-enabled non-Unified groups (graph.md §4.3: "only
// cloud-managed groups can have members added this way").
func checkMemberWritable(rc *reqCtx, g *object) *gresp {
	switch {
	case g.isDynamic():
		return rc.badRequest(msgDynamicMember)
	case g.boolean("mailEnabled") && !g.isUnified():
		return rc.badRequest(msgDistribution)
	case g.boolean("onPremisesSyncEnabled"):
		return rc.badRequest("Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration.")
	}
	return nil
}

// checkMemberAdds validates a set of additions all-or-nothing: every target
// exists and has replicated, none is already a member, nesting is allowed.
func (t *Tenant) checkMemberAdds(rc *reqCtx, g *object, ids []string) ([]*object, *gresp) {
	if len(ids) == 0 {
		return nil, nil
	}
	if bad := checkMemberWritable(rc, g); bad != nil {
		return nil, bad
	}
	seen := map[string]bool{}
	var out []*object
	for _, id := range ids {
		o, bad := t.refObject(rc, id)
		if bad != nil {
			return nil, bad
		}
		if g.members.has(o.id) || seen[o.id] {
			return nil, rc.badRequest(msgMemberExists)
		}
		if bad := checkNesting(rc, g, o); bad != nil {
			return nil, bad
		}
		seen[o.id] = true
		out = append(out, o)
	}
	return out, nil
}

// addMemberRef is POST /groups/{id}/members/$ref: 204; an existing member is
// 400 (graph.md §4.3).
func (t *Tenant) addMemberRef(rc *reqCtx) *gresp {
	body, bad := rc.decodeBody()
	if bad != nil {
		return bad
	}
	ref, bad := refTarget(rc, body)
	if bad != nil {
		return bad
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	g, bad := t.groupRef(rc, rc.param(0))
	if bad != nil {
		return bad
	}
	members, bad := t.checkMemberAdds(rc, g, []string{ref})
	if bad != nil {
		return bad
	}
	g.members.add(members[0].id)
	t.dir.linkMember(g.id, members[0].id)
	t.markDirty()
	return noContent()
}

// removeMemberRef is DELETE /groups/{id}/members/{id}/$ref: 204, or 404 for
// a non-member (graph.md §4.3).
func (t *Tenant) removeMemberRef(rc *reqCtx) *gresp {
	t.mu.Lock()
	defer t.mu.Unlock()
	g, bad := t.groupRef(rc, rc.param(0))
	if bad != nil {
		return bad
	}
	mid := strings.ToLower(rc.param(1))
	if !g.members.has(mid) || t.dir.activeObject(mid) == nil {
		return rc.notFound(rc.param(1))
	}
	if bad := checkMemberWritable(rc, g); bad != nil {
		return bad
	}
	g.members.remove(mid)
	t.dir.unlinkMember(g.id, mid)
	t.markDirty()
	return noContent()
}

// memberQuery parses options for member lists; $filter, $search and
// $orderby there need an advanced query (graph.md §4.3).
func (t *Tenant) memberQuery(rc *reqCtx) (*listQuery, *gresp) {
	q, bad := t.parseQuery(rc, t.userSch, queryOpts{collection: true, pageSize: 100, filter: true, orderBy: []string{"displayName"}})
	if bad != nil {
		return nil, bad
	}
	if (q.filter != nil || q.orderBy != nil) && !q.advanced {
		return nil, rc.unsupportedQuery("Unsupported Query.")
	}
	return q, nil
}

// listMembers is GET /groups/{id}/members: direct members, 100 per page,
// each with its @odata.type (graph.md §4.3). Soft-deleted members keep their
// membership but are not listed.
func (t *Tenant) listMembers(rc *reqCtx) *gresp {
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
	spec := listSpec{set: g.members, context: "directoryObjects", typed: true, include: (*object).active}
	return t.listObjects(rc, q, spec)
}

func (t *Tenant) countMembers(rc *reqCtx) *gresp {
	q, bad := t.parseQuery(rc, t.userSch, queryOpts{collection: true, filter: true})
	if bad != nil {
		return bad
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	g, bad := t.groupRef(rc, rc.param(0))
	if bad != nil {
		return bad
	}
	return t.countResp(rc, q, listSpec{set: g.members, include: (*object).active})
}

func (t *Tenant) listOwners(rc *reqCtx) *gresp {
	q, bad := t.parseQuery(rc, t.userSch, queryOpts{collection: true, pageSize: 100})
	if bad != nil {
		return bad
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	g, bad := t.groupRef(rc, rc.param(0))
	if bad != nil {
		return bad
	}
	return t.listObjects(rc, q, listSpec{set: t.linkedSet(g.owners), context: "directoryObjects", typed: true})
}
