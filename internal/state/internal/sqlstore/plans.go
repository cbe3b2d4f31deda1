package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/o365prov/o365prov/internal/state"
	"github.com/o365prov/o365prov/internal/state/internal/query"
)

const planColumns = `id, channel, created, status, reason, summary, body, decided_at, decided_by`

// PutPlan implements state.Store.
func (s *Store) PutPlan(ctx context.Context, p state.Plan) error {
	if err := p.Validate(); err != nil {
		return fmt.Errorf("put plan: %w", err)
	}
	body := p.Body
	if body == nil {
		body = []byte{}
	}
	err := mustAffect(s.exec(ctx, `
		INSERT INTO plans (`+planColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (id) DO NOTHING`,
		p.ID, p.Channel, s.time(p.Created), string(p.Status), p.Reason, counts(p.Summary), body,
		s.time(p.DecidedAt), p.DecidedBy))
	if errors.Is(err, state.ErrNotFound) {
		err = fmt.Errorf("%w: the ID is taken", state.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("put plan %s: %w", p.ID, err)
	}
	return nil
}

// Plan implements state.Store.
func (s *Store) Plan(ctx context.Context, id string) (state.Plan, error) {
	plans, err := s.plans(ctx, `SELECT `+planColumns+` FROM plans WHERE id = $1`, id)
	if err != nil {
		return state.Plan{}, fmt.Errorf("plan %s: %w", id, err)
	}
	if len(plans) == 0 {
		return state.Plan{}, fmt.Errorf("plan %s: %w", id, state.ErrNotFound)
	}
	return plans[0], nil
}

// Plans implements state.Store.
func (s *Store) Plans(ctx context.Context, channel string, statuses ...state.PlanStatus) ([]state.Plan, error) {
	what := fmt.Sprintf("plans of %q", channel)
	if err := state.ValidatePlanStatuses(statuses...); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	var w query.Where
	if channel != "" {
		w.Add("channel = ?", channel)
	}
	if len(statuses) > 0 {
		args := make([]any, len(statuses))
		for i, st := range statuses {
			args[i] = string(st)
		}
		w.AddIn("status", args)
	}
	plans, err := s.plans(ctx, `SELECT `+planColumns+` FROM plans`+w.String()+` ORDER BY created DESC, id DESC`, w.Args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return plans, nil
}

// SetPlanStatus implements state.Store.
func (s *Store) SetPlanStatus(ctx context.Context, id string, from, to state.PlanStatus, by string, at time.Time) error {
	what := fmt.Sprintf("set plan %s from %s to %s", id, from, to)
	if err := state.ValidatePlanStatuses(from, to); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	err := s.inTx(ctx, func(tx tx) error {
		err := mustAffect(tx.exec(ctx, `
			UPDATE plans SET status = $1, decided_at = $2, decided_by = $3 WHERE id = $4 AND status = $5`,
			string(to), s.time(at), by, id, string(from)))
		if !errors.Is(err, state.ErrNotFound) {
			return err
		}
		// Nothing changed: say whether the plan is missing or has moved on.
		var now string
		if err := tx.queryRow(ctx, `SELECT status FROM plans WHERE id = $1`, id).Scan(&now); err != nil {
			return errNoRows(err)
		}
		return fmt.Errorf("%w: the plan is %s", state.ErrConflict, now)
	})
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

func (s *Store) plans(ctx context.Context, query string, args ...any) ([]state.Plan, error) {
	rows, err := s.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var plans []state.Plan
	for rows.Next() {
		var (
			p                state.Plan
			created, decided nullTime
			summary          []byte
		)
		err := rows.Scan(&p.ID, &p.Channel, &created, &p.Status, &p.Reason, &summary, &p.Body,
			&decided, &p.DecidedBy)
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(summary, &p.Summary); err != nil {
			return nil, fmt.Errorf("plan %s: summary: %w", p.ID, err)
		}
		p.Created, p.DecidedAt = created.t, decided.t
		plans = append(plans, p)
	}
	return plans, rows.Err()
}
