package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/o365prov/o365prov/internal/state"
)

// SyncOptions change what Sync does.
type SyncOptions struct {
	Mode Mode
	// DryRun plans and records nothing.
	DryRun bool
	// Stop, when closed, ends the cycle early: the operations in flight are
	// finished and recorded, no others start, and Sync returns ErrStopped
	// (SIGTERM, a handover). Cancelling ctx instead abandons them.
	Stop <-chan struct{}
}

// Sync runs one cycle: an approved plan waiting for it first, then plan,
// guard, apply and record. A held plan is stored for an operator and the
// cycle returns ErrHeld; the watermark moves only when the plan was applied,
// so nothing found in this cycle is lost.
func (e *Engine) Sync(ctx context.Context, opts SyncOptions) (*Result, error) {
	ctx, release, err := e.hold(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	ctx = withStop(ctx, opts.Stop)
	var approved []*Result
	var recheck []touched
	if !opts.DryRun {
		if approved, recheck, err = e.applyApproved(ctx); err != nil {
			return &Result{Approved: approved}, err
		}
	}
	started := e.clock()
	cycle := state.Cycle{Channel: e.ch.Name, Kind: string(opts.Mode), Started: started, Result: "running"}
	switch {
	case opts.DryRun:
		cycle.Kind = "dry-run"
	case opts.Mode == Verify || opts.Mode == Reconcile:
		cycle.Kind = string(Full)
	}
	id, err := e.store.StartCycle(ctx, cycle)
	if err != nil {
		return nil, fmt.Errorf("start cycle of %s: %w", e.ch.Name, err)
	}
	cycle.ID = id
	gone := !opts.DryRun && e.takeGone()
	res, err := e.cycle(ctx, opts, &cycle, recheck, gone)
	if err != nil && gone {
		e.noteGone() // not applied: the next cycle looks again
	}
	if len(approved) > 0 {
		if res == nil {
			res = &Result{}
		}
		res.Approved = approved
	}
	if res != nil && !opts.DryRun {
		if n, ferr := e.failing(ctx); ferr == nil {
			res.Failing = n
		} else if err == nil {
			err = ferr
		}
	}
	cycle.Finished = e.clock()
	if err != nil {
		cycle.Error = err.Error()
		switch {
		case errors.Is(err, ErrHeld):
			cycle.Result = "held"
		case errors.Is(err, ErrAborted), errors.Is(err, ErrStopped):
			cycle.Result = "aborted"
		default:
			cycle.Result = "failed"
		}
	}
	// A cancelled context must not stop the cycle's record.
	if ferr := e.store.FinishCycle(context.WithoutCancel(ctx), cycle); ferr != nil && err == nil {
		err = fmt.Errorf("finish cycle of %s: %w", e.ch.Name, ferr)
	}
	return res, err
}

// Authenticator is a Target that can prove it may still act on the tenant
// (its credential still gets a token). A cycle checks it before planning,
// so a wrong or expired credential fails every cycle, even one with
// nothing to write.
type Authenticator interface {
	Authenticate(ctx context.Context) error
}

// failingLimit caps the count of failing objects a result reports.
const failingLimit = 10000

// failing counts the channel's objects whose last attempt failed, due for
// a retry or not.
func (e *Engine) failing(ctx context.Context) (int, error) {
	never := e.clock().AddDate(100, 0, 0)
	objs, err := e.store.DueRetries(ctx, e.ch.Name, never, failingLimit)
	if err != nil {
		return 0, fmt.Errorf("count failing objects of %s: %w", e.ch.Name, err)
	}
	return len(objs), nil
}

func (e *Engine) cycle(ctx context.Context, opts SyncOptions, cycle *state.Cycle, recheck []touched, gone bool) (*Result, error) {
	if a, ok := e.target.(Authenticator); ok {
		if err := a.Authenticate(ctx); err != nil {
			return nil, err
		}
	}
	plan, err := e.plan(ctx, opts.Mode, recheck, gone)
	if err != nil {
		return nil, err
	}
	cycle.PlanID = plan.ID
	cycle.Stats = plan.Counts()
	if plan.Mode == string(Full) && cycle.Kind == string(Incremental) {
		// No watermark yet (or a stale one): the cycle read everything,
		// and is recorded as what it was.
		cycle.Kind = string(Full)
	}
	if opts.DryRun {
		return &Result{Plan: plan}, nil
	}
	if plan.Held != "" {
		return &Result{Plan: plan}, e.holdPlan(ctx, plan)
	}
	res, err := e.apply(ctx, plan, cycle.ID)
	if res != nil {
		cycle.Stats["succeeded"], cycle.Stats["failed"], cycle.Stats["blocked"], cycle.Stats["writes"] = res.Succeeded, res.Failed, res.Blocked, res.Writes
		if res.Failed > 0 || res.Blocked > 0 || len(plan.Problems) > 0 {
			cycle.Result = "partial"
		} else {
			cycle.Result = "ok"
		}
	}
	if err != nil {
		return res, err
	}
	return res, e.commit(ctx, plan)
}

// commit moves the channel's watermark past what the plan was read from.
// Per-object failures do not hold it back: they are recorded on their
// objects and retried from there.
func (e *Engine) commit(ctx context.Context, plan *Plan) error {
	cs, err := e.store.Channel(ctx, e.ch.Name)
	if err != nil {
		return fmt.Errorf("read channel %s: %w", e.ch.Name, err)
	}
	cs.Name = e.ch.Name
	if plan.Watermark != nil {
		cs.Watermark = plan.Watermark
	}
	cs.LastCycle = e.clock()
	if plan.Mode == string(Full) || plan.Mode == string(Verify) || plan.Mode == string(Reconcile) {
		cs.LastFullSync = cs.LastCycle
	}
	if err := e.store.PutChannel(ctx, cs); err != nil {
		return fmt.Errorf("commit watermark of %s: %w", e.ch.Name, err)
	}
	return nil
}

// holdPlan stores a plan for an operator's decision. A plan identical to one
// already held keeps that one (its id stays what the operator saw); any
// other held plan of the channel is superseded.
func (e *Engine) holdPlan(ctx context.Context, plan *Plan) error {
	body, err := json.Marshal(plan)
	if err != nil {
		return fmt.Errorf("encode plan %s: %w", plan.ID, err)
	}
	fp := fingerprint(plan)
	held, err := e.store.Plans(ctx, e.ch.Name, state.PlanHeld)
	if err != nil {
		return fmt.Errorf("read held plans of %s: %w", e.ch.Name, err)
	}
	for _, h := range held {
		var old Plan
		if json.Unmarshal(h.Body, &old) == nil && fingerprint(&old) == fp {
			plan.ID = h.ID
			return fmt.Errorf("%w: %s (plan %s, unchanged)", ErrHeld, plan.Held, h.ID)
		}
		if err := e.store.SetPlanStatus(ctx, h.ID, state.PlanHeld, state.PlanSuperseded, "o365prov", e.clock()); err != nil && !errors.Is(err, state.ErrConflict) {
			return fmt.Errorf("supersede plan %s: %w", h.ID, err)
		}
	}
	sp := state.Plan{ID: plan.ID, Channel: e.ch.Name, Created: plan.Created, Status: state.PlanHeld, Reason: plan.Held, Summary: plan.Counts(), Body: body}
	if err := e.store.PutPlan(ctx, sp); err != nil {
		return fmt.Errorf("store held plan %s: %w", plan.ID, err)
	}
	e.log.Warn("plan held for approval", "plan", plan.ID, "reason", plan.Held)
	return fmt.Errorf("%w: %s (plan %s)", ErrHeld, plan.Held, plan.ID)
}

// applyApproved applies a held plan an operator approved, less the
// deprovisions whose reason has gone since (reported), then commits its
// watermark. It returns what each applied, and what the plans touched, for
// the cycle that follows to read again.
func (e *Engine) applyApproved(ctx context.Context) ([]*Result, []touched, error) {
	approved, err := e.store.Plans(ctx, e.ch.Name, state.PlanApproved)
	if err != nil {
		return nil, nil, fmt.Errorf("read approved plans of %s: %w", e.ch.Name, err)
	}
	var results []*Result
	var recheck []touched
	for _, sp := range approved {
		var plan Plan
		if err := json.Unmarshal(sp.Body, &plan); err != nil {
			return results, nil, fmt.Errorf("decode approved plan %s: %w", sp.ID, err)
		}
		dropped, err := e.recheckApproved(ctx, &plan)
		if err != nil {
			return results, nil, err // the plan stays approved for the next cycle
		}
		for _, d := range dropped {
			e.log.Warn("deprovision dropped from an approved plan", "channel", e.ch.Name, "plan", sp.ID, "dn", d.DN, "reason", d.Reason)
		}
		plan.Mode = "approved"
		cycle := state.Cycle{Channel: e.ch.Name, Kind: "approved", Started: e.clock(), Result: "running", PlanID: sp.ID}
		id, err := e.store.StartCycle(ctx, cycle)
		if err != nil {
			return results, nil, fmt.Errorf("start cycle of %s: %w", e.ch.Name, err)
		}
		cycle.ID = id
		res, err := e.apply(ctx, &plan, id)
		if res != nil {
			results = append(results, res)
		}
		cycle.Finished, cycle.Result, cycle.Stats = e.clock(), "ok", plan.Counts()
		cycle.Stats["dropped"] = len(dropped)
		if err == nil && (res.Failed > 0 || res.Blocked > 0) {
			cycle.Result = "partial"
		}
		if err == nil {
			err = e.audit(ctx, id, dropped)
		}
		if err == nil {
			err = e.commit(ctx, &plan)
		}
		if err == nil {
			err = e.store.SetPlanStatus(ctx, sp.ID, state.PlanApproved, state.PlanApplied, sp.DecidedBy, e.clock())
		}
		if err != nil {
			cycle.Result, cycle.Error = "failed", err.Error()
		}
		if ferr := e.store.FinishCycle(context.WithoutCancel(ctx), cycle); ferr != nil && err == nil {
			err = ferr
		}
		if err != nil {
			return results, nil, fmt.Errorf("apply approved plan %s: %w", sp.ID, err)
		}
		recheck = append(recheck, touchedBy(&plan, dropped)...)
	}
	return results, recheck, nil
}

// audit records operations dropped from an approved plan.
func (e *Engine) audit(ctx context.Context, cycle int64, dropped []Problem) error {
	if len(dropped) == 0 {
		return nil
	}
	entries := make([]state.AuditEntry, len(dropped))
	for i, d := range dropped {
		entries[i] = state.AuditEntry{Time: e.clock(), Channel: e.ch.Name, Cycle: cycle, Kind: stateKind(d.Kind), GUID: d.GUID, DN: d.DN,
			Operation: "dropped", Result: "skipped", Detail: d.Reason}
	}
	if err := e.store.Audit(ctx, entries...); err != nil {
		return fmt.Errorf("audit operations dropped from an approved plan: %w", err)
	}
	return nil
}

// HeldPlanID is the id under which a plan with the same operations is held
// for approval, or "" when none is: `plan` prints what a cycle would do,
// and only a cycle stores a plan it holds.
func (e *Engine) HeldPlanID(ctx context.Context, plan *Plan) (string, error) {
	held, err := e.store.Plans(ctx, e.ch.Name, state.PlanHeld)
	if err != nil {
		return "", fmt.Errorf("read held plans of %s: %w", e.ch.Name, err)
	}
	fp := fingerprint(plan)
	for _, h := range held {
		var old Plan
		if json.Unmarshal(h.Body, &old) == nil && fingerprint(&old) == fp {
			return h.ID, nil
		}
	}
	return "", nil
}

// fingerprint identifies a plan by its operations, not its id or time.
func fingerprint(p *Plan) string {
	type opKey struct {
		Type    OpType
		GUID    string
		Fields  map[string]any
		Lic     *LicenseChange
		Target  string
		Members []string
	}
	keys := make([]opKey, len(p.Ops))
	for i, op := range p.Ops {
		keys[i] = opKey{op.Type, op.GUID, op.Fields, op.Licenses, op.Target, op.Members}
	}
	b, _ := json.Marshal(keys)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
