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

// recorder gathers what a group of operation results teaches state, and
// writes it in one transaction for the objects and one for the audit log:
// with the store's fsync per commit, recording result by result would fall
// behind Graph and leave finished work unrecorded when a process dies.
type recorder struct {
	e      *Engine
	cycle  int64
	objs   map[string]*state.Object
	order  []string
	gone   []*state.Object // groups deleted in Entra: forgotten
	joins  []membership    // members added, written after the objects
	leaves []membership    // members removed
	audits []state.AuditEntry
	// failed are the objects an operation of this apply failed for: a later
	// success of another of their operations does not clear the failure,
	// or what failed would never be retried.
	failed map[string]bool
}

// membership is members of a group that state learns about.
type membership struct {
	group   string
	members []string
}

func (e *Engine) newRecorder(cycle int64) *recorder {
	return &recorder{e: e, cycle: cycle, objs: map[string]*state.Object{}, failed: map[string]bool{}}
}

// object returns the object as this group of results left it, reading it
// from state (or starting it) the first time.
func (rc *recorder) object(ctx context.Context, kind Kind, guid, dn string) (*state.Object, error) {
	key := string(kind) + "/" + guid
	if o, ok := rc.objs[key]; ok {
		if dn != "" {
			o.DN = dn
		}
		return o, nil
	}
	e := rc.e
	o, err := e.store.Object(ctx, e.ch.Name, stateKind(kind), guid)
	switch {
	case err == nil:
		if dn != "" {
			o.DN = dn
		}
	case errors.Is(err, state.ErrNotFound):
		o = state.Object{Channel: e.ch.Name, Kind: stateKind(kind), GUID: guid, DN: dn, Lifecycle: state.LifecycleNone}
	default:
		return nil, fmt.Errorf("read state of %s: %w", dn, err)
	}
	if o.Applied == nil {
		o.Applied = map[string]string{}
	}
	rc.objs[key] = &o
	rc.order = append(rc.order, key)
	return &o, nil
}

// flush writes what was gathered.
func (rc *recorder) flush(ctx context.Context) error {
	e := rc.e
	if len(rc.order) > 0 {
		objs := make([]state.Object, 0, len(rc.order))
		for _, k := range rc.order {
			objs = append(objs, *rc.objs[k])
		}
		if err := e.store.PutObjects(ctx, objs); err != nil {
			return fmt.Errorf("record %d objects: %w", len(objs), err)
		}
	}
	for _, m := range rc.joins {
		if err := e.store.AddMembers(ctx, e.ch.Name, m.group, m.members); err != nil {
			return fmt.Errorf("record members of group %s: %w", m.group, err)
		}
	}
	for _, m := range rc.leaves {
		if err := e.store.RemoveMembers(ctx, e.ch.Name, m.group, m.members); err != nil {
			return fmt.Errorf("record members of group %s: %w", m.group, err)
		}
	}
	for _, o := range rc.gone {
		if err := e.store.DeleteObject(ctx, e.ch.Name, o.Kind, o.GUID); err != nil {
			return fmt.Errorf("forget deleted %s %s: %w", o.Kind, o.DN, err)
		}
	}
	if len(rc.audits) > 0 {
		if err := e.store.Audit(ctx, rc.audits...); err != nil {
			return fmt.Errorf("audit %d operations: %w", len(rc.audits), err)
		}
	}
	rc.objs, rc.order, rc.gone, rc.joins, rc.leaves, rc.audits = map[string]*state.Object{}, nil, nil, nil, nil, nil
	return nil
}

// success records what an operation achieved.
func (rc *recorder) success(ctx context.Context, r opResult) error {
	op := r.op
	now := rc.e.clock()
	switch op.Type {
	case OpAddMembers:
		rc.joins = append(rc.joins, membership{op.GUID, op.Members})
		rc.audit(op, "ok", r.request, op.detail())
		return nil
	case OpRemoveMember:
		rc.leaves = append(rc.leaves, membership{op.GUID, []string{op.Target}})
		rc.audit(op, "ok", r.request, op.detail())
		return nil
	case OpCreateGroup:
		if len(op.Members) > 0 {
			rc.joins = append(rc.joins, membership{op.GUID, op.Members})
		}
	}
	o, err := rc.object(ctx, op.Kind, op.GUID, op.DN)
	if err != nil {
		return err
	}
	if op.Type == OpDeleteGroup {
		rc.gone = append(rc.gone, o)
		rc.forget(op.Kind, op.GUID)
		rc.audit(op, "ok", r.request, op.Reason)
		return nil
	}
	if r.graphID != "" {
		o.GraphID = r.graphID
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
	}
	o.UpdatedAt = now
	if !rc.failed[string(op.Kind)+"/"+op.GUID] {
		o.Status, o.Attempts, o.LastError, o.NextRetry = state.StatusOK, 0, "", time.Time{}
	}
	rc.audit(op, "ok", r.request, op.detail())
	return nil
}

// forget drops an object from the pending write (it is being deleted).
func (rc *recorder) forget(kind Kind, guid string) {
	key := string(kind) + "/" + guid
	delete(rc.objs, key)
	for i, k := range rc.order {
		if k == key {
			rc.order = append(rc.order[:i], rc.order[i+1:]...)
			break
		}
	}
}

// failure marks the object failed, to be retried with backoff.
func (rc *recorder) failure(ctx context.Context, r opResult) error {
	op := r.op
	o, err := rc.object(ctx, op.Kind, op.GUID, op.DN)
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
	key := string(op.Kind) + "/" + op.GUID
	if rc.failed[key] {
		// One attempt of the object, however many of its operations failed.
		o.LastError += "; " + r.err.Error()
	} else {
		rc.e.fail(o, r.err.Error())
		rc.failed[key] = true
	}
	rc.audit(op, "failed", requestID(r), r.err.Error())
	return nil
}

// blocked marks an operation's object as waiting for a failed one. An
// operation of the failed object itself changes nothing: the object's own
// failure already holds its retry, and counting its dependents as attempts
// would push that retry back. Another object waits, without an attempt of
// its own, and is retried when the failed one is.
func (rc *recorder) blocked(ctx context.Context, op, failed *Op) error {
	reason := fmt.Sprintf("%v: %s of %s", errBlocked, failed.Type, failed.Name)
	rc.audit(op, "skipped", "", reason)
	if op.Kind == failed.Kind && op.GUID == failed.GUID {
		return nil
	}
	cause, err := rc.object(ctx, failed.Kind, failed.GUID, failed.DN)
	if err != nil {
		return err
	}
	o, err := rc.object(ctx, op.Kind, op.GUID, op.DN)
	if err != nil {
		return err
	}
	if o.Status == state.StatusFailed && !o.NextRetry.IsZero() {
		return nil // it failed on its own in this apply: that retry stands
	}
	o.Status, o.LastError, o.UpdatedAt = state.StatusPending, reason, rc.e.clock()
	o.NextRetry = cause.NextRetry
	if o.NextRetry.IsZero() {
		o.NextRetry = rc.e.clock().Add(retryBase)
	}
	return nil
}

// problems marks the objects a plan could not handle, so they are retried;
// they come last, after the operations that did succeed for them.
func (rc *recorder) problems(ctx context.Context, plan *Plan) error {
	for _, pr := range plan.Problems {
		if pr.GUID == "" {
			continue
		}
		o, err := rc.object(ctx, pr.Kind, pr.GUID, pr.DN)
		if err != nil {
			return err
		}
		rc.e.fail(o, pr.Reason)
	}
	if err := rc.skips(ctx, plan); err != nil {
		return err
	}
	for _, a := range plan.Abandoned {
		o, err := rc.object(ctx, a.Kind, a.GUID, "")
		if err != nil {
			return err
		}
		if o.GraphID == "" {
			rc.gone = append(rc.gone, o)
			rc.forget(a.Kind, a.GUID)
		}
	}
	return rc.flush(ctx)
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

func (rc *recorder) audit(op *Op, result, request, detail string) {
	e := rc.e
	rc.audits = append(rc.audits, state.AuditEntry{
		Time: e.clock(), Channel: e.ch.Name, Cycle: rc.cycle, Kind: stateKind(op.Kind), GUID: op.GUID, DN: op.DN,
		Operation: string(op.Type), Result: result, RequestID: request, Detail: detail,
	})
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
