package faketenant

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

func (t *Tenant) groupListSpec(ctx string) listSpec {
	return listSpec{set: t.dir.groups, kind: kindGroup, context: ctx, lookup: t.indexLookup}
}

func (t *Tenant) listGroups(rc *reqCtx) *gresp {
	q, bad := t.parseQuery(rc, t.groupSch, queryOpts{collection: true, pageSize: 100, filter: true, orderBy: []string{"displayName"}})
	if bad != nil {
		return bad
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.listObjects(rc, q, t.groupListSpec(selectContext("groups", q.sel)))
}

func (t *Tenant) countGroups(rc *reqCtx) *gresp {
	q, bad := t.parseQuery(rc, t.groupSch, queryOpts{collection: true, filter: true})
	if bad != nil {
		return bad
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.countResp(rc, q, t.groupListSpec("groups"))
}

// groupRef finds an active, replicated group (graph.md §7).
func (t *Tenant) groupRef(rc *reqCtx, id string) (*object, *gresp) {
	g := t.dir.groupByID(strings.ToLower(id))
	if g == nil || !t.visible(g) {
		return nil, rc.notFound(id)
	}
	return g, nil
}

func (t *Tenant) getGroup(rc *reqCtx) *gresp {
	q, bad := t.parseQuery(rc, t.groupSch, queryOpts{expand: []string{"members"}})
	if bad != nil {
		return bad
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	g, bad := t.groupRef(rc, rc.param(0))
	if bad != nil {
		return bad
	}
	body := jsonObject{{"@odata.context", rc.context(selectContext("groups", q.sel) + "/$entity")}}
	body = append(body, t.render(g, q.sel, false)...)
	if q.expand != nil {
		// $expand=members returns at most 20 members.
		var ms []jsonObject
		g.members.scan(0, func(id string, _ uint64) bool {
			if o := t.dir.activeObject(id); o != nil {
				ms = append(ms, t.render(o, q.expand.sel, true))
			}
			return len(ms) < 20
		})
		body = append(body, kv{"members", ms})
	}
	return jsonResp(http.StatusOK, body)
}

const msgMailEnabledWrite = "The service does not currently support writes of mail-enabled groups. Please ensure that the mail-enablement property is unset and the security-enablement property is set."

// createGroup is POST /groups (graph.md §4.1).
func (t *Tenant) createGroup(rc *reqCtx) *gresp {
	body, bad := rc.decodeBody()
	if bad != nil {
		return bad
	}
	g := &object{kind: kindGroup, props: map[string]any{}, members: newOrderedSet(), owners: map[string]bool{}}
	binds, bad := t.applyGroupBody(rc, g, body)
	if bad != nil {
		return bad
	}
	if len(binds.members)+len(binds.owners) > 20 {
		return rc.badRequest("A maximum of 20 owners and members can be added in the same request when creating a group.")
	}
	if bad := validateNewGroup(rc, g); bad != nil {
		return bad
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	g.id = t.ids.guid()
	if g.isUnified() {
		mail := g.str("mailNickname") + "@" + t.dir.defaultDomain().name
		g.props["mail"] = mail
		g.props["proxyAddresses"] = []string{"SMTP:" + mail}
		if _, ok := g.props["visibility"]; !ok {
			g.props["visibility"] = "Public"
		}
	}
	if prop := t.dir.conflict(g); prop != "" {
		return rc.conflictResp(prop)
	}
	members, bad := t.resolveBinds(rc, g, binds.members)
	if bad != nil {
		return bad
	}
	owners, bad := t.resolveBinds(rc, nil, binds.owners)
	if bad != nil {
		return bad
	}
	now := t.clock.Now()
	g.created, g.visibleAt = now, now.Add(t.knobs().lag)
	g.props["securityIdentifier"] = securityIdentifier(g.id)
	g.props["renewedDateTime"] = formatTime(now)
	if g.isDynamic() {
		if _, ok := g.props["membershipRuleProcessingState"]; !ok {
			g.props["membershipRuleProcessingState"] = "On"
		}
	}
	t.dir.insert(g)
	for _, m := range members {
		g.members.add(m.id)
		t.dir.linkMember(g.id, m.id)
	}
	for _, o := range owners {
		g.owners[o.id] = true
		t.dir.linkOwner(g.id, o.id)
	}
	t.markDirty()
	out := jsonObject{{"@odata.context", rc.context("groups/$entity")}}
	return jsonResp(http.StatusCreated, append(out, t.render(g, nil, false)...))
}

type groupBinds struct {
	members, owners []string
	props           bool // the body also sets properties
}

// applyGroupBody copies properties and collects @odata.bind references.
func (t *Tenant) applyGroupBody(rc *reqCtx, g *object, body map[string]any) (groupBinds, *gresp) {
	var b groupBinds
	keys := make([]string, 0, len(body))
	for k := range body {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := body[k]
		switch {
		case k == "@odata.type":
			continue
		case strings.EqualFold(k, "members@odata.bind"), strings.EqualFold(k, "owners@odata.bind"):
			arr, ok := v.([]any)
			if !ok {
				return b, rc.badRequest(fmt.Sprintf("Invalid value specified for property '%s' of resource 'Group'.", k))
			}
			var ids []string
			for _, e := range arr {
				s, _ := e.(string)
				id, ok := idFromRef(s)
				if !ok {
					return b, rc.badRequest("Invalid object identifier '" + s + "'.")
				}
				ids = append(ids, id)
			}
			if strings.HasPrefix(strings.ToLower(k), "members") {
				b.members = ids
			} else {
				b.owners = ids
			}
		default:
			b.props = true
			if bad := t.applyProp(rc, t.groupSch, g, k, v); bad != nil {
				return b, bad
			}
		}
	}
	return b, nil
}

func validateNewGroup(rc *reqCtx, g *object) *gresp {
	for _, p := range []string{"displayName", "mailEnabled", "mailNickname", "securityEnabled"} {
		if _, ok := g.props[p]; !ok {
			return rc.badRequest(fmt.Sprintf("A value is required for property '%s' of resource 'Group'.", p))
		}
	}
	return validateGroup(rc, g)
}

func validateGroup(rc *reqCtx, g *object) *gresp {
	invalid := func(p string) *gresp {
		return rc.badRequest(fmt.Sprintf("Invalid value specified for property '%s' of resource 'Group'.", p))
	}
	if !validNickname(g.str("mailNickname"), true) {
		return invalid("mailNickname")
	}
	for _, gt := range g.strs("groupTypes") {
		if !strings.EqualFold(gt, "Unified") && !strings.EqualFold(gt, "DynamicMembership") {
			return invalid("groupTypes")
		}
	}
	if g.isDynamic() && g.str("membershipRule") == "" {
		return rc.badRequest("A value is required for property 'membershipRule'.")
	}
	switch {
	case g.boolean("mailEnabled") && !g.isUnified():
		return rc.badRequest(msgMailEnabledWrite)
	case g.isUnified() && !g.boolean("mailEnabled"):
		return invalid("mailEnabled")
	case !g.isUnified() && !g.boolean("securityEnabled"):
		return rc.badRequest(msgMailEnabledWrite)
	}
	if v := g.str("visibility"); v != "" && !slices.Contains([]string{"Public", "Private", "HiddenMembership"}, v) {
		return invalid("visibility")
	}
	return nil
}

// resolveBinds turns bind ids into objects, 404 for a missing or
// not-yet-replicated one; with a parent group it also checks nesting.
func (t *Tenant) resolveBinds(rc *reqCtx, parent *object, ids []string) ([]*object, *gresp) {
	var out []*object
	for _, id := range ids {
		o, bad := t.refObject(rc, id)
		if bad != nil {
			return nil, bad
		}
		if parent != nil {
			if bad := checkNesting(rc, parent, o); bad != nil {
				return nil, bad
			}
		}
		out = append(out, o)
	}
	return out, nil
}

// checkNesting applies graph.md §4.3's rules: no security group inside an
// M365 group, no M365 group inside any group, no group inside itself.
func checkNesting(rc *reqCtx, parent, member *object) *gresp {
	if member.kind != kindGroup {
		return nil
	}
	switch {
	case member.id == parent.id:
		return rc.badRequest("A group cannot be added as a member of itself.")
	case member.isUnified():
		return rc.badRequest("A Microsoft 365 group cannot be added as a member of another group.")
	case parent.isUnified():
		return rc.badRequest("A security group cannot be added as a member of a Microsoft 365 group.")
	}
	return nil
}

// securityIdentifier derives the group SID Entra shows for a cloud group.
func securityIdentifier(id string) string {
	raw, _ := hex.DecodeString(strings.ReplaceAll(id, "-", ""))
	if len(raw) != 16 {
		return ""
	}
	return fmt.Sprintf("S-1-12-1-%d-%d-%d-%d", binary.LittleEndian.Uint32(raw[0:]), binary.LittleEndian.Uint32(raw[4:]),
		binary.LittleEndian.Uint32(raw[8:]), binary.LittleEndian.Uint32(raw[12:]))
}

// patchGroup is PATCH /groups/{id} (graph.md §4.2, §4.3): 204; with
// members@odata.bind at most 20 references, all or nothing.
func (t *Tenant) patchGroup(rc *reqCtx) *gresp {
	body, bad := rc.decodeBody()
	if bad != nil {
		return bad
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	g, bad := t.groupRef(rc, rc.param(0))
	if bad != nil {
		return bad
	}
	next := cloneObject(g)
	binds, bad := t.applyGroupBody(rc, next, body)
	if bad != nil {
		return bad
	}
	if binds.props && !rc.app.hasAny([]string{"Group.ReadWrite.All", "Directory.ReadWrite.All"}) {
		return rc.denied() // GroupMember.ReadWrite.All cannot update properties (graph.md §9.4)
	}
	if len(binds.owners) > 0 {
		return rc.badRequest("Property 'owners@odata.bind' can only be set when a group is created.")
	}
	if len(binds.members) > 20 {
		return rc.badRequest("The request contains more than 20 members@odata.bind references; at most 20 are allowed per request.")
	}
	if bad := validateGroup(rc, next); bad != nil {
		return bad
	}
	if next.isUnified() != g.isUnified() {
		return rc.badRequest("Invalid value specified for property 'groupTypes' of resource 'Group'.")
	}
	members, bad := t.checkMemberAdds(rc, g, binds.members)
	if bad != nil {
		return bad
	}
	if prop := t.dir.conflict(next); prop != "" {
		return rc.conflictResp(prop)
	}
	t.dir.unindex(g)
	g.props = next.props
	t.dir.index(g)
	for _, m := range members {
		g.members.add(m.id)
		t.dir.linkMember(g.id, m.id)
	}
	t.markDirty()
	return noContent()
}

// deleteGroup soft-deletes a Microsoft 365 group and deletes any other
// group for good (graph.md §4.2).
func (t *Tenant) deleteGroup(rc *reqCtx) *gresp {
	t.mu.Lock()
	defer t.mu.Unlock()
	g, bad := t.groupRef(rc, rc.param(0))
	if bad != nil {
		return bad
	}
	if g.isUnified() {
		t.softDelete(g)
	} else {
		t.dir.purge(g)
	}
	t.markDirty()
	return noContent()
}
