package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/o365prov/o365prov/internal/state"
)

// Retry backoff of a failed object: 1, 2, 4 … minutes, at most an hour.
const (
	retryBase = time.Minute
	retryMax  = time.Hour
)

func stateKind(k Kind) state.Kind {
	if k == KindGroup {
		return state.KindGroup
	}
	return state.KindUser
}

// object reads an object from state, or starts one.
func (e *Engine) object(ctx context.Context, kind Kind, guid, dn string) (state.Object, error) {
	o, err := e.store.Object(ctx, e.ch.Name, stateKind(kind), guid)
	switch {
	case err == nil:
		if dn != "" {
			o.DN = dn
		}
		return o, nil
	case errors.Is(err, state.ErrNotFound):
		return state.Object{Channel: e.ch.Name, Kind: stateKind(kind), GUID: guid, DN: dn, Lifecycle: state.LifecycleNone, Applied: map[string]string{}}, nil
	default:
		return state.Object{}, fmt.Errorf("read state of %s: %w", dn, err)
	}
}

// recordSuccess writes what an operation achieved into state, then audits it.
func (e *Engine) recordSuccess(ctx context.Context, r opResult, cycle int64) error {
	op := r.op
	now := e.clock()
	switch op.Type {
	case OpAddMembers:
		if err := e.store.AddMembers(ctx, e.ch.Name, op.GUID, op.Members); err != nil {
			return fmt.Errorf("record members of %s: %w", op.Name, err)
		}
		return e.audit(ctx, op, cycle, "ok", r.request, op.detail())
	case OpRemoveMember:
		if err := e.store.RemoveMembers(ctx, e.ch.Name, op.GUID, []string{op.Target}); err != nil {
			return fmt.Errorf("record members of %s: %w", op.Name, err)
		}
		return e.audit(ctx, op, cycle, "ok", r.request, op.detail())
	}
	o, err := e.object(ctx, op.Kind, op.GUID, op.DN)
	if err != nil {
		return err
	}
	if r.graphID != "" {
		o.GraphID = r.graphID
	}
	if o.Applied == nil {
		o.Applied = map[string]string{}
	}
	for k, v := range op.Record {
		if v == "" {
			delete(o.Applied, k)
		} else {
			o.Applied[k] = v
		}
	}
	if op.Lifecycle != "" {
		o.Lifecycle = state.Lifecycle(op.Lifecycle)
	}
	switch op.Type {
	case OpDeleteUser:
		o.DeletedAt = now
	case OpRestoreUser:
		o.DeletedAt = time.Time{}
	case OpDeleteGroup:
		if err := e.store.DeleteObject(ctx, e.ch.Name, state.KindGroup, op.GUID); err != nil {
			return fmt.Errorf("forget deleted group %s: %w", op.Name, err)
		}
		return e.audit(ctx, op, cycle, "ok", r.request, op.Reason)
	}
	o.Status, o.Attempts, o.LastError, o.NextRetry, o.UpdatedAt = state.StatusOK, 0, "", time.Time{}, now
	if err := e.store.PutObject(ctx, o); err != nil {
		return fmt.Errorf("record %s of %s: %w", op.Type, op.Name, err)
	}
	return e.audit(ctx, op, cycle, "ok", r.request, op.detail())
}

// recordFailure marks the object failed, to be retried with backoff.
func (e *Engine) recordFailure(ctx context.Context, r opResult, cycle int64) error {
	op := r.op
	o, err := e.object(ctx, op.Kind, op.GUID, op.DN)
	if err != nil {
		return err
	}
	if errors.Is(r.err, ErrNotFound) && o.GraphID != "" && op.Type != OpCreateUser {
		// The object is gone from Entra (deleted by hand): forget its id so
		// the next cycle matches it again, or restores or creates it.
		o.GraphID, o.Lifecycle = "", state.LifecycleNone
	}
	if r.graphID != "" && o.GraphID == "" && op.Type == OpCreateUser {
		o.GraphID = r.graphID
	}
	e.fail(&o, r.err.Error())
	if err := e.store.PutObject(ctx, o); err != nil {
		return fmt.Errorf("record failure of %s: %w", op.Name, err)
	}
	return e.audit(ctx, op, cycle, "failed", requestID(r), r.err.Error())
}

// recordBlocked marks an operation's object as waiting for a failed one.
func (e *Engine) recordBlocked(ctx context.Context, op, failed *Op, cycle int64) {
	reason := fmt.Sprintf("%v: %s of %s", errBlocked, failed.Type, failed.Name)
	if o, err := e.object(ctx, op.Kind, op.GUID, op.DN); err == nil {
		e.fail(&o, reason)
		o.Status = state.StatusPending
		if err := e.store.PutObject(ctx, o); err != nil {
			e.log.Warn("record blocked operation", "op", op.ID, "dn", op.DN, "err", err)
		}
	}
	if err := e.audit(ctx, op, cycle, "skipped", "", reason); err != nil {
		e.log.Warn("audit blocked operation", "op", op.ID, "err", err)
	}
}

// recordProblems marks the objects a plan could not handle, so they are
// retried; they come last, after the operations that did succeed for them.
func (e *Engine) recordProblems(ctx context.Context, plan *Plan) error {
	for _, pr := range plan.Problems {
		if pr.GUID == "" {
			continue
		}
		o, err := e.object(ctx, pr.Kind, pr.GUID, pr.DN)
		if err != nil {
			return err
		}
		e.fail(&o, pr.Reason)
		if err := e.store.PutObject(ctx, o); err != nil {
			return fmt.Errorf("record problem of %s: %w", pr.DN, err)
		}
	}
	return nil
}

// fail sets an object's failure and its next retry.
func (e *Engine) fail(o *state.Object, reason string) {
	o.Status = state.StatusFailed
	o.Attempts++
	o.LastError = reason
	backoff := retryBase << min(o.Attempts-1, 6)
	o.NextRetry = e.clock().Add(min(backoff, retryMax))
	o.UpdatedAt = e.clock()
}

func (e *Engine) audit(ctx context.Context, op *Op, cycle int64, result, request, detail string) error {
	err := e.store.Audit(ctx, state.AuditEntry{
		Time: e.clock(), Channel: e.ch.Name, Cycle: cycle, Kind: stateKind(op.Kind), GUID: op.GUID, DN: op.DN,
		Operation: string(op.Type), Result: result, RequestID: request, Detail: detail,
	})
	if err != nil {
		return fmt.Errorf("audit %s of %s: %w", op.Type, op.Name, err)
	}
	return nil
}

// requestIDer is implemented by Graph errors that carry a request-id.
type requestIDer interface{ RequestID() string }

func requestID(r opResult) string {
	if r.request != "" {
		return r.request
	}
	var rid requestIDer
	if errors.As(r.err, &rid) {
		return rid.RequestID()
	}
	return ""
}
