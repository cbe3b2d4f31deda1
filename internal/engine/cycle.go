package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/o365prov/o365prov/internal/state"
)

// Mode is how a cycle finds its work.
type Mode string

// Modes.
const (
	// Incremental reads what changed since the channel's watermark (a full
	// read when there is none).
	Incremental Mode = "incremental"
	// Full reads every in-scope entry and deprovisions what is gone.
	Full Mode = "full"
	// Reconcile is the scheduled reconciliation: the changes since the
	// watermark, plus an enumeration of the scope by GUID alone (cheap on
	// the directory) that finds deletions and users who joined or left the
	// scope without their entry changing.
	Reconcile Mode = "reconcile"
)

// Plan computes what a cycle would do, applying nothing. It reads the
// directory, state and (to match users and resolve licences) the target.
func (e *Engine) Plan(ctx context.Context, mode Mode) (*Plan, error) {
	return e.plan(ctx, mode, nil, false)
}

// plan is Plan, reading again the objects in recheck (what an approved plan
// just touched) when the cycle reads only changes, and enumerating the
// scope when gone (the directory pushed a departure).
func (e *Engine) plan(ctx context.Context, mode Mode, recheck []touched, gone bool) (*Plan, error) {
	if mode == Incremental || mode == Reconcile {
		cs, err := e.store.Channel(ctx, e.ch.Name)
		if err != nil {
			return nil, fmt.Errorf("read channel %s: %w", e.ch.Name, err)
		}
		if len(cs.Watermark) > 0 {
			plan, err := e.planIncremental(ctx, cs.Watermark, mode, recheck, gone)
			if !errors.Is(err, ErrStaleWatermark) {
				return plan, err
			}
			e.log.Info("directory cannot continue from the watermark; reading everything", "err", err)
		}
	}
	return e.planFull(ctx, mode == Verify)
}

// planFull reads every in-scope user and group. The watermark is taken
// before the read so that nothing changed during it is missed next time.
func (e *Engine) planFull(ctx context.Context, verify bool) (*Plan, error) {
	mode := Full
	if verify {
		mode = Verify
	}
	p, err := e.newPlanner(string(mode))
	if err != nil {
		return nil, err
	}
	if verify {
		if err := p.loadTarget(ctx); err != nil {
			return nil, err
		}
	}
	wm, err := e.source.Watermark(ctx)
	if err != nil {
		return nil, abort("read the directory's position", err)
	}
	if err := e.source.Users(ctx, e.userAttrs(), p.readUser(ctx)); err != nil {
		return nil, abort("read users", err)
	}
	if p.err != nil {
		return nil, p.err
	}
	if err := p.matchPending(ctx); err != nil {
		return nil, err
	}
	managed := 0
	err = e.store.Objects(ctx, e.ch.Name, state.KindUser, func(o state.Object) error {
		if o.GraphID != "" && (o.Lifecycle == state.LifecycleActive || o.Lifecycle == state.LifecycleDisabled) {
			managed++
		}
		if !p.seen[o.GUID] {
			p.planMissingUser(&o)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read state of channel %s: %w", e.ch.Name, err)
	}
	// An empty read that would deprovision everyone is a broken filter, a
	// moved base DN or a bind without read rights, not a company that left.
	if len(p.seen) == 0 && managed > 0 {
		return nil, fmt.Errorf("%w: the directory returned no users in scope while %d are provisioned; check baseDN, the users filter or group, and the bind account's read access", ErrAborted, managed)
	}
	p.population = max(managed, len(p.seen))
	if err := e.planGroupsFull(ctx, p); err != nil {
		return nil, err
	}
	return e.finish(ctx, p, wm)
}

// planIncremental reads what changed since the watermark, and retries the
// objects whose last attempt failed.
func (e *Engine) planIncremental(ctx context.Context, since []byte, mode Mode, recheck []touched, gone bool) (*Plan, error) {
	p, err := e.newPlanner(string(mode))
	if err != nil {
		return nil, err
	}
	scopeChanged := mode == Reconcile || gone
	var deleted []string
	var changedGroups []Entry
	read := p.readUser(ctx)
	wm, err := e.source.Changes(ctx, since, unionAttrs(e.userAttrs(), e.groupAttrs()), func(c Change) error {
		switch c.Kind {
		case ChangedUser:
			return read(c.Entry)
		case ChangedGroup:
			changedGroups = append(changedGroups, c.Entry)
		case DeletedObject:
			deleted = append(deleted, c.GUID)
		case ScopeChanged:
			scopeChanged = true
		}
		return nil
	})
	if errors.Is(err, ErrStaleWatermark) {
		return nil, err
	}
	if err != nil {
		return nil, abort("read changes", err)
	}
	again, err := e.readAgain(ctx, p, read, recheck)
	if err != nil {
		return nil, err
	}
	changedGroups = append(changedGroups, again...)
	retried, err := e.retryDue(ctx, p, read)
	if err != nil {
		return nil, err
	}
	changedGroups = append(changedGroups, retried...)
	if p.err != nil {
		return nil, p.err
	}
	if err := p.matchPending(ctx); err != nil {
		return nil, err
	}
	if err := e.planGone(ctx, p, deleted, scopeChanged); err != nil {
		return nil, err
	}
	n, err := e.store.CountObjects(ctx, e.ch.Name, state.KindUser)
	if err != nil {
		return nil, fmt.Errorf("count users of channel %s: %w", e.ch.Name, err)
	}
	p.population = n
	if mode == Reconcile {
		// Every group, read in full: nested changes whose parents the
		// directory could not name are caught here.
		err = e.planGroupsFull(ctx, p)
	} else {
		err = e.planGroupsChanged(ctx, p, changedGroups, deleted, scopeChanged)
	}
	if err != nil {
		return nil, err
	}
	return e.finish(ctx, p, wm)
}

// readUser maps and plans each user the directory returns.
func (p *planner) readUser(ctx context.Context) func(Entry) error {
	return func(en Entry) error {
		if en.Skip != "" {
			return p.keepSkipped(ctx, KindUser, en)
		}
		if p.seen[en.GUID] {
			return nil
		}
		su, err := p.mapUser(ctx, en)
		if err != nil || su == nil {
			p.seen[en.GUID] = true
			return err
		}
		if !p.validUser(ctx, su) {
			p.seen[en.GUID] = true // invalid, not gone: left as it is
			return nil
		}
		p.index(su)
		return p.planUser(ctx, su)
	}
}

// retryDue re-reads the objects whose last attempt failed and whose retry
// time has come, so a failure is retried without waiting for a change:
// users are planned at once, groups are returned to be planned with the
// groups that changed. An object that cannot be read again is reported and
// retried later; it does not stop the cycle.
func (e *Engine) retryDue(ctx context.Context, p *planner, read func(Entry) error) ([]Entry, error) {
	due, err := e.store.DueRetries(ctx, e.ch.Name, p.now, 1000)
	if err != nil {
		return nil, fmt.Errorf("read failed objects: %w", err)
	}
	var groups []Entry
	for _, o := range due {
		if p.seen[o.GUID] || o.DN == "" || (o.Kind == state.KindGroup && !e.groupsEnabled()) {
			continue
		}
		kind, attrs := KindUser, e.userAttrs()
		if o.Kind == state.KindGroup {
			kind, attrs = KindGroup, e.groupAttrs()
		}
		en, err := e.source.Lookup(ctx, kind, o.DN, attrs)
		switch {
		case errors.Is(err, ErrNotInSource):
			// Gone since: the next reconciliation deprovisions it if it
			// was provisioned; one never provisioned is forgotten.
			if o.GraphID == "" {
				p.b.plan.Abandoned = append(p.b.plan.Abandoned, Problem{Kind: kind, GUID: o.GUID, DN: o.DN, Reason: "failed, then left the directory's scope before it was provisioned: forgotten"})
			}
			continue
		case err != nil:
			p.b.problem(kind, o.GUID, o.DN, "could not be read again to retry it: %v", err)
			continue
		case en.GUID != o.GUID:
			continue // another entry took the DN; the reconciliation sorts it out
		case kind == KindGroup:
			groups = append(groups, en)
		default:
			if err := read(en); err != nil {
				return nil, err
			}
		}
	}
	return groups, nil
}

// readAgain reads the objects an approved plan touched, as if they had
// changed: users are planned at once, groups returned to be planned with
// the groups that changed. One that cannot be read is reported.
func (e *Engine) readAgain(ctx context.Context, p *planner, read func(Entry) error, objs []touched) ([]Entry, error) {
	var groups []Entry
	for _, o := range objs {
		if p.seen[o.guid] || (o.kind == KindGroup && !e.groupsEnabled()) {
			continue
		}
		attrs := e.userAttrs()
		if o.kind == KindGroup {
			attrs = e.groupAttrs()
		}
		en, err := e.source.Lookup(ctx, o.kind, o.dn, attrs)
		switch {
		case errors.Is(err, ErrNotInSource), err == nil && en.GUID != o.guid:
			continue
		case err != nil:
			p.b.problem(o.kind, o.guid, o.dn, "could not be read again after the approved plan that touched it: %v", err)
		case o.kind == KindGroup:
			groups = append(groups, en)
		default:
			if err := read(en); err != nil {
				return nil, err
			}
		}
	}
	return groups, nil
}

// planGone deprovisions users the directory reports deleted or out of
// scope. When a scope group changed it enumerates the scope (which must be
// complete, or the cycle stops): users no longer in it are deprovisioned,
// and users new to it — whose own entries did not change, so Changes did
// not return them — are read and planned.
func (e *Engine) planGone(ctx context.Context, p *planner, deleted []string, scopeChanged bool) error {
	for _, g := range deleted {
		o, err := e.store.Object(ctx, e.ch.Name, state.KindUser, g)
		if errors.Is(err, state.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("read state of deleted %s: %w", g, err)
		}
		p.seen[g] = true
		p.planMissingUser(&o)
	}
	if !scopeChanged {
		return nil
	}
	inScope := map[string]string{}
	err := e.source.Enumerate(ctx, KindUser, func(guid, dn string) error {
		if guid == "" {
			return p.keepSkipped(ctx, KindUser, Entry{DN: dn, Skip: "no usable GUID"})
		}
		inScope[guid] = dn
		return nil
	})
	if err != nil {
		return abort("enumerate users in scope", err)
	}
	active := map[string]bool{}
	err = e.store.Objects(ctx, e.ch.Name, state.KindUser, func(o state.Object) error {
		_, in := inScope[o.GUID]
		switch {
		case !in && !p.seen[o.GUID]:
			p.planMissingUser(&o)
		case in && o.GraphID != "" && o.Lifecycle == state.LifecycleActive:
			active[o.GUID] = true
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read state of channel %s: %w", e.ch.Name, err)
	}
	read := p.readUser(ctx)
	for guid, dn := range inScope {
		if active[guid] || p.seen[guid] {
			continue
		}
		en, err := e.source.Lookup(ctx, KindUser, dn, e.userAttrs())
		if errors.Is(err, ErrNotInSource) {
			continue // gone again since the enumeration
		}
		if err != nil {
			return abort("read "+dn+", new in scope", err)
		}
		if err := read(en); err != nil {
			return err
		}
	}
	return p.matchPending(ctx)
}

// finish resolves references, orders the plan and applies the guard.
func (e *Engine) finish(ctx context.Context, p *planner, wm []byte) (*Plan, error) {
	if err := p.planManagers(ctx); err != nil {
		return nil, err
	}
	if p.err != nil {
		return nil, p.err
	}
	plan := p.b.plan
	plan.Population = p.population
	plan.Watermark = wm
	finalize(plan, managerDepth(p.managerOf))
	plan.Held = guard(plan, e.ch.Options.DeleteThreshold)
	return plan, nil
}

// abort wraps a read failure: the cycle stops before planning anything.
func abort(what string, err error) error {
	return fmt.Errorf("%w: %s: %w", ErrAborted, what, err)
}

func unionAttrs(a, b []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, l := range [][]string{a, b} {
		for _, x := range l {
			if !seen[x] {
				seen[x] = true
				out = append(out, x)
			}
		}
	}
	return out
}

// keepSkipped handles an in-scope entry the directory could not use: it is
// reported, and the object o365prov provisioned at that DN, if any, counts as
// seen, so no cycle deprovisions it for being unreadable.
func (p *planner) keepSkipped(ctx context.Context, kind Kind, en Entry) error {
	guid, err := p.keep(ctx, kind, en.DN)
	if err != nil {
		return err
	}
	if kind == KindUser && guid != "" {
		p.seen[guid] = true
	}
	p.b.problem(kind, "", en.DN, "the directory entry cannot be used (%s): left as it is in Entra until it can", en.Skip)
	return nil
}

// keep finds the GUID of what state holds at a DN ("" when nothing).
func (p *planner) keep(ctx context.Context, kind Kind, dn string) (string, error) {
	o, err := p.store.ObjectByDN(ctx, p.channel(), stateKind(kind), dn)
	switch {
	case errors.Is(err, state.ErrNotFound):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("read state of %s: %w", dn, err)
	}
	return o.GUID, nil
}
