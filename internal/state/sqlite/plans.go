package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/o365prov/o365prov/internal/state"
)

const planColumns = `id, channel, created, status, reason, summary, body, decided_at, decided_by`

// PutPlan implements state.Store.
func (s *Store) PutPlan(ctx context.Context, p state.Plan) error {
	if err := p.Validate(); err != nil {
		return fmt.Errorf("put plan: %w", err)
	}
	summary, err := countsJSON(p.Summary)
	if err != nil {
		return fmt.Errorf("put plan %s: %w", p.ID, err)
	}
	body := p.Body
	if body == nil {
		body = []byte{}
	}
	res, err := s.w.ExecContext(ctx, `
		INSERT INTO plans (`+planColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO NOTHING`,
		p.ID, p.Channel, timeArg(p.Created), p.Status, p.Reason, summary, body,
		timeArg(p.DecidedAt), p.DecidedBy)
	if err == nil {
		if err = mustAffect(res); errors.Is(err, state.ErrNotFound) {
			err = fmt.Errorf("%w: the ID is taken", state.ErrConflict)
		}
	}
	if err != nil {
		return fmt.Errorf("put plan %s: %w", p.ID, err)
	}
	return nil
}

// Plan implements state.Store.
func (s *Store) Plan(ctx context.Context, id string) (state.Plan, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+planColumns+` FROM plans WHERE id = ?`, id)
	if err != nil {
		return state.Plan{}, fmt.Errorf("plan %s: %w", id, err)
	}
	plans, err := scanPlans(rows)
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
	var w where
	if channel != "" {
		w.add("channel = ?", channel)
	}
	if len(statuses) > 0 {
		args := make([]any, len(statuses))
		for i, st := range statuses {
			args[i] = st
		}
		w.add("status IN (?"+strings.Repeat(", ?", len(statuses)-1)+")", args...)
	}
	rows, err := s.r.QueryContext(ctx,
		`SELECT `+planColumns+` FROM plans`+w.String()+` ORDER BY created DESC, id DESC`, w.args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	plans, err := scanPlans(rows)
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
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `
			UPDATE plans SET status = ?, decided_at = ?, decided_by = ? WHERE id = ? AND status = ?`,
			to, timeArg(at), by, id, from)
		if err != nil {
			return err
		}
		if err := mustAffect(res); !errors.Is(err, state.ErrNotFound) {
			return err
		}
		// Nothing changed: say whether the plan is missing or has moved on.
		var now string
		err = tx.QueryRowContext(ctx, `SELECT status FROM plans WHERE id = ?`, id).Scan(&now)
		if err != nil {
			return errNoRows(err)
		}
		return fmt.Errorf("%w: the plan is %s", state.ErrConflict, now)
	})
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

func scanPlans(rows *sql.Rows) ([]state.Plan, error) {
	defer rows.Close()
	var plans []state.Plan
	for rows.Next() {
		var (
			p                state.Plan
			created, decided sql.NullInt64
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
		p.Created, p.DecidedAt = fromMicros(created), fromMicros(decided)
		plans = append(plans, p)
	}
	return plans, rows.Err()
}
