package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/o365prov/o365prov/internal/config"
)

// bulkMatchThreshold is how many unmatched users make one listing of the
// tenant cheaper than a lookup each (a page holds 999 users).
const bulkMatchThreshold = 50

// userIndex finds target users by immutableId and by UPN.
type userIndex struct {
	byImmutable map[string]*TargetUser
	byUPN       map[string]*TargetUser
}

func newUserIndex() *userIndex {
	return &userIndex{byImmutable: map[string]*TargetUser{}, byUPN: map[string]*TargetUser{}}
}

func (x *userIndex) add(u TargetUser) {
	if u.ImmutableID != "" {
		x.byImmutable[u.ImmutableID] = &u
	}
	if u.UserPrincipalName != "" {
		x.byUPN[strings.ToLower(u.UserPrincipalName)] = &u
	}
}

func (x *userIndex) find(immutableID, upn string) *TargetUser {
	if u := x.byImmutable[immutableID]; immutableID != "" && u != nil {
		return u
	}
	return x.byUPN[strings.ToLower(upn)]
}

// targetProps lists the Graph properties to read of a matched user: the
// mapped ones, to write only what differs.
func (p *planner) targetProps() []string {
	var props []string
	for _, f := range p.users.Fields() {
		if !provisionerFields[f] {
			props = append(props, f)
		}
	}
	return props
}

// matchPending finds, for each user with no object in Entra yet, an
// existing cloud user (hard match on onPremisesImmutableId, soft match on
// userPrincipalName) or a deleted one to restore; the rest are created. A
// lookup that fails fails its user, reported and retried later, not the
// cycle — unless every lookup failed, which says the tenant cannot be
// reached.
func (p *planner) matchPending(ctx context.Context) error {
	if len(p.pending) == 0 {
		return nil
	}
	deleted := newUserIndex()
	var deletedErr error
	if p.ch.Options.RestoreDeletedUsers {
		deletedErr = p.target.ListDeletedUsers(ctx, func(u TargetUser) error { deleted.add(u); return nil })
	}
	props := p.targetProps()
	found := make([]*TargetUser, len(p.pending))
	failed := make([]error, len(p.pending))
	listed := false
	if len(p.pending) >= bulkMatchThreshold {
		live := newUserIndex()
		if err := p.target.ListUsers(ctx, props, func(u TargetUser) error { live.add(u); return nil }); err == nil {
			listed = true
			for i := range p.pending {
				found[i] = live.find(p.pending[i].desired.String("onPremisesImmutableId"), p.pending[i].desired.String("userPrincipalName"))
			}
		}
	}
	if !listed {
		p.lookupEach(ctx, props, found, failed)
	}
	if err := unreachable(failed); err != nil {
		return err
	}
	for i := range p.pending {
		su := &p.pending[i]
		switch {
		case failed[i] != nil:
			p.b.problem(KindUser, su.entry.GUID, su.entry.DN, "could not be looked up in Entra before creating or linking it (retried later): %v", failed[i])
		case found[i] == nil && deletedErr != nil:
			p.b.problem(KindUser, su.entry.GUID, su.entry.DN, "could not read Entra's deleted items to restore it rather than create it (retried later): %v", deletedErr)
		default:
			p.decideNew(ctx, su, found[i], deleted.find(su.desired.String("onPremisesImmutableId"), ""))
		}
	}
	p.pending = nil
	return nil
}

// unreachableAfter is how many lookups, all failed, say the tenant cannot
// be reached rather than that some objects could not be read.
const unreachableAfter = 3

// unreachable fails the cycle when every one of several lookups failed,
// none of them refused by Entra (a refusal, such as a missing permission,
// is Entra answering: it fails its objects, reported).
func unreachable(errs []error) error {
	if len(errs) < unreachableAfter {
		return nil
	}
	for _, err := range errs {
		if err == nil || errors.Is(err, ErrRejected) {
			return nil
		}
	}
	return fmt.Errorf("the tenant cannot be reached: all %d lookups in Entra failed, the first with: %w", len(errs), errs[0])
}

// lookupParallelism is how many lookups run at once; the Graph client packs
// them into $batch requests.
const lookupParallelism = 20

// lookupEach looks every pending user up in the tenant, in parallel; a
// lookup that fails is recorded in failed.
func (p *planner) lookupEach(ctx context.Context, props []string, found []*TargetUser, failed []error) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, lookupParallelism)
	for i := range p.pending {
		su := &p.pending[i]
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			iid, upn := su.desired.String("onPremisesImmutableId"), su.desired.String("userPrincipalName")
			tu, err := p.target.FindUser(ctx, iid, upn, props)
			if err != nil {
				failed[i] = fmt.Errorf("match %s: %w", upn, err)
				return
			}
			found[i] = tu
		}()
	}
	wg.Wait()
}

// decideNew plans a user that has no object in Entra known to state.
func (p *planner) decideNew(ctx context.Context, su *sourceUser, live, deleted *TargetUser) {
	iid := su.desired.String("onPremisesImmutableId")
	switch {
	case live != nil && iid != "" && live.ImmutableID == iid:
		p.adopt(ctx, su, live, OpLinkUser, "hard match: an existing cloud user has this onPremisesImmutableId")
	case live != nil && live.ImmutableID != "" && live.ImmutableID != iid:
		p.b.problem(KindUser, su.entry.GUID, su.entry.DN,
			"userPrincipalName %s belongs to a cloud user anchored to another onPremisesImmutableId (%s); not taking it over", live.UserPrincipalName, live.ImmutableID)
	case live != nil:
		p.adopt(ctx, su, live, OpLinkUser, "soft match: an existing cloud user has this userPrincipalName")
	case deleted != nil:
		// PingFederate fails here on the conflicting immutableId.
		p.adopt(ctx, su, deleted, OpRestoreUser, "in Entra's deleted items with this onPremisesImmutableId: restored instead of created")
	case !p.ch.Options.UserCreate:
		p.skip(su, "new in the directory, but userCreate is off")
	default:
		p.create(ctx, su)
	}
}

// adopt takes over an existing cloud user — linked by a match, or restored
// from deleted items: it writes only the mapped properties that differ
// (plus the anchor on a soft match) and takes over its licences as applied.
func (p *planner) adopt(ctx context.Context, su *sourceUser, tu *TargetUser, typ OpType, reason string) {
	current := map[string]string{}
	for f, v := range tu.Properties {
		if !emptyValue(v) {
			current[f] = canon(v)
		}
	}
	createOnly := map[string]bool{}
	for f := range su.desired.CreateOnly {
		if f != "onPremisesImmutableId" {
			createOnly[f] = true
		}
	}
	write, _ := fieldDiff(su.desired.Fields, createOnly, current, mappedKinds(p.users, config.UserFieldKind))
	if tu.AccountEnabled != su.enabled {
		write["accountEnabled"] = su.enabled
	}
	record := withSourceKey(createRecord(graphFields(su.desired.Fields)), su, nil)
	if len(tu.Licenses) > 0 {
		record[keyLicenses] = canon(sortAssignments(tu.Licenses))
	}
	p.newUsers = append(p.newUsers, su.entry)
	id := p.b.add(Op{
		Type: typ, Kind: KindUser, GUID: su.entry.GUID, DN: su.entry.DN, Name: upnOf(su), GraphID: tu.ID,
		Fields: write, Record: record, Lifecycle: lifecycleFor(su.enabled), Reason: reason + changedList(write),
	})
	p.references(ctx, su, record, id)
}

// create plans a new user with every mapped property in one POST.
func (p *planner) create(ctx context.Context, su *sourceUser) {
	props := graphFields(su.desired.Fields)
	props["accountEnabled"] = su.enabled
	op := Op{
		Type: OpCreateUser, Kind: KindUser, GUID: su.entry.GUID, DN: su.entry.DN, Name: upnOf(su),
		Fields: props, Record: withSourceKey(createRecord(props), su, nil), Lifecycle: lifecycleFor(su.enabled),
		Reason: "new in the directory", NeedsPassword: true,
	}
	if !su.enabled {
		op.Reason = "new in the directory, disabled there (provisionDisabledUsers)"
	}
	op.password = su.desired.String("password")
	p.newUsers = append(p.newUsers, su.entry)
	id := p.b.add(op)
	p.references(ctx, su, op.Record, id)
}

// graphFields is the Graph properties of a desired object.
func graphFields(desired map[string]any) map[string]any {
	out := make(map[string]any, len(desired))
	for f, v := range desired {
		if !provisionerFields[f] {
			out[f] = graphValue(f, v)
		}
	}
	return out
}

// emptyValue is a property Graph holds with nothing in it (null, "", []):
// the same, for a diff, as a property it does not hold.
func emptyValue(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case []string:
		return len(x) == 0
	case []any:
		return len(x) == 0
	}
	return false
}
