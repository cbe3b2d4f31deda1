package faketenant

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// refTarget reads {"@odata.id": ".../directoryObjects/{id}"} (or users/…,
// groups/…) and returns the id.
func refTarget(rc *reqCtx, body map[string]any) (string, *gresp) {
	raw, _ := body["@odata.id"].(string)
	id, ok := idFromRef(raw)
	if !ok {
		return "", rc.badRequest("Invalid object identifier '" + raw + "'.")
	}
	return id, nil
}

// idFromRef takes the key out of a reference URL, absolute or relative.
func idFromRef(raw string) (string, bool) {
	if raw == "" {
		return "", false
	}
	path := raw
	if u, err := url.Parse(raw); err == nil && u.Path != "" {
		path = u.Path
	}
	segs := strings.Split(strings.Trim(path, "/"), "/")
	if len(segs) < 2 {
		return "", false
	}
	coll := strings.ToLower(segs[len(segs)-2])
	key := segs[len(segs)-1]
	if m := keySegment.FindStringSubmatch(segs[len(segs)-1]); m != nil {
		coll, key = strings.ToLower(m[1]), m[2]
	}
	switch coll {
	case "directoryobjects", "users", "groups", "contacts", "orgcontacts":
		return key, key != ""
	}
	return "", false
}

// refObject resolves a reference to an active, replicated object; an id
// still in its replication lag is a 404 like a missing one (graph.md §7).
func (t *Tenant) refObject(rc *reqCtx, key string) (*object, *gresp) {
	o := t.dir.activeObject(strings.ToLower(key))
	if o == nil {
		o = t.dir.userByKey(key)
	}
	if o == nil || !t.visible(o) {
		return nil, rc.notFound(key)
	}
	return o, nil
}

// putManager is PUT /users/{id}/manager/$ref: 204 (graph.md §2).
func (t *Tenant) putManager(rc *reqCtx) *gresp {
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
	u, bad := t.userRef(rc, rc.param(0))
	if bad != nil {
		return bad
	}
	m, bad := t.refObject(rc, ref)
	if bad != nil {
		return bad
	}
	switch {
	case m.kind != kindUser:
		return rc.badRequest("Only a user or an organizational contact can be set as the manager of a user.")
	case m.id == u.id:
		return rc.badRequest("A user cannot be set as their own manager.")
	}
	t.dir.setManager(u, m.id)
	t.markDirty()
	return noContent()
}

func (t *Tenant) deleteManager(rc *reqCtx) *gresp {
	t.mu.Lock()
	defer t.mu.Unlock()
	u, bad := t.userRef(rc, rc.param(0))
	if bad != nil {
		return bad
	}
	if u.manager == "" {
		return rc.notFound("manager")
	}
	t.dir.setManager(u, "")
	t.markDirty()
	return noContent()
}

// currentManager is the user's manager if it is active and replicated.
func (t *Tenant) currentManager(u *object) *object {
	m := t.dir.activeObject(u.manager)
	if m == nil || !t.visible(m) {
		return nil
	}
	return m
}

// getManager: without a manager, graph.md §2's 404 "Resource 'manager' does
// not exist…".
func (t *Tenant) getManager(rc *reqCtx) *gresp {
	q, bad := t.parseQuery(rc, t.userSch, queryOpts{})
	if bad != nil {
		return bad
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	u, bad := t.userRef(rc, rc.param(0))
	if bad != nil {
		return bad
	}
	m := t.currentManager(u)
	if m == nil {
		return rc.notFound("manager")
	}
	body := jsonObject{{"@odata.context", rc.context("directoryObjects/$entity")}}
	return jsonResp(http.StatusOK, append(body, t.render(m, q.sel, true)...))
}

func (t *Tenant) getManagerRef(rc *reqCtx) *gresp {
	t.mu.RLock()
	defer t.mu.RUnlock()
	u, bad := t.userRef(rc, rc.param(0))
	if bad != nil {
		return bad
	}
	m := t.currentManager(u)
	if m == nil {
		return rc.notFound("manager")
	}
	return jsonResp(http.StatusOK, jsonObject{
		{"@odata.context", rc.context("directoryObjects/$entity")},
		{"@odata.id", rc.graphURL("/directoryObjects/" + m.id + "/Microsoft.DirectoryServices.User")},
	})
}

// linkedSet builds an ordered view of a set of linked ids, ordered by their
// position in the users and groups collections, for paging.
func (t *Tenant) linkedSet(ids map[string]bool) *orderedSet {
	list := make([]string, 0, len(ids))
	for id := range ids {
		if o := t.dir.activeObject(id); o != nil {
			list = append(list, id)
		}
	}
	seq := func(id string) uint64 {
		o := t.dir.objects[id]
		return t.dir.order(o.kind).seqOf(id) + uint64(o.kind)<<60
	}
	slices.SortFunc(list, func(a, b string) int { return int(int64(seq(a)) - int64(seq(b))) })
	s := newOrderedSet()
	for _, id := range list {
		s.add(id)
	}
	return s
}

// listDirectReports is GET /users/{id}/directReports.
func (t *Tenant) listDirectReports(rc *reqCtx) *gresp {
	return t.listUserLinks(rc, t.userSch, t.dir.reports)
}

// listMemberOf is GET /users/{id}/memberOf: direct groups only.
func (t *Tenant) listMemberOf(rc *reqCtx) *gresp {
	return t.listUserLinks(rc, t.groupSch, t.dir.memberOf)
}

// listUserLinks lists the objects a user links to (its reports, its
// groups), paged as a directoryObject collection.
func (t *Tenant) listUserLinks(rc *reqCtx, sch *schema, links map[string]map[string]bool) *gresp {
	q, bad := t.parseQuery(rc, sch, queryOpts{collection: true, pageSize: 100})
	if bad != nil {
		return bad
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	u, bad := t.userRef(rc, rc.param(0))
	if bad != nil {
		return bad
	}
	spec := listSpec{set: t.linkedSet(links[u.id]), context: "directoryObjects", typed: true}
	return t.listObjects(rc, q, spec)
}

func (t *Tenant) getDirectoryObject(rc *reqCtx) *gresp {
	t.mu.RLock()
	defer t.mu.RUnlock()
	o, bad := t.refObject(rc, rc.param(0))
	if bad != nil {
		return bad
	}
	body := jsonObject{{"@odata.context", rc.context("directoryObjects/$entity")}}
	return jsonResp(http.StatusOK, append(body, t.render(o, nil, true)...))
}
