package faketenant

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"unicode"
)

func (t *Tenant) userListSpec(set *orderedSet, ctx string) listSpec {
	return listSpec{set: set, kind: kindUser, context: ctx, lookup: t.indexLookup}
}

// selectContext is the @odata.context fragment with a $select list, e.g.
// users(id,displayName).
func selectContext(entitySet string, sel []*propDef) string {
	if sel == nil {
		return entitySet
	}
	names := make([]string, len(sel))
	for i, p := range sel {
		names[i] = p.name
	}
	return entitySet + "(" + strings.Join(names, ",") + ")"
}

// listUsers is GET /users: 100 per page by default (graph.md §1.3).
func (t *Tenant) listUsers(rc *reqCtx) *gresp {
	q, bad := t.parseQuery(rc, t.userSch, queryOpts{collection: true, pageSize: 100, filter: true,
		orderBy: []string{"displayName", "userPrincipalName"}, expand: []string{"manager"}})
	if bad != nil {
		return bad
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.listObjects(rc, q, t.userListSpec(t.dir.users, selectContext("users", q.sel)))
}

func (t *Tenant) countUsers(rc *reqCtx) *gresp {
	q, bad := t.parseQuery(rc, t.userSch, queryOpts{collection: true, filter: true})
	if bad != nil {
		return bad
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.countResp(rc, q, t.userListSpec(t.dir.users, "users"))
}

// userRef finds an active user by id or UPN for a read or a reference: a
// user still inside its replication lag is not found (graph.md §7).
func (t *Tenant) userRef(rc *reqCtx, key string) (*object, *gresp) {
	u := t.dir.userByKey(key)
	if u == nil || !t.visible(u) {
		return nil, rc.notFound(key)
	}
	return u, nil
}

// getUser is GET /users/{id | userPrincipalName} (graph.md §1.2).
func (t *Tenant) getUser(rc *reqCtx) *gresp {
	q, bad := t.parseQuery(rc, t.userSch, queryOpts{expand: []string{"manager"}})
	if bad != nil {
		return bad
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	u, bad := t.userRef(rc, rc.param(0))
	if bad != nil {
		return bad
	}
	body := jsonObject{{"@odata.context", rc.context(selectContext("users", q.sel) + "/$entity")}}
	body = append(body, t.render(u, q.sel, false)...)
	return jsonResp(http.StatusOK, t.expandManager(u, q.expand, body, 1))
}

// createUser is POST /users (graph.md §1.1): 201 with the default
// properties, id first, as in the documented example.
func (t *Tenant) createUser(rc *reqCtx) *gresp {
	body, bad := rc.decodeBody()
	if bad != nil {
		return bad
	}
	u := &object{kind: kindUser, props: map[string]any{}}
	if bad := t.applyUserProps(rc, u, body); bad != nil {
		return bad
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if bad := t.validateUser(rc, u, nil); bad != nil {
		return bad
	}
	u.id = t.ids.guid()
	if prop := t.dir.conflict(u); prop != "" {
		return rc.conflictResp(prop)
	}
	now := t.clock.Now()
	u.created, u.visibleAt = now, now.Add(t.knobs().lag)
	if _, ok := u.props["userType"]; !ok {
		u.props["userType"] = "Member"
	}
	deriveUserAddresses(u)
	t.dir.insert(u)
	t.markDirty()
	out := jsonObject{{"@odata.context", rc.context("users/$entity")}, {"id", u.id}}
	for _, e := range t.render(u, nil, false) {
		if e.k != "id" {
			out = append(out, e)
		}
	}
	return jsonResp(http.StatusCreated, out)
}

// patchUser is PATCH /users/{id} (graph.md §1.4): 204, omitted properties
// unchanged.
func (t *Tenant) patchUser(rc *reqCtx) *gresp {
	body, bad := rc.decodeBody()
	if bad != nil {
		return bad
	}
	if _, ok := body["passwordProfile"]; ok && !rc.app.perms["User-PasswordProfile.ReadWrite.All"] {
		// graph.md §1.4: User.ReadWrite.All "does not allow reset of user
		// passwords" for an app.
		return rc.denied()
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	u, bad := t.userRef(rc, rc.param(0))
	if bad != nil {
		return bad
	}
	next := cloneObject(u)
	if bad := t.applyUserProps(rc, next, body); bad != nil {
		return bad
	}
	if bad := t.validateUser(rc, next, u); bad != nil {
		return bad
	}
	if _, ok := body["passwordProfile"]; ok && t.federatedUPN(next) {
		return rc.badRequest("The passwordProfile property cannot be used for federated users.")
	}
	deriveUserAddresses(next)
	if prop := t.dir.conflict(next); prop != "" {
		return rc.conflictResp(prop)
	}
	t.dir.unindex(u)
	u.props, u.password = next.props, next.password
	t.dir.index(u)
	t.markDirty()
	return noContent()
}

// deleteUser is DELETE /users/{id}: 204 and a soft delete (graph.md §1.5).
func (t *Tenant) deleteUser(rc *reqCtx) *gresp {
	t.mu.Lock()
	defer t.mu.Unlock()
	u, bad := t.userRef(rc, rc.param(0))
	if bad != nil {
		return bad
	}
	t.softDelete(u)
	t.markDirty()
	return noContent()
}

func cloneObject(o *object) *object {
	c := *o
	c.props = make(map[string]any, len(o.props))
	for k, v := range o.props {
		c.props[k] = v
	}
	return &c
}

// deriveUserAddresses sets proxyAddresses from mail, as Entra does for a
// cloud user; seeded users may carry their own.
func deriveUserAddresses(u *object) {
	if m := u.str("mail"); m != "" {
		addrs := []string{"SMTP:" + m}
		for _, p := range u.strs("proxyAddresses") {
			if !strings.EqualFold(strings.TrimPrefix(strings.TrimPrefix(p, "SMTP:"), "smtp:"), m) {
				addrs = append(addrs, "smtp:"+strings.TrimPrefix(strings.TrimPrefix(p, "SMTP:"), "smtp:"))
			}
		}
		u.props["proxyAddresses"] = addrs
	}
}

// applyUserProps copies a request body onto u, checking each property's
// name, writability and type.
func (t *Tenant) applyUserProps(rc *reqCtx, u *object, body map[string]any) *gresp {
	keys := make([]string, 0, len(body))
	for k := range body {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := body[k]
		if k == "@odata.type" {
			if s, _ := v.(string); strings.TrimPrefix(s, "#") != "microsoft.graph.user" {
				return rc.badRequest("Invalid value specified for property '@odata.type' of resource 'User'.")
			}
			continue
		}
		if k == "passwordProfile" {
			pp, ok := parsePasswordProfile(v)
			if !ok {
				return rc.badRequest("Invalid value specified for property 'passwordProfile' of resource 'User'.")
			}
			if pp.Password == "" {
				pp.Password = u.password.Password
			}
			u.password = pp
			continue
		}
		if bad := t.applyProp(rc, t.userSch, u, k, v); bad != nil {
			return bad
		}
	}
	return nil
}

// applyProp sets one property of a user or group from JSON.
func (t *Tenant) applyProp(rc *reqCtx, sch *schema, o *object, k string, v any) *gresp {
	p, ok := sch.lookup(k)
	switch {
	case !ok:
		return rc.badRequest(fmt.Sprintf("Property '%s' does not exist as a declared property or extension property.", k))
	case p.noList:
		// graph.md §1.4: an app cannot set these.
		return rc.denied()
	case !p.writable:
		return rc.badRequest(fmt.Sprintf("Property '%s' is read-only and cannot be set.", p.name))
	}
	val, msg := coerce(p, v)
	if msg != "" {
		return rc.badRequest(msg)
	}
	invalid := rc.badRequest(fmt.Sprintf("Invalid value specified for property '%s' of resource '%s'.", p.name, sch.resource))
	switch x := val.(type) {
	case string:
		if p.maxLen > 0 && len([]rune(x)) > p.maxLen {
			return invalid
		}
		if x == "" {
			delete(o.props, p.name)
			return nil
		}
	case map[string]any:
		if p.name != "onPremisesExtensionAttributes" {
			return invalid
		}
		return mergeExtensionAttributes(o, x, invalid)
	case []string:
		if p.name == "businessPhones" && len(x) > 1 {
			return invalid
		}
	case nil:
		delete(o.props, p.name)
		return nil
	}
	o.props[p.name] = val
	return nil
}

func mergeExtensionAttributes(o *object, m map[string]any, invalid *gresp) *gresp {
	cur, _ := o.props["onPremisesExtensionAttributes"].(map[string]any)
	next := map[string]any{}
	for i := 1; i <= 15; i++ {
		next[fmt.Sprintf("extensionAttribute%d", i)] = nil
	}
	for k, v := range cur {
		next[k] = v
	}
	for k, v := range m {
		if _, ok := next[k]; !ok {
			return invalid
		}
		if s, ok := v.(string); ok && len(s) <= 1024 {
			next[k] = s
		} else if v == nil {
			next[k] = nil
		} else {
			return invalid
		}
	}
	o.props["onPremisesExtensionAttributes"] = next
	return nil
}

func parsePasswordProfile(v any) (passwordProfile, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return passwordProfile{}, false
	}
	var pp passwordProfile
	for k, val := range m {
		switch k {
		case "password":
			s, ok := val.(string)
			if !ok && val != nil {
				return pp, false
			}
			pp.Password = s
		case "forceChangePasswordNextSignIn":
			b, ok := val.(bool)
			if !ok {
				return pp, false
			}
			pp.ForceChangePasswordNextSignIn = b
		case "forceChangePasswordNextSignInWithMfa":
			b, ok := val.(bool)
			if !ok {
				return pp, false
			}
			pp.ForceChangePasswordNextSignInWithMfa = b
		default:
			return pp, false
		}
	}
	return pp, true
}

func (t *Tenant) federatedUPN(u *object) bool {
	_, dom, _ := strings.Cut(u.str("userPrincipalName"), "@")
	d := t.dir.domain(dom)
	return d != nil && d.fed != nil
}

// validateUser enforces graph.md §1.1 on the would-be state of a user; old
// is nil on create.
func (t *Tenant) validateUser(rc *reqCtx, u, old *object) *gresp {
	required := func(p string) *gresp {
		return rc.badRequest(fmt.Sprintf("A value is required for property '%s' of resource 'User'.", p))
	}
	invalid := func(p string) *gresp {
		return rc.badRequest(fmt.Sprintf("Invalid value specified for property '%s' of resource 'User'.", p))
	}
	if old == nil {
		if _, ok := u.props["accountEnabled"]; !ok {
			return required("accountEnabled")
		}
		for _, p := range []string{"displayName", "mailNickname"} {
			if u.str(p) == "" {
				return required(p)
			}
		}
		if u.password.Password == "" {
			return required("passwordProfile")
		}
		if u.str("userPrincipalName") == "" {
			return rc.badRequest(msgUPNDomain)
		}
	} else {
		for _, p := range []string{"displayName", "userPrincipalName", "mailNickname", "usageLocation", "accountEnabled"} {
			if _, had := old.props[p]; had {
				if _, has := u.props[p]; !has {
					return invalid(p) // graph.md §1.1, §1.4: cannot be cleared
				}
			}
		}
		if old.str("onPremisesImmutableId") != "" && u.str("onPremisesImmutableId") == "" {
			return invalid("onPremisesImmutableId") // graph.md §1.1: nulling gives 400
		}
	}
	if bad := t.checkUPN(rc, u); bad != nil {
		return bad
	}
	if !validNickname(u.str("mailNickname"), false) {
		return invalid("mailNickname")
	}
	if loc := u.str("usageLocation"); loc != "" {
		if len(loc) != 2 || !isASCIILetters(loc) {
			return invalid("usageLocation")
		}
		u.props["usageLocation"] = strings.ToUpper(loc)
	}
	if m := u.str("mail"); m != "" && !validAddress(m) {
		return invalid("mail")
	}
	if old == nil || u.password != old.password {
		if !strings.Contains(u.str("passwordPolicies"), "DisableStrongPassword") && !strongPassword(u.password.Password) {
			return rc.badRequest("The specified password does not comply with password complexity requirements. Please provide a different password.")
		}
	}
	return nil
}

const msgUPNDomain = "The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization."

// checkUPN: a verified domain, legal characters, and on a federated domain
// an onPremisesImmutableId without '$' or '_' (graph.md §1.1, §12.3).
func (t *Tenant) checkUPN(rc *reqCtx, u *object) *gresp {
	upn := u.str("userPrincipalName")
	alias, dom, ok := strings.Cut(upn, "@")
	if !ok || alias == "" || strings.Contains(dom, "@") {
		return rc.badRequest(msgUPNDomain)
	}
	d := t.dir.domain(dom)
	if d == nil || !d.verified {
		return rc.badRequest(msgUPNDomain)
	}
	if !validUPNAlias(alias) || len(upn) > 113 {
		return rc.badRequest("Property userPrincipalName is invalid.")
	}
	imm := u.str("onPremisesImmutableId")
	if strings.ContainsAny(imm, "$_") {
		return rc.badRequest("Invalid value specified for property 'onPremisesImmutableId' of resource 'User'.")
	}
	if d.fed != nil && imm == "" {
		return rc.badRequest("SourceAnchor is a required property for creation of a federated user.")
	}
	return nil
}

func validUPNAlias(a string) bool {
	if len(a) > 64 || strings.HasPrefix(a, ".") || strings.HasSuffix(a, ".") || strings.Contains(a, "..") {
		return false
	}
	for _, c := range a {
		if !(c < unicode.MaxASCII && (unicode.IsLetter(c) || unicode.IsDigit(c))) && !strings.ContainsRune("'.-_!#^~$", c) {
			return false
		}
	}
	return true
}

// validNickname: no @()\[]";:<>, or space (graph.md §4.1); groups also
// forbid '.'.
func validNickname(n string, group bool) bool {
	if n == "" {
		return true
	}
	bad := `@()\[]";:<>, `
	if group {
		bad += "."
	}
	for _, c := range n {
		if c > unicode.MaxASCII || unicode.IsControl(c) || strings.ContainsRune(bad, c) {
			return false
		}
	}
	return true
}

func validAddress(s string) bool {
	local, dom, ok := strings.Cut(s, "@")
	return ok && local != "" && strings.Contains(dom, ".") && !strings.ContainsAny(s, " <>()[]\\,;:\"")
}

func isASCIILetters(s string) bool {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// strongPassword is Entra's default rule: 8–256 characters from at least
// three of upper case, lower case, digits and symbols.
func strongPassword(p string) bool {
	n := len([]rune(p))
	if n < 8 || n > 256 {
		return false
	}
	var up, low, dig, sym int
	for _, c := range p {
		switch {
		case unicode.IsUpper(c):
			up = 1
		case unicode.IsLower(c):
			low = 1
		case unicode.IsDigit(c):
			dig = 1
		default:
			sym = 1
		}
	}
	return up+low+dig+sym >= 3
}
