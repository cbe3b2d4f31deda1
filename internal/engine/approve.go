package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/o365prov/o365prov/internal/state"
)

// PlanStore is what deciding on held plans needs.
type PlanStore interface {
	Plan(ctx context.Context, id string) (state.Plan, error)
	SetPlanStatus(ctx context.Context, id string, from, to state.PlanStatus, by string, at time.Time) error
}

// Approve lets a held plan be applied by the channel's next cycle, exactly
// as it was held. Only the channel's current held plan can be approved: one
// superseded by a newer plan is refused, so an operator never approves
// something other than what they read.
func Approve(ctx context.Context, s PlanStore, channel, id, by string, now time.Time) error {
	return decide(ctx, s, channel, id, by, now, state.PlanApproved)
}

// Reject drops a held plan; the channel plans again on its next cycle (and
// holds again while the cause remains).
func Reject(ctx context.Context, s PlanStore, channel, id, by string, now time.Time) error {
	return decide(ctx, s, channel, id, by, now, state.PlanRejected)
}

func decide(ctx context.Context, s PlanStore, channel, id, by string, now time.Time, to state.PlanStatus) error {
	p, err := s.Plan(ctx, id)
	if errors.Is(err, state.ErrNotFound) {
		return fmt.Errorf("no plan %s", id)
	}
	if err != nil {
		return fmt.Errorf("read plan %s: %w", id, err)
	}
	if p.Channel != channel {
		return fmt.Errorf("plan %s belongs to channel %s, not %s", id, p.Channel, channel)
	}
	if p.Status != state.PlanHeld {
		return fmt.Errorf("plan %s is %s, not held (only a held plan can be approved or rejected)", id, p.Status)
	}
	err = s.SetPlanStatus(ctx, id, state.PlanHeld, to, by, now)
	if errors.Is(err, state.ErrConflict) {
		return fmt.Errorf("plan %s changed while deciding (superseded by a newer plan?); read it again", id)
	}
	return err
}
