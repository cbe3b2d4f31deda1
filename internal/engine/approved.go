package engine

import (
	"context"
	"errors"
	"fmt"
)

// An operator approves a held plan some time after it was made, and the
// cause of its deprovisions may be gone by then (an ACL that hid users was
// repaired; a user was re-enabled). Before an approved plan is applied, each
// deprovision is checked against the directory as it is now; those whose
// reason no longer holds are dropped and reported. The cycle after an
// approved plan reads again every object the plan touched, since a repaired
// ACL shows in no change the directory reports.

// touched is an object an applied plan touched, to be read again.
type touched struct {
	kind Kind
	guid string
	dn   string
}

// recheckApproved drops the approved plan's deprovisions whose reason has
// gone and returns them, as problems to report. A directory that cannot be
// read fails the check: nothing is deprovisioned on a failed read.
func (e *Engine) recheckApproved(ctx context.Context, plan *Plan) ([]Problem, error) {
	kinds := map[Kind]bool{}
	for _, op := range plan.Ops {
		if op.Type.Deprovisions() {
			kinds[op.Kind] = true
		}
	}
	if len(kinds) == 0 {
		return nil, nil
	}
	inScope := map[string]string{} // GUID → DN
	for kind := range kinds {
		err := e.source.Enumerate(ctx, kind, func(guid, dn string) error {
			if guid != "" {
				inScope[guid] = dn
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("check the approved plan %s against the directory: enumerate %ss: %w", plan.ID, kind, err)
		}
	}
	drop := map[int]string{}
	for _, op := range plan.Ops {
		dn, in := inScope[op.GUID]
		if !op.Type.Deprovisions() || !in {
			continue // still gone: the reason holds
		}
		if op.Kind == KindGroup {
			drop[op.ID] = "the group is back in the directory's scope"
			continue
		}
		en, err := e.source.Lookup(ctx, KindUser, dn, e.userAttrs())
		switch {
		case errors.Is(err, ErrNotInSource):
			continue
		case err != nil:
			return nil, fmt.Errorf("check the approved plan %s against the directory: read %s: %w", plan.ID, dn, err)
		case en.GUID != op.GUID:
			continue
		case en.Enabled:
			drop[op.ID] = "the user is back in the directory's scope and enabled"
		}
	}
	if len(drop) == 0 {
		return nil, nil
	}
	var dropped []Problem
	kept := plan.Ops[:0]
	for _, op := range plan.Ops {
		if why, ok := drop[op.ID]; ok {
			dropped = append(dropped, Problem{Kind: op.Kind, GUID: op.GUID, DN: op.DN,
				Reason: fmt.Sprintf("%s dropped from approved plan %s: %s since it was held", op.Type, plan.ID, why)})
			continue
		}
		deps := op.DependsOn[:0:0]
		for _, d := range op.DependsOn {
			if _, gone := drop[d]; !gone {
				deps = append(deps, d)
			}
		}
		op.DependsOn = deps
		kept = append(kept, op)
	}
	plan.Ops = kept
	plan.Skipped = append(plan.Skipped, dropped...)
	return dropped, nil
}

// touchedBy lists the objects a plan's operations touched.
func touchedBy(plan *Plan, extra []Problem) []touched {
	seen := map[string]bool{}
	var out []touched
	add := func(kind Kind, guid, dn string) {
		if guid == "" || dn == "" || seen[string(kind)+guid] {
			return
		}
		seen[string(kind)+guid] = true
		out = append(out, touched{kind, guid, dn})
	}
	for _, op := range plan.Ops {
		add(op.Kind, op.GUID, op.DN)
	}
	for _, p := range extra {
		add(p.Kind, p.GUID, p.DN)
	}
	return out
}
