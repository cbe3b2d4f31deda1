package engine

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/o365prov/o365prov/internal/state"
)

// planMembers diffs a group's members, as sets of source GUIDs, against
// what state says o365prov added: adds go 20 to a request, removes one each.
// Members o365prov did not provision are left alone, so a change of one
// member costs one write whatever the size of the group.
func (e *Engine) planMembers(ctx context.Context, p *planner, g *Entry, set *groupSet) error {
	want, groups, err := e.effectiveMembers(ctx, p, g, set)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	if err := e.store.Members(ctx, e.ch.Name, g.GUID, func(m string) error { have[m] = true; return nil }); err != nil {
		return fmt.Errorf("read members of %s: %w", g.DN, err)
	}
	var add, remove []string
	for m := range want {
		if !have[m] {
			add = append(add, m)
		}
	}
	for m := range have {
		if !want[m] {
			remove = append(remove, m)
		}
	}
	sort.Strings(add)
	sort.Strings(remove)
	name := groupName(g)
	add = p.membersAtCreation(g.GUID, add, groups)
	for i := 0; i < len(add); i += membersPerPatch {
		chunk := add[i:min(i+membersPerPatch, len(add))]
		p.b.add(Op{Type: OpAddMembers, Kind: KindGroup, GUID: g.GUID, DN: g.DN, Name: name, Members: chunk,
			DependsOn: p.b.after(append([]string{g.GUID}, chunk...)...), Reason: "members added in the directory"})
	}
	for _, m := range remove {
		p.b.add(Op{Type: OpRemoveMember, Kind: KindGroup, GUID: g.GUID, DN: g.DN, Name: name, Target: m,
			Reason: "no longer a member in the directory (or no longer provisioned)"})
	}
	return nil
}

// membersAtCreation gives a group created in this plan the members that do
// not fill a whole request of 20 — the rest go 20 to a PATCH — so that a new
// group of n members costs ⌈n/20⌉ writes in all, its creation included. It
// returns the members left for PATCHes.
//
// Only users go in the creation: a nested group there would make the two
// creations wait for each other when groups nest both ways.
func (p *planner) membersAtCreation(group string, add []string, groups map[string]bool) []string {
	id, ok := p.b.exists[group]
	if !ok || len(add) == 0 {
		return add
	}
	op := &p.b.plan.Ops[id-1]
	if op.Type != OpCreateGroup {
		return add
	}
	var users, rest []string
	for _, m := range add {
		if groups[m] {
			rest = append(rest, m)
		} else {
			users = append(users, m)
		}
	}
	n := len(users) % membersPerPatch
	if n == 0 {
		n = min(membersPerPatch, len(users))
	}
	op.Members = users[:n]
	op.DependsOn = append(op.DependsOn, p.b.after(op.Members...)...)
	return append(users[n:], rest...)
}

// effectiveMembers resolves a group's member DNs to the source GUIDs of
// provisioned objects: users, and nested groups — expanded into their
// members when flattenNested is on (with cycle detection), or kept as group
// members when it is off.
func (e *Engine) effectiveMembers(ctx context.Context, p *planner, g *Entry, set *groupSet) (members, groups map[string]bool, err error) {
	out := map[string]bool{}
	groups = map[string]bool{}
	visiting := map[string]bool{g.GUID: true}
	var walk func(grp *Entry) error
	walk = func(grp *Entry) error {
		for _, dn := range grp.Members {
			n := normDN(dn)
			nested := set.byDN[n]
			if nested == nil {
				guid, ok, err := p.provisionedUser(ctx, n, dn)
				if err != nil {
					return err
				}
				if ok {
					out[guid] = true
					continue
				}
				// Perhaps a managed group that did not change this cycle:
				// read it, so its members are not mistaken for gone.
				en, found, err := e.managedGroup(ctx, set, dn)
				if err != nil {
					return err
				}
				if !found {
					continue
				}
				set.addNested(en)
				nested = set.byDN[n]
			}
			if !e.ch.Options.FlattenNested {
				if p.groupProvisioned(ctx, nested.GUID) {
					out[nested.GUID] = true
					groups[nested.GUID] = true
				}
				continue
			}
			if visiting[nested.GUID] {
				continue // a loop of nested groups: each member once
			}
			visiting[nested.GUID] = true
			if err := walk(nested); err != nil {
				return err
			}
		}
		return nil
	}
	return out, groups, walk(g)
}

// provisionedUser finds the user a member DN names, if o365prov provisions
// it (or provisions it in this plan).
func (p *planner) provisionedUser(ctx context.Context, norm, dn string) (string, bool, error) {
	if guid, ok := p.userByDN[norm]; ok {
		if p.provisioned[guid] || p.b.exists[guid] > 0 {
			return guid, true, nil
		}
		return "", false, nil
	}
	o, err := p.store.ObjectByDN(ctx, p.channel(), state.KindUser, dn)
	switch {
	case errors.Is(err, state.ErrNotFound):
		return "", false, nil
	case err != nil:
		return "", false, fmt.Errorf("resolve member %s: %w", dn, err)
	}
	return o.GUID, isProvisioned(&o), nil
}

// groupProvisioned reports whether a group exists in Entra (or will in this
// plan), for nested membership.
func (p *planner) groupProvisioned(ctx context.Context, guid string) bool {
	if p.b.exists[guid] > 0 {
		return true
	}
	o, err := p.store.Object(ctx, p.channel(), state.KindGroup, guid)
	return err == nil && o.GraphID != "" && o.Lifecycle == state.LifecycleActive
}

func isProvisioned(o *state.Object) bool {
	return o.GraphID != "" && (o.Lifecycle == state.LifecycleActive || o.Lifecycle == state.LifecycleDisabled)
}

// planNewUserMemberships adds users that are new to Entra in an incremental
// cycle to the managed groups their memberOf names: the groups themselves
// did not change, so nothing else would.
func (e *Engine) planNewUserMemberships(ctx context.Context, p *planner, planned *groupSet) error {
	attr := e.ch.Source.MemberOfAttribute
	if attr == "" {
		return nil
	}
	additions := map[string][]string{} // group GUID → users
	groups := map[string]*state.Object{}
	for _, en := range p.newUsers {
		for _, dn := range attrValues(en.Attributes, attr) {
			if planned.byDN[normDN(dn)] != nil {
				continue
			}
			o, err := e.store.ObjectByDN(ctx, e.ch.Name, state.KindGroup, dn)
			if errors.Is(err, state.ErrNotFound) {
				continue
			}
			if err != nil {
				return fmt.Errorf("resolve group %s: %w", dn, err)
			}
			if o.GraphID == "" || o.Lifecycle != state.LifecycleActive {
				continue
			}
			groups[o.GUID] = &o
			additions[o.GUID] = append(additions[o.GUID], en.GUID)
		}
	}
	for _, gguid := range sortedKeys(additions) {
		o := groups[gguid]
		users := additions[gguid]
		sort.Strings(users)
		for i := 0; i < len(users); i += membersPerPatch {
			chunk := users[i:min(i+membersPerPatch, len(users))]
			p.b.add(Op{Type: OpAddMembers, Kind: KindGroup, GUID: gguid, DN: o.DN, Name: jsonString(o.Applied["displayName"]), GraphID: o.GraphID,
				Members: chunk, DependsOn: p.b.after(chunk...), Reason: "new users who are members in the directory"})
		}
	}
	return nil
}

func groupName(g *Entry) string {
	if v := attrValues(g.Attributes, "displayName"); len(v) > 0 {
		return v[0]
	}
	if v := attrValues(g.Attributes, "cn"); len(v) > 0 {
		return v[0]
	}
	return g.DN
}
