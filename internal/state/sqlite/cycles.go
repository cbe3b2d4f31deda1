package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/o365prov/o365prov/internal/state"
)

// StartCycle implements state.Store.
func (s *Store) StartCycle(ctx context.Context, c state.Cycle) (int64, error) {
	if err := c.ValidateStart(); err != nil {
		return 0, fmt.Errorf("start cycle: %w", err)
	}
	if c.Result == "" {
		c.Result = state.CycleRunning
	}
	stats, err := countsJSON(c.Stats)
	if err != nil {
		return 0, fmt.Errorf("start cycle of %s: %w", c.Channel, err)
	}
	var id int64
	err = s.w.QueryRowContext(ctx, `
		INSERT INTO cycles (channel, kind, started, finished, result, stats, plan_id, error)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		c.Channel, c.Kind, timeArg(c.Started), timeArg(c.Finished), c.Result, stats, c.PlanID, c.Error,
	).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("start cycle of %s: %w", c.Channel, err)
	}
	return id, nil
}

// FinishCycle implements state.Store.
func (s *Store) FinishCycle(ctx context.Context, c state.Cycle) error {
	if err := c.ValidateFinish(); err != nil {
		return fmt.Errorf("finish cycle: %w", err)
	}
	stats, err := countsJSON(c.Stats)
	if err != nil {
		return fmt.Errorf("finish cycle %d: %w", c.ID, err)
	}
	res, err := s.w.ExecContext(ctx, `
		UPDATE cycles SET finished = ?, result = ?, stats = ?, plan_id = ?, error = ? WHERE id = ?`,
		timeArg(c.Finished), c.Result, stats, c.PlanID, c.Error, c.ID)
	if err == nil {
		err = mustAffect(res)
	}
	if err != nil {
		return fmt.Errorf("finish cycle %d: %w", c.ID, err)
	}
	return nil
}

// Cycles implements state.Store.
func (s *Store) Cycles(ctx context.Context, channel string, limit int) ([]state.Cycle, error) {
	var w where
	if channel != "" {
		w.add("channel = ?", channel)
	}
	rows, err := s.r.QueryContext(ctx, `
		SELECT id, channel, kind, started, finished, result, stats, plan_id, error FROM cycles`+
		w.String()+` ORDER BY id DESC LIMIT ?`, append(w.args, limitArg(limit))...)
	if err != nil {
		return nil, fmt.Errorf("cycles of %q: %w", channel, err)
	}
	defer rows.Close()
	var cycles []state.Cycle
	for rows.Next() {
		var (
			c                 state.Cycle
			started, finished sql.NullInt64
			stats             []byte
		)
		err := rows.Scan(&c.ID, &c.Channel, &c.Kind, &started, &finished, &c.Result, &stats, &c.PlanID, &c.Error)
		if err != nil {
			return nil, fmt.Errorf("cycles of %q: %w", channel, err)
		}
		if err := json.Unmarshal(stats, &c.Stats); err != nil {
			return nil, fmt.Errorf("cycle %d: stats: %w", c.ID, err)
		}
		c.Started, c.Finished = fromMicros(started), fromMicros(finished)
		cycles = append(cycles, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cycles of %q: %w", channel, err)
	}
	return cycles, nil
}

// countsJSON encodes stats or a summary; nil becomes an empty object so that
// reads always return a non-nil map.
func countsJSON(m map[string]int) (string, error) {
	if m == nil {
		return "{}", nil
	}
	b, err := json.Marshal(m)
	return string(b), err
}

// mustAffect turns an update or delete that matched no row into
// state.ErrNotFound.
func mustAffect(res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return state.ErrNotFound
	}
	return nil
}
