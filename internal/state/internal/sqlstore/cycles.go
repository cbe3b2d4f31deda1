package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/o365prov/o365prov/internal/state"
	"github.com/o365prov/o365prov/internal/state/internal/query"
)

// StartCycle implements state.Store.
func (s *Store) StartCycle(ctx context.Context, c state.Cycle) (int64, error) {
	if err := c.ValidateStart(); err != nil {
		return 0, fmt.Errorf("start cycle: %w", err)
	}
	if c.Result == "" {
		c.Result = state.CycleRunning
	}
	var id int64
	err := s.inTx(ctx, func(tx tx) error {
		return tx.queryRow(ctx, `
			INSERT INTO cycles (channel, kind, started, finished, result, stats, plan_id, error)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
			c.Channel, c.Kind, s.time(c.Started), s.time(c.Finished), c.Result, counts(c.Stats), c.PlanID, c.Error,
		).Scan(&id)
	})
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
	err := mustAffect(s.exec(ctx, `
		UPDATE cycles SET finished = $1, result = $2, stats = $3, plan_id = $4, error = $5, kind = COALESCE(NULLIF($6, ''), kind) WHERE id = $7`,
		s.time(c.Finished), c.Result, counts(c.Stats), c.PlanID, c.Error, c.Kind, c.ID))
	if err != nil {
		return fmt.Errorf("finish cycle %d: %w", c.ID, err)
	}
	return nil
}

// Cycles implements state.Store.
func (s *Store) Cycles(ctx context.Context, channel string, limit int) ([]state.Cycle, error) {
	var w query.Where
	if channel != "" {
		w.Add("channel = ?", channel)
	}
	rows, err := s.query(ctx, `SELECT id, channel, kind, started, finished, result, stats, plan_id, error
		FROM cycles`+w.String()+` ORDER BY id DESC LIMIT `+w.Next(), append(w.Args, limitArg(limit))...)
	if err != nil {
		return nil, fmt.Errorf("cycles of %q: %w", channel, err)
	}
	defer rows.Close()
	var cycles []state.Cycle
	for rows.Next() {
		var (
			c                 state.Cycle
			started, finished nullTime
			stats             []byte
		)
		err := rows.Scan(&c.ID, &c.Channel, &c.Kind, &started, &finished, &c.Result, &stats, &c.PlanID, &c.Error)
		if err != nil {
			return nil, fmt.Errorf("cycles of %q: %w", channel, err)
		}
		if err := json.Unmarshal(stats, &c.Stats); err != nil {
			return nil, fmt.Errorf("cycle %d: stats: %w", c.ID, err)
		}
		c.Started, c.Finished = started.t, finished.t
		cycles = append(cycles, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cycles of %q: %w", channel, err)
	}
	return cycles, nil
}

// counts encodes stats or a summary as a JSON object; nil becomes {} so that
// reads always return a non-nil map.
func counts(m map[string]int) string {
	if m == nil {
		return "{}"
	}
	b, err := json.Marshal(m)
	if err != nil { // a map[string]int always encodes
		panic(err)
	}
	return string(b)
}
