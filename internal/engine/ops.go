package engine

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// run performs one operation against the target.
func (e *Engine) run(ctx context.Context, op *Op, ids *idCache) opResult {
	r := opResult{op: op}
	if err := ctx.Err(); err != nil {
		r.err = err
		return r
	}
	id := op.GraphID
	needID := op.Type != OpCreateUser && op.Type != OpCreateGroup
	if needID && id == "" {
		var err error
		if id, err = ids.get(ctx, op.Kind, op.GUID); err != nil {
			r.err = err
			return r
		}
	}
	r.graphID = id
	var w WriteResult
	var err error
	switch op.Type {
	case OpCreateUser:
		return e.createUser(ctx, op)
	case OpLinkUser, OpUpdateUser, OpEnableUser, OpDisableUser:
		if len(op.Fields) > 0 {
			w, err = e.target.UpdateUser(ctx, id, op.Fields)
			r.writes++
		}
	case OpRestoreUser:
		var n int
		w, n, err = e.restoreUser(ctx, id, desiredUPN(op))
		r.writes += n
		if err == nil && len(op.Fields) > 0 {
			w, err = e.target.UpdateUser(ctx, id, op.Fields)
			r.writes++
		}
	case OpDeleteUser:
		w, err = e.target.DeleteUser(ctx, id)
		r.writes++
		if errors.Is(err, ErrNotFound) {
			err = nil // already gone is what we wanted
		}
	case OpAssignLicense:
		w, err = e.target.AssignLicense(ctx, id, op.Licenses.Add, op.Licenses.Remove)
		r.writes++
		if errors.Is(err, ErrNoFreeLicenses) {
			err = e.explainNoLicences(ctx, op, err)
		}
	case OpSetManager:
		var mid string
		if mid, err = ids.get(ctx, KindUser, op.Target); err != nil {
			break
		}
		w, err = e.target.SetManager(ctx, id, mid)
		r.writes++
	case OpRemoveManager:
		w, err = e.target.RemoveManager(ctx, id)
		r.writes++
		if errors.Is(err, ErrNotFound) {
			err = nil
		}
	case OpCreateGroup:
		return e.createGroup(ctx, op, ids)
	case OpLinkGroup, OpUpdateGroup:
		if len(op.Fields) > 0 {
			w, err = e.target.UpdateGroup(ctx, id, op.Fields)
			r.writes++
		}
	case OpDeleteGroup:
		w, err = e.target.DeleteGroup(ctx, id)
		r.writes++
		if errors.Is(err, ErrNotFound) {
			err = nil
		}
	case OpAddMembers:
		members := make([]string, 0, len(op.Members))
		for _, g := range op.Members {
			mid, gerr := ids.get(ctx, KindUser, g)
			if gerr != nil {
				err = gerr
				break
			}
			members = append(members, mid)
		}
		if err == nil {
			w, err = e.target.AddMembers(ctx, id, members)
			r.writes++
		}
	case OpRemoveMember:
		var mid string
		if mid, err = ids.get(ctx, KindUser, op.Target); err == nil {
			w, err = e.target.RemoveMember(ctx, id, mid)
			r.writes++
			if errors.Is(err, ErrNotFound) {
				err = nil
			}
		}
	case OpForgetGroup:
	default:
		err = fmt.Errorf("unknown operation %s", op.Type)
	}
	r.request, r.err = w.RequestID, err
	if err != nil {
		r.err = fmt.Errorf("%s %s: %w", op.Type, op.Name, err)
	}
	return r
}

// createUser POSTs a user with every property. When Graph answers that the
// UPN or immutableId is taken, or the answer was lost, the user may be
// ours from an attempt whose response never arrived (a crash, a timeout):
// it is looked up and linked rather than created twice.
func (e *Engine) createUser(ctx context.Context, op *Op) opResult {
	r := opResult{op: op, writes: 1}
	props := make(map[string]any, len(op.Fields)+1)
	for k, v := range op.Fields {
		props[k] = v
	}
	pw, force, err := e.password(op)
	if err != nil {
		r.err = err
		return r
	}
	props["passwordProfile"] = map[string]any{"password": pw, "forceChangePasswordNextSignIn": force}
	w, err := e.target.CreateUser(ctx, props)
	if err == nil {
		r.graphID, r.request = w.ID, w.RequestID
		return r
	}
	if !errors.Is(err, ErrConflict) && !errors.Is(err, ErrOutcomeUnknown) {
		r.err = fmt.Errorf("create user %s: %w", op.Name, err)
		return r
	}
	iid, _ := op.Fields["onPremisesImmutableId"].(string)
	upn, _ := op.Fields["userPrincipalName"].(string)
	tu, lerr := e.findAfterCreate(ctx, iid, upn)
	switch {
	case lerr != nil:
		r.err = fmt.Errorf("create user %s: %w (and looking it up: %v)", op.Name, err, lerr)
	case tu == nil && iid != "":
		// Not live: Entra's deleted items may hold it with its anchor.
		return e.restoreInstead(ctx, op, iid, err)
	case tu == nil:
		r.err = fmt.Errorf("create user %s: %w", op.Name, err)
	case iid != "" && tu.ImmutableID != iid:
		r.err = fmt.Errorf("create user %s: userPrincipalName taken by a user anchored to another onPremisesImmutableId (%s): %w", op.Name, tu.ImmutableID, err)
	default:
		r.graphID = tu.ID
	}
	return r
}

// restoreInstead restores, in place of a create Graph refused, a user that
// Entra holds in deleted items with this anchor, and writes the properties
// the create would have.
func (e *Engine) restoreInstead(ctx context.Context, op *Op, iid string, createErr error) opResult {
	r := opResult{op: op, writes: 1}
	var found *TargetUser
	err := e.target.ListDeletedUsers(ctx, func(u TargetUser) error {
		if u.ImmutableID == iid {
			found = &u
		}
		return nil
	})
	switch {
	case err != nil:
		r.err = fmt.Errorf("create user %s: %w (and reading deleted items: %v)", op.Name, createErr, err)
		return r
	case found == nil:
		r.err = fmt.Errorf("create user %s: %w", op.Name, createErr)
		return r
	}
	_, n, err := e.restoreUser(ctx, found.ID, desiredUPN(op))
	r.writes += n
	if err != nil {
		r.err = fmt.Errorf("create user %s: in deleted items, and restoring it: %w", op.Name, err)
		return r
	}
	props := make(map[string]any, len(op.Fields))
	for k, v := range op.Fields {
		if k != "onPremisesImmutableId" {
			props[k] = v
		}
	}
	w, err := e.target.UpdateUser(ctx, found.ID, props)
	r.writes++
	r.graphID, r.request = found.ID, w.RequestID
	if err != nil {
		r.err = fmt.Errorf("create user %s: restored from deleted items, then: %w", op.Name, err)
	}
	return r
}

// findAfterCreate looks a user up that a create may have made, allowing
// for Entra's replication lag (a new object can be invisible for seconds).
func (e *Engine) findAfterCreate(ctx context.Context, iid, upn string) (*TargetUser, error) {
	delay := max(e.settle/2, 10*time.Millisecond)
	for attempt := 0; ; attempt++ {
		tu, err := e.target.FindUser(ctx, iid, upn, nil)
		if err != nil || tu != nil || attempt == 4 {
			return tu, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(delay):
		}
		delay *= 2
	}
}

// createGroup POSTs a group with its first members (at most 20, which
// Graph takes in the same request), marked with its source anchor. When the
// answer was lost or Graph answers that a unique value is taken, the group
// may be ours from an attempt whose response never arrived: it is looked up
// by its anchor and linked rather than created twice.
func (e *Engine) createGroup(ctx context.Context, op *Op, ids *idCache) opResult {
	r := opResult{op: op, writes: 1}
	members := make([]string, 0, len(op.Members))
	for _, g := range op.Members {
		mid, err := ids.get(ctx, KindUser, g)
		if err != nil {
			r.err = fmt.Errorf("create group %s: member: %w", op.Name, err)
			return r
		}
		members = append(members, mid)
	}
	w, err := e.target.CreateGroup(ctx, op.GUID, op.Fields, members)
	if err == nil {
		r.graphID, r.request = w.ID, w.RequestID
		return r
	}
	if !errors.Is(err, ErrConflict) && !errors.Is(err, ErrOutcomeUnknown) {
		r.err = fmt.Errorf("create group %s: %w", op.Name, err)
		return r
	}
	found, lerr := e.findGroupAfterCreate(ctx, op.GUID)
	switch {
	case lerr != nil:
		r.err = fmt.Errorf("create group %s: %w (and looking it up by its source anchor: %v)", op.Name, err, lerr)
	case found == nil:
		r.err = fmt.Errorf("create group %s: %w", op.Name, err)
	default:
		// The create was applied whole, first members included.
		r.graphID = found.ID
	}
	return r
}

// explainNoLicences names the SKU that ran out and how many units it has.
func (e *Engine) explainNoLicences(ctx context.Context, op *Op, err error) error {
	skus, serr := e.target.SKUs(ctx)
	if serr != nil {
		return err
	}
	for _, a := range op.Licenses.Add {
		for _, s := range skus {
			if equalFold(s.SkuID, a.SkuID) && s.Consumed >= s.Enabled {
				return fmt.Errorf("licence %s has no free units (%d of %d in use); the user is provisioned and the licence is retried: %w", s.SkuPartNumber, s.Consumed, s.Enabled, err)
			}
		}
	}
	return err
}
