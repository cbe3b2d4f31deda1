package engine

import (
	"context"
	"fmt"

	"github.com/o365prov/o365prov/internal/state"
)

// Verify is a full cycle that also reads every user from the tenant and
// repairs drift: a mapped property changed in Entra by hand, an account
// enabled or disabled there, a licence added or removed there, a user
// deleted there. Without it o365prov trusts what it applied (state), which
// costs no read per user.
const Verify Mode = "verify"

// loadTarget reads every user of the tenant with the mapped properties,
// account status and licences, indexed by id.
func (p *planner) loadTarget(ctx context.Context) error {
	p.targetByID = map[string]*TargetUser{}
	err := p.target.ListUsers(ctx, p.targetProps(), func(u TargetUser) error {
		p.targetByID[u.ID] = &u
		return nil
	})
	if err != nil {
		return fmt.Errorf("read the tenant's users to verify: %w", err)
	}
	return nil
}

// verifyUser replaces, for a provisioned user, what state says was applied
// with what the tenant holds, so the usual diff repairs any drift. A user
// gone from the tenant is planned again from scratch (restored from deleted
// items, or created). It reports whether it planned the user itself.
func (p *planner) verifyUser(ctx context.Context, su *sourceUser) bool {
	st := su.state
	if p.targetByID == nil || st == nil || st.GraphID == "" ||
		(st.Lifecycle != state.LifecycleActive && st.Lifecycle != state.LifecycleDisabled) {
		return false
	}
	tu, ok := p.targetByID[st.GraphID]
	if !ok {
		gone := *st
		gone.GraphID, gone.Lifecycle = "", state.LifecycleNone
		su.state = &gone
		p.b.plan.Skipped = append(p.b.plan.Skipped, Problem{Kind: KindUser, GUID: st.GUID, DN: st.DN,
			Reason: "gone from Entra although provisioned (deleted there by hand?): matched again, restored or created"})
		p.pending = append(p.pending, *su)
		return true
	}
	applied := map[string]string{}
	for k, v := range st.Applied {
		if isInternalKey(k) {
			applied[k] = v
		}
	}
	for f, v := range tu.Properties {
		if !emptyValue(v) {
			applied[f] = canon(v)
		}
	}
	if len(tu.Licenses) > 0 {
		applied[keyLicenses] = canon(sortAssignments(tu.Licenses))
	} else {
		delete(applied, keyLicenses)
	}
	verified := *st
	verified.Applied = applied
	switch {
	case tu.AccountEnabled && st.Lifecycle == state.LifecycleDisabled && !su.enabled:
		verified.Lifecycle = state.LifecycleActive // enabled in Entra: disabled again below
	case !tu.AccountEnabled && st.Lifecycle == state.LifecycleActive && su.enabled:
		verified.Lifecycle = state.LifecycleDisabled // disabled in Entra: enabled again below
	}
	su.state = &verified
	return false
}
