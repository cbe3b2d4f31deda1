package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/o365prov/o365prov/internal/state"
)

// Channel implements state.Store.
func (s *Store) Channel(ctx context.Context, name string) (state.ChannelState, error) {
	c := state.ChannelState{Name: name}
	var last, full nullTime
	err := s.r.QueryRowContext(ctx,
		s.q(`SELECT watermark, last_cycle, last_full_sync FROM channels WHERE name = $1`), name,
	).Scan(&c.Watermark, &last, &full)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return c, nil
	case err != nil:
		return c, fmt.Errorf("channel %s: %w", name, err)
	}
	c.LastCycle, c.LastFullSync = last.t, full.t
	return c, nil
}

// PutChannel implements state.Store.
func (s *Store) PutChannel(ctx context.Context, c state.ChannelState) error {
	if err := c.Validate(); err != nil {
		return fmt.Errorf("put channel: %w", err)
	}
	_, err := s.exec(ctx, `
		INSERT INTO channels (name, watermark, last_cycle, last_full_sync) VALUES ($1, $2, $3, $4)
		ON CONFLICT (name) DO UPDATE SET
			watermark = excluded.watermark,
			last_cycle = excluded.last_cycle,
			last_full_sync = excluded.last_full_sync`,
		c.Name, c.Watermark, s.time(c.LastCycle), s.time(c.LastFullSync))
	if err != nil {
		return fmt.Errorf("put channel %s: %w", c.Name, err)
	}
	return nil
}

// ResetChannel implements state.Store.
func (s *Store) ResetChannel(ctx context.Context, name string, all bool) error {
	if name == "" {
		return fmt.Errorf("reset channel: %w empty name", state.ErrInvalid)
	}
	err := s.inTx(ctx, func(tx tx) error {
		stmts := []string{`UPDATE channels SET watermark = NULL, last_full_sync = NULL WHERE name = $1`}
		if all {
			stmts = append(stmts,
				`DELETE FROM objects WHERE channel = $1`,
				`DELETE FROM members WHERE channel = $1`,
				`DELETE FROM plans WHERE channel = $1`)
		}
		for _, q := range stmts {
			if _, err := tx.exec(ctx, q, name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("reset channel %s: %w", name, err)
	}
	return nil
}
