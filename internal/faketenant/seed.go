package faketenant

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// SeedUser describes a user to put straight into the directory, as if it
// had been created before the client arrived (cloud-only users for hard and
// soft match tests, synced users, users with licences).
type SeedUser struct {
	// ID is the object id; empty picks one.
	ID string
	// Properties uses Graph's JSON names (userPrincipalName, displayName,
	// onPremisesImmutableId, mail, proxyAddresses, onPremisesSyncEnabled, …).
	// Read-only properties may be set here.
	Properties map[string]any
	Password   string
	Licenses   []AssignedLicense
	// Deleted puts the user in deleted items, deleted now.
	Deleted bool
}

// SeedGroup describes a group to put straight into the directory. Any
// combination Graph has is allowed, including mail-enabled security groups
// and distribution lists that Graph itself cannot create.
type SeedGroup struct {
	ID         string
	Properties map[string]any
	Members    []string
	Owners     []string
	Deleted    bool
}

// AddUser seeds a user. It must have a userPrincipalName on one of the
// tenant's domains and must not collide with another object's unique values.
// Seeded objects are visible at once (no replication lag).
func (t *Tenant) AddUser(su SeedUser) (string, error) {
	o := &object{id: strings.ToLower(su.ID), kind: kindUser, password: passwordProfile{Password: su.Password}}
	props, err := normalizeProps(t.userSch, su.Properties)
	if err != nil {
		return "", fmt.Errorf("seed user: %w", err)
	}
	o.props = props
	if _, ok := o.props["accountEnabled"]; !ok {
		o.props["accountEnabled"] = true
	}
	if _, ok := o.props["userType"]; !ok {
		o.props["userType"] = "Member"
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	_, dom, _ := strings.Cut(o.str("userPrincipalName"), "@")
	if t.dir.domain(dom) == nil {
		return "", fmt.Errorf("seed user: userPrincipalName %q is not on a tenant domain", o.str("userPrincipalName"))
	}
	if _, ok := o.props["proxyAddresses"]; !ok {
		deriveUserAddresses(o)
	}
	if err := t.prepareSeed(o, su.ID); err != nil {
		return "", fmt.Errorf("seed user %s: %w", o.str("userPrincipalName"), err)
	}
	for _, l := range su.Licenses {
		s := t.dir.sku(l.SkuID)
		if s == nil {
			return "", fmt.Errorf("seed user: unknown SKU %s", l.SkuID)
		}
		if s.consumed >= s.enabled {
			return "", fmt.Errorf("seed user: SKU %s has no free units", l.SkuID)
		}
		o.licenses = append(o.licenses, license{SkuID: s.skuID, Disabled: l.DisabledPlans, Assigned: o.created})
	}
	for _, l := range o.licenses {
		t.dir.sku(l.SkuID).consumed++
	}
	t.commitSeed(o, su.Deleted)
	return o.id, nil
}

// AddGroup seeds a group with its members and owners (ids of existing
// objects).
func (t *Tenant) AddGroup(sg SeedGroup) (string, error) {
	o := &object{id: strings.ToLower(sg.ID), kind: kindGroup, members: newOrderedSet(), owners: map[string]bool{}}
	props, err := normalizeProps(t.groupSch, sg.Properties)
	if err != nil {
		return "", fmt.Errorf("seed group: %w", err)
	}
	o.props = props
	if o.str("displayName") == "" {
		return "", errors.New("seed group: displayName is required")
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if o.isUnified() && o.str("mail") == "" && o.str("mailNickname") != "" {
		o.props["mail"] = o.str("mailNickname") + "@" + t.dir.defaultDomain().name
		o.props["proxyAddresses"] = []string{"SMTP:" + o.str("mail")}
	}
	for _, id := range append(slices.Clone(sg.Members), sg.Owners...) {
		if t.dir.objects[strings.ToLower(id)] == nil {
			return "", fmt.Errorf("seed group: no object %s", id)
		}
	}
	if err := t.prepareSeed(o, sg.ID); err != nil {
		return "", fmt.Errorf("seed group %s: %w", o.str("displayName"), err)
	}
	if _, ok := o.props["securityIdentifier"]; !ok {
		o.props["securityIdentifier"] = securityIdentifier(o.id)
	}
	t.commitSeed(o, sg.Deleted)
	for _, m := range sg.Members {
		if o.members.add(strings.ToLower(m)) {
			t.dir.linkMember(o.id, strings.ToLower(m))
		}
	}
	for _, m := range sg.Owners {
		o.owners[strings.ToLower(m)] = true
		t.dir.linkOwner(o.id, strings.ToLower(m))
	}
	return o.id, nil
}

func (t *Tenant) prepareSeed(o *object, id string) error {
	if id == "" {
		o.id = t.ids.guid()
	} else if !isGUID(id) {
		return fmt.Errorf("id %q is not a GUID", id)
	} else if t.dir.objects[o.id] != nil {
		return fmt.Errorf("id %s is taken", id)
	}
	if prop := t.dir.conflict(o); prop != "" {
		return fmt.Errorf("another object has the same %s", prop)
	}
	o.created = t.clock.Now()
	o.visibleAt = o.created
	return nil
}

func (t *Tenant) commitSeed(o *object, deleted bool) {
	t.dir.insert(o)
	if deleted {
		t.softDelete(o)
	}
	t.markDirty()
}

// AddMembers adds existing objects to a group, skipping current members.
func (t *Tenant) AddMembers(groupID string, memberIDs ...string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	g := t.dir.objects[strings.ToLower(groupID)]
	if g == nil || g.kind != kindGroup {
		return fmt.Errorf("add members: no group %s", groupID)
	}
	for _, m := range memberIDs {
		m = strings.ToLower(m)
		if t.dir.objects[m] == nil {
			return fmt.Errorf("add members: no object %s", m)
		}
		if g.members.add(m) {
			t.dir.linkMember(g.id, m)
		}
	}
	t.markDirty()
	return nil
}

// SetManager sets (or, with an empty managerID, clears) a user's manager.
func (t *Tenant) SetManager(userID, managerID string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	u := t.dir.objects[strings.ToLower(userID)]
	if u == nil || u.kind != kindUser {
		return fmt.Errorf("set manager: no user %s", userID)
	}
	if managerID != "" {
		m := t.dir.objects[strings.ToLower(managerID)]
		if m == nil || m.kind != kindUser {
			return fmt.Errorf("set manager: no user %s", managerID)
		}
	}
	t.dir.setManager(u, strings.ToLower(managerID))
	t.markDirty()
	return nil
}

// IssueToken mints an access token for a registered app without going
// through the token endpoint, for tests that only exercise Graph.
func (t *Tenant) IssueToken(clientID string) (string, error) {
	a := t.apps[strings.ToLower(clientID)]
	if a == nil {
		return "", fmt.Errorf("issue token: no app %s", clientID)
	}
	tok, _, err := t.issueToken(a, false)
	return tok, err
}

// CheckConsistency verifies the directory's invariants: every index entry
// points at an object holding that value, memberships and manager links are
// mirrored both ways, deleted and active sets are disjoint, and each SKU's
// consumed units equal the licences held.
func (t *Tenant) CheckConsistency() error {
	t.mu.RLock()
	defer t.mu.RUnlock()
	d := t.dir
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	for key, id := range d.upn {
		if o := d.objects[id]; o == nil || strings.ToLower(o.str("userPrincipalName")) != key {
			fail("upn index %s → %s is stale", key, id)
		}
	}
	for key, id := range d.immutable {
		if o := d.objects[id]; o == nil || o.str("onPremisesImmutableId") != key {
			fail("immutableId index %s → %s is stale", key, id)
		}
	}
	for key, id := range d.addr {
		if o := d.objects[id]; o == nil || !slices.Contains(addresses(o), key) {
			fail("address index %s → %s is stale", key, id)
		}
	}
	consumed := map[string]int{}
	for id, o := range d.objects {
		if d.conflict(o) != "" {
			fail("object %s shares a unique value with another", id)
		}
		if o.active() == d.deleted.has(id) || o.active() != d.order(o.kind).has(id) {
			fail("object %s is in the wrong active/deleted set", id)
		}
		for _, l := range o.licenses {
			consumed[l.SkuID]++
		}
		if o.manager != "" && !d.reports[o.manager][id] {
			fail("manager link of %s is not mirrored", id)
		}
		if o.kind == kindGroup {
			for _, m := range o.members.keys() {
				if d.objects[m] == nil || !d.memberOf[m][id] {
					fail("member %s of %s is not mirrored or missing", m, id)
				}
			}
		}
	}
	for m, groups := range d.memberOf {
		for g := range groups {
			if o := d.objects[g]; o == nil || !o.members.has(m) {
				fail("memberOf %s → %s has no membership", m, g)
			}
		}
	}
	for _, s := range d.skus {
		if s.consumed != consumed[s.skuID] || s.consumed > s.enabled && consumed[s.skuID] > s.enabled {
			fail("sku %s consumed %d, licences held %d", s.part, s.consumed, consumed[s.skuID])
		}
	}
	if d.users.len()+d.groups.len()+d.deleted.len() != len(d.objects) {
		fail("sets hold %d objects, map holds %d", d.users.len()+d.groups.len()+d.deleted.len(), len(d.objects))
	}
	return errors.Join(errs...)
}
