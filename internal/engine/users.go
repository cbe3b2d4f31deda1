package engine

import (
	"context"
	"strings"
	"time"

	"github.com/o365prov/o365prov/internal/config"
	"github.com/o365prov/o365prov/internal/state"
)

// restoreWindow is how long Entra keeps a deleted user (graph.md §1.5).
const restoreWindow = 30 * 24 * time.Hour

// planUser decides what one in-scope user needs. Users that have no object
// in Entra yet are queued for matching, which happens in bulk.
func (p *planner) planUser(ctx context.Context, su *sourceUser) error {
	o := p.ch.Options
	if p.verifyUser(ctx, su) {
		return nil
	}
	st := su.state
	switch {
	case st == nil || st.GraphID == "" || st.Lifecycle == state.LifecycleNone:
		if !su.enabled && !p.keepsDisabled() {
			return nil
		}
		p.pending = append(p.pending, *su)
		return nil
	case st.Lifecycle == state.LifecycleDeleted:
		return p.planDeleted(ctx, su)
	case !su.enabled:
		// Disabled in the directory: the remove action applies, as in
		// PingFederate. A user kept disabled in Entra is still kept up to
		// date, so it comes back with current data when enabled again.
		p.deprovision(KindUser, st, "disabled in the directory")
		if o.UserDisableDelete && o.RemoveUserAction == config.RemoveDelete {
			return nil
		}
		p.updateOrSkip(ctx, su, "changed in the directory (disabled there)")
		return nil
	case st.Lifecycle == state.LifecycleDisabled && su.enabled:
		if !o.UserUpdate {
			p.skipOnce(KindUser, su.state, su.entry.GUID, su.entry.DN, "enableUser skipped: enabled again in the directory, but userUpdate is off, so it stays disabled")
			return nil
		}
		p.updateUser(ctx, su, st.Applied, OpEnableUser, "enabled again in the directory")
		return nil
	default:
		reason := "changed in the directory"
		if p.targetByID != nil {
			reason = "differs between the directory and Entra (verify)"
		}
		p.updateOrSkip(ctx, su, reason)
		return nil
	}
}

// keepsDisabled reports whether users disabled in the directory have an
// account in Entra: provisionDisabledUsers creates them disabled, unless
// the remove action deletes disabled users (then creating one would only
// have it deleted again).
func (p *planner) keepsDisabled() bool {
	o := p.ch.Options
	return o.ProvisionDisabledUsers && !(o.UserDisableDelete && o.RemoveUserAction == config.RemoveDelete)
}

// planDeleted handles a user o365prov deleted that is back in scope.
func (p *planner) planDeleted(ctx context.Context, su *sourceUser) error {
	o := p.ch.Options
	st := su.state
	if !su.enabled && !p.keepsDisabled() {
		return nil
	}
	if o.RestoreDeletedUsers && p.now.Sub(st.DeletedAt) < restoreWindow {
		write, record := fieldDiff(su.desired.Fields, su.desired.CreateOnly, st.Applied, mappedKinds(p.users, config.UserFieldKind))
		if !su.enabled {
			write["accountEnabled"] = false
		}
		id := p.b.add(Op{
			Type: OpRestoreUser, Kind: KindUser, GUID: su.entry.GUID, DN: su.entry.DN, Name: upnOf(su),
			GraphID: st.GraphID, Fields: write, Record: record, Lifecycle: lifecycleFor(su.enabled),
			Reason: "back in the directory within Entra's 30 days: restored from deleted items",
		})
		p.references(ctx, su, st.Applied, id)
		return nil
	}
	// Gone from deleted items: it can only be created again.
	p.pending = append(p.pending, *su)
	return nil
}

// updateUser plans a PATCH of the changed properties (and, for an enable,
// accountEnabled in the same request), then licences and manager.
func (p *planner) updateUser(ctx context.Context, su *sourceUser, applied map[string]string, typ OpType, reason string) {
	write, record := fieldDiff(su.desired.Fields, su.desired.CreateOnly, applied, mappedKinds(p.users, config.UserFieldKind))
	record = withSourceKey(record, su, applied)
	last := 0
	if typ == OpEnableUser {
		write["accountEnabled"] = true
	}
	if len(write) > 0 {
		last = p.b.add(Op{
			Type: typ, Kind: KindUser, GUID: su.entry.GUID, DN: su.entry.DN, Name: upnOf(su),
			GraphID: su.state.GraphID, Fields: write, Record: record, Lifecycle: lifecycleIf(typ == OpEnableUser, state.LifecycleActive),
			Reason: reason + changedList(write),
		})
	}
	p.references(ctx, su, mergeRecord(applied, record), last)
}

// deprovision disables or deletes a user, as removeUserAction says.
func (p *planner) deprovision(kind Kind, st *state.Object, reason string) {
	o := p.ch.Options
	if !o.UserDisableDelete {
		action := "disableUser"
		if o.RemoveUserAction == config.RemoveDelete {
			action = "deleteUser"
		}
		p.skipOnce(kind, st, st.GUID, st.DN, action+" skipped: "+reason+", but userDisableDelete is off")
		return
	}
	name := st.Applied["userPrincipalName"]
	name = strings.Trim(name, `"`)
	switch {
	case o.RemoveUserAction == config.RemoveDelete && st.Lifecycle != state.LifecycleDeleted:
		p.b.add(Op{Type: OpDeleteUser, Kind: KindUser, GUID: st.GUID, DN: st.DN, Name: name, GraphID: st.GraphID,
			Lifecycle: string(state.LifecycleDeleted), Reason: reason + ": deleted (removeUserAction delete; Entra keeps it 30 days)"})
	case o.RemoveUserAction == config.RemoveDisable && st.Lifecycle == state.LifecycleActive:
		p.b.add(Op{Type: OpDisableUser, Kind: KindUser, GUID: st.GUID, DN: st.DN, Name: name, GraphID: st.GraphID,
			Fields: map[string]any{"accountEnabled": false}, Lifecycle: string(state.LifecycleDisabled), Reason: reason + ": sign-in blocked"})
	}
}

// planMissingUser deprovisions a user o365prov manages that the directory
// no longer has in scope.
func (p *planner) planMissingUser(st *state.Object) {
	if st.GraphID == "" || st.Lifecycle == state.LifecycleNone {
		return
	}
	p.deprovision(KindUser, st, "no longer in the directory's scope (deleted, or out of the users filter or group)")
}

func (p *planner) skip(su *sourceUser, reason string) {
	p.b.plan.Skipped = append(p.b.plan.Skipped, Problem{Kind: KindUser, GUID: su.entry.GUID, DN: su.entry.DN, Reason: reason})
}

func upnOf(su *sourceUser) string {
	if u := su.desired.String("userPrincipalName"); u != "" {
		return u
	}
	return su.entry.DN
}

func lifecycleFor(enabled bool) string {
	if enabled {
		return string(state.LifecycleActive)
	}
	return string(state.LifecycleDisabled)
}

func lifecycleIf(ok bool, l state.Lifecycle) string {
	if ok {
		return string(l)
	}
	return ""
}

// mergeRecord is applied after record: what state will hold.
func mergeRecord(applied, record map[string]string) map[string]string {
	out := make(map[string]string, len(applied)+len(record))
	for k, v := range applied {
		out[k] = v
	}
	for k, v := range record {
		if v == "" {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

func changedList(write map[string]any) string {
	keys := sortedKeys(write)
	if len(keys) == 0 {
		return ""
	}
	return ": " + strings.Join(keys, ", ")
}
