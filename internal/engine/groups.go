package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/o365prov/o365prov/internal/config"
	"github.com/o365prov/o365prov/internal/mapping"
	"github.com/o365prov/o365prov/internal/state"
)

// membersPerPatch is Graph's limit of members@odata.bind per request
// (graph.md §4.3).
const membersPerPatch = 20

// groupSet is the source groups of a cycle, by normalised DN, so nested
// groups can be expanded.
type groupSet struct {
	byDN    map[string]*Entry
	guids   map[string]bool // in scope (planned, or kept as they are)
	planned map[string]bool
	ordered []*Entry
}

func newGroupSet() *groupSet {
	return &groupSet{byDN: map[string]*Entry{}, guids: map[string]bool{}, planned: map[string]bool{}}
}

// add plans a group once, however many times it is read (changed, and due
// for a retry).
func (s *groupSet) add(e Entry) {
	if s.planned[e.GUID] {
		return
	}
	s.planned[e.GUID] = true
	en := e
	s.byDN[normDN(e.DN)] = &en
	s.guids[e.GUID] = true
	s.ordered = append(s.ordered, &en)
}

// addNested makes a group known for expanding nested membership without
// planning it (it did not change).
func (s *groupSet) addNested(e Entry) {
	en := e
	s.byDN[normDN(e.DN)] = &en
}

// groupsEnabled reports whether the channel provisions groups.
func (e *Engine) groupsEnabled() bool { return e.ch.Source.Groups != nil }

// planGroupsFull plans every in-scope group and its members, then the groups
// o365prov manages that are gone from the directory.
func (e *Engine) planGroupsFull(ctx context.Context, p *planner) error {
	if !e.groupsEnabled() {
		return nil
	}
	set := newGroupSet()
	err := e.source.Groups(ctx, e.groupAttrs(), func(g Entry) error {
		if g.Skip != "" {
			return p.keepSkippedGroup(ctx, set, g.DN, g.Skip)
		}
		set.add(g)
		return nil
	})
	if err != nil {
		return abort("read groups", err)
	}
	if err := e.planGroups(ctx, p, set); err != nil {
		return err
	}
	return e.store.Objects(ctx, e.ch.Name, state.KindGroup, func(o state.Object) error {
		if !set.guids[o.GUID] && o.GraphID != "" && o.Lifecycle == state.LifecycleActive {
			p.planMissingGroup(&o)
		}
		return nil
	})
}

// planGroupsChanged plans the groups that changed since the watermark, the
// groups the directory says were deleted, and the memberships of users that
// are new to Entra in this cycle (their groups did not change, so only the
// users' memberOf tells).
func (e *Engine) planGroupsChanged(ctx context.Context, p *planner, changed []Entry, deleted []string, scopeChanged bool) error {
	if !e.groupsEnabled() {
		return nil
	}
	set := newGroupSet()
	for _, g := range changed {
		if g.Skip != "" {
			if err := p.keepSkippedGroup(ctx, set, g.DN, g.Skip); err != nil {
				return err
			}
			continue
		}
		set.add(g)
	}
	if e.ch.Options.FlattenNested {
		// A flattened parent's members changed with its nested group's.
		if err := e.addParents(ctx, set); err != nil {
			return err
		}
	}
	if err := e.planGroups(ctx, p, set); err != nil {
		return err
	}
	for _, g := range deleted {
		o, err := e.store.Object(ctx, e.ch.Name, state.KindGroup, g)
		if errors.Is(err, state.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("read state of deleted group %s: %w", g, err)
		}
		p.planMissingGroup(&o)
	}
	if scopeChanged {
		inScope := map[string]bool{}
		err := e.source.Enumerate(ctx, KindGroup, func(guid, dn string) error {
			if guid == "" {
				g, err := p.keep(ctx, KindGroup, dn)
				inScope[g] = g != ""
				return err
			}
			inScope[guid] = true
			return nil
		})
		if err != nil {
			return abort("enumerate groups in scope", err)
		}
		err = e.store.Objects(ctx, e.ch.Name, state.KindGroup, func(o state.Object) error {
			if !inScope[o.GUID] && !set.guids[o.GUID] && o.GraphID != "" && o.Lifecycle == state.LifecycleActive {
				p.planMissingGroup(&o)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return e.planNewUserMemberships(ctx, p, set)
}

// planGroups plans each group of set: create, adopt or update first, then —
// once every group of the cycle is planned to exist, so nested groups can
// be members — their memberships.
func (e *Engine) planGroups(ctx context.Context, p *planner, set *groupSet) error {
	type mapped struct {
		g       *Entry
		desired mapping.Object
		st      state.Object
	}
	var all []mapped
	var fresh []string
	for _, g := range set.ordered {
		desired, err := e.groups.Map(mapping.Entry{DN: g.DN, GUID: g.GUID, RawGUID: g.RawGUID, Enabled: true, Attributes: g.Attributes})
		if err != nil {
			p.b.problem(KindGroup, g.GUID, g.DN, "%v", err)
			continue
		}
		if why := invalidFields(e.groupProps(desired), groupRules); why != "" {
			p.b.problem(KindGroup, g.GUID, g.DN, "invalid: %s; nothing of it is sent to Entra", why)
			continue
		}
		st, err := e.store.Object(ctx, e.ch.Name, state.KindGroup, g.GUID)
		switch {
		case errors.Is(err, state.ErrNotFound):
			st = state.Object{}
		case err != nil:
			return fmt.Errorf("read state of group %s: %w", g.DN, err)
		}
		all = append(all, mapped{g, desired, st})
		if st.GraphID == "" {
			fresh = append(fresh, g.GUID)
		}
	}
	anchored := e.findAnchored(ctx, fresh)
	if len(anchored.failed) == len(fresh) {
		errs := make([]error, 0, len(fresh))
		for _, g := range fresh {
			errs = append(errs, anchored.failed[g])
		}
		if err := unreachable(errs); err != nil {
			return err
		}
	}
	var adoptable *groupIndex
	var present []*Entry
	for _, m := range all {
		g, desired, st := m.g, m.desired, m.st
		if st.GraphID == "" {
			if err := anchored.failed[g.GUID]; err != nil {
				p.b.problem(KindGroup, g.GUID, g.DN, "could not be looked up in Entra before creating it (retried later): %v", err)
				continue
			}
			if found := anchored.found[g.GUID]; len(found) > 0 {
				if !e.planAnchoredGroup(p, g, desired, found) {
					continue
				}
				present = append(present, g)
				continue
			}
			if e.ch.Options.AdoptExistingGroups != "" && adoptable == nil {
				var err error
				if adoptable, err = e.indexGroups(ctx); err != nil {
					return err
				}
			}
			if !e.planNewGroup(p, g, desired, adoptable) {
				continue
			}
		} else {
			if e.ch.Options.GroupUpdate {
				e.planGroupUpdate(p, g, desired, &st)
			}
			if st.Applied[keyAnchor] == "" {
				e.planAnchorMark(p, g, desired.String("displayName"), &st)
			}
		}
		present = append(present, g)
	}
	for _, g := range present {
		if err := e.planMembers(ctx, p, g, set); err != nil {
			return err
		}
	}
	return nil
}

// planAnchoredGroup links the group o365prov created earlier for g (it
// carries g's GUID as its source anchor) and writes what differs; false
// when several carry it and none is chosen.
func (e *Engine) planAnchoredGroup(p *planner, g *Entry, desired mapping.Object, found []TargetGroup) bool {
	if len(found) > 1 {
		p.b.problem(KindGroup, g.GUID, g.DN, "%d groups in Entra carry this entry's source anchor (o365prov created them): not choosing one; delete the extra ones", len(found))
		return false
	}
	write, _ := fieldDiff(desired.Fields, nil, map[string]string{
		"displayName": canon(found[0].DisplayName), "mailNickname": canon(found[0].MailNickname),
	}, mappedKinds(e.groups, config.GroupFieldKind))
	if !e.ch.Options.GroupUpdate {
		write = map[string]any{}
	}
	p.b.add(Op{Type: OpLinkGroup, Kind: KindGroup, GUID: g.GUID, DN: g.DN, Name: desired.String("displayName"), GraphID: found[0].ID,
		Fields: write, Record: withAnchor(createRecord(graphFields(desired.Fields)), g.GUID), Lifecycle: string(state.LifecycleActive),
		Reason: "created by o365prov earlier (it carries this entry's source anchor): linked, not created again" + changedList(write)})
	return true
}

// groupProps is a group's Graph properties: the mapped fields and the type.
func (e *Engine) groupProps(desired mapping.Object) map[string]any {
	props := graphFields(desired.Fields)
	if e.ch.Options.GroupType == config.GroupMicrosoft365 {
		props["mailEnabled"], props["securityEnabled"], props["groupTypes"] = true, false, []string{"Unified"}
	} else {
		props["mailEnabled"], props["securityEnabled"], props["groupTypes"] = false, true, []string{}
	}
	return props
}

// planNewGroup adopts a matching cloud group or creates one; false when the
// group stays out of Entra.
func (e *Engine) planNewGroup(p *planner, g *Entry, desired mapping.Object, adoptable *groupIndex) bool {
	name := desired.String("displayName")
	if adoptable != nil {
		key := desired.String(e.ch.Options.AdoptExistingGroups)
		switch found := adoptable.find(key); len(found) {
		case 0:
		case 1:
			write, _ := fieldDiff(desired.Fields, nil, map[string]string{
				"displayName": canon(found[0].DisplayName), "mailNickname": canon(found[0].MailNickname),
			}, mappedKinds(e.groups, config.GroupFieldKind))
			write[AnchorField] = g.GUID // managed from now on: a fresh state finds it by its anchor
			p.b.add(Op{Type: OpLinkGroup, Kind: KindGroup, GUID: g.GUID, DN: g.DN, Name: name, GraphID: found[0].ID,
				Fields: write, Record: withAnchor(createRecord(graphFields(desired.Fields)), g.GUID), Lifecycle: string(state.LifecycleActive),
				Reason: fmt.Sprintf("adopted: an existing cloud group has %s %q (adoptExistingGroups)", e.ch.Options.AdoptExistingGroups, key)})
			return true
		default:
			p.b.problem(KindGroup, g.GUID, g.DN, "%d cloud groups have %s %q: not adopting any (make it unique)", len(found), e.ch.Options.AdoptExistingGroups, key)
			return false
		}
	}
	if !e.ch.Options.GroupCreate {
		p.b.plan.Skipped = append(p.b.plan.Skipped, Problem{Kind: KindGroup, GUID: g.GUID, DN: g.DN, Reason: "new in the directory, but groupCreate is off"})
		return false
	}
	props := e.groupProps(desired)
	p.b.add(Op{Type: OpCreateGroup, Kind: KindGroup, GUID: g.GUID, DN: g.DN, Name: name, Fields: props,
		Record: withAnchor(createRecord(graphFields(desired.Fields)), g.GUID), Lifecycle: string(state.LifecycleActive), Reason: "new in the directory"})
	return true
}

func (e *Engine) planGroupUpdate(p *planner, g *Entry, desired mapping.Object, st *state.Object) {
	write, record := fieldDiff(desired.Fields, desired.CreateOnly, st.Applied, mappedKinds(e.groups, config.GroupFieldKind))
	if st.Lifecycle != state.LifecycleActive {
		record = mergeRecord(st.Applied, record)
	}
	if len(write) == 0 && st.Lifecycle == state.LifecycleActive {
		return
	}
	reason := "changed in the directory" + changedList(write)
	if _, renamed := write["displayName"]; renamed {
		reason = "renamed in the directory" + changedList(write)
	}
	if st.Lifecycle != state.LifecycleActive {
		reason = "back in the directory's scope: managed again" + changedList(write)
	}
	p.b.add(Op{Type: OpUpdateGroup, Kind: KindGroup, GUID: g.GUID, DN: g.DN, Name: desired.String("displayName"), GraphID: st.GraphID,
		Fields: write, Record: record, Lifecycle: string(state.LifecycleActive), Reason: reason})
}

// planMissingGroup deletes a managed group gone from the directory, or —
// when groupDelete is off — stops managing it and leaves it in Entra.
func (p *planner) planMissingGroup(o *state.Object) {
	name := strings.Trim(o.Applied["displayName"], `"`)
	if p.ch.Options.GroupDelete {
		p.b.add(Op{Type: OpDeleteGroup, Kind: KindGroup, GUID: o.GUID, DN: o.DN, Name: name, GraphID: o.GraphID,
			Reason: "no longer in the directory's scope: deleted (groupDelete; security groups are deleted for good)"})
		return
	}
	p.b.add(Op{Type: OpForgetGroup, Kind: KindGroup, GUID: o.GUID, DN: o.DN, Name: name, GraphID: o.GraphID,
		Lifecycle: string(state.LifecycleDisabled), Reason: "no longer in the directory's scope: left in Entra, no longer managed (groupDelete is off)"})
}

// groupIndex finds cloud groups to adopt by displayName or mailNickname.
type groupIndex struct {
	by    string
	index map[string][]TargetGroup
}

func (e *Engine) indexGroups(ctx context.Context) (*groupIndex, error) {
	x := &groupIndex{by: e.ch.Options.AdoptExistingGroups, index: map[string][]TargetGroup{}}
	err := e.target.ListGroups(ctx, func(g TargetGroup) error {
		key := g.DisplayName
		if x.by == "mailNickname" {
			key = g.MailNickname
		}
		k := strings.ToLower(key)
		x.index[k] = append(x.index[k], g)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list groups to adopt: %w", err)
	}
	return x, nil
}

func (x *groupIndex) find(key string) []TargetGroup {
	if key == "" {
		return nil
	}
	return x.index[strings.ToLower(key)]
}

// addParents adds to set the managed groups that hold a group of set, as the
// group's memberOf names them, up to ten levels: when members are flattened,
// a parent's members change with its nested group's though its own entry
// does not. (Without memberOf, parents catch up at the next reconciliation,
// which reads every group.)
func (e *Engine) addParents(ctx context.Context, set *groupSet) error {
	attr := e.ch.Source.MemberOfAttribute
	if attr == "" {
		return nil
	}
	todo := append([]*Entry(nil), set.ordered...)
	for depth := 0; depth < 10 && len(todo) > 0; depth++ {
		var next []*Entry
		for _, g := range todo {
			for _, dn := range attrValues(g.Attributes, attr) {
				en, ok, err := e.managedGroup(ctx, set, dn)
				if err != nil {
					return err
				}
				if ok {
					set.add(en)
					next = append(next, set.byDN[normDN(dn)])
				}
			}
		}
		todo = next
	}
	return nil
}

// managedGroup reads a group o365prov manages, by DN, unless set has it.
func (e *Engine) managedGroup(ctx context.Context, set *groupSet, dn string) (Entry, bool, error) {
	if set.byDN[normDN(dn)] != nil {
		return Entry{}, false, nil
	}
	if _, err := e.store.ObjectByDN(ctx, e.ch.Name, state.KindGroup, dn); errors.Is(err, state.ErrNotFound) {
		return Entry{}, false, nil
	} else if err != nil {
		return Entry{}, false, fmt.Errorf("read state of group %s: %w", dn, err)
	}
	en, err := e.source.Lookup(ctx, KindGroup, dn, e.groupAttrs())
	if errors.Is(err, ErrNotInSource) {
		return Entry{}, false, nil
	}
	if err != nil {
		return Entry{}, false, abort("read group "+dn, err)
	}
	return en, true, nil
}

// keepSkippedGroup is keepSkipped for a group: the group o365prov manages at
// that DN is neither planned nor taken for gone.
func (p *planner) keepSkippedGroup(ctx context.Context, set *groupSet, dn, reason string) error {
	g, err := p.keep(ctx, KindGroup, dn)
	if err != nil {
		return err
	}
	if g != "" {
		set.guids[g] = true
	}
	p.b.problem(KindGroup, "", dn, "the directory entry cannot be used (%s): left as it is in Entra until it can", reason)
	return nil
}
