package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/o365prov/o365prov/internal/state"
)

// Items live in sso_items; expiry is Unix nanoseconds, the same in both
// SQL dialects and compared as integers.

var _ state.ItemStore = (*Store)(nil)

func nanos(t time.Time) int64 { return t.UnixNano() }

// PutItem implements state.ItemStore.
func (s *Store) PutItem(ctx context.Context, key string, value []byte, expires time.Time) error {
	if value == nil {
		value = []byte{}
	}
	_, err := s.exec(ctx, `INSERT INTO sso_items (key, value, count, expires) VALUES ($1, $2, 0, $3)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, count = 0, expires = excluded.expires`, key, value, nanos(expires))
	if err != nil {
		return fmt.Errorf("put item %s: %w", key, err)
	}
	return nil
}

// Item implements state.ItemStore.
func (s *Store) Item(ctx context.Context, key string, now time.Time) ([]byte, error) {
	var v []byte
	err := s.r.QueryRowContext(ctx, s.q(`SELECT value FROM sso_items WHERE key = $1 AND expires > $2`), key, nanos(now)).Scan(&v)
	if err != nil {
		return nil, fmt.Errorf("item %s: %w", key, errNoRows(err))
	}
	if v == nil {
		v = []byte{}
	}
	return v, nil
}

// DeleteItem implements state.ItemStore.
func (s *Store) DeleteItem(ctx context.Context, key string) error {
	if _, err := s.exec(ctx, `DELETE FROM sso_items WHERE key = $1`, key); err != nil {
		return fmt.Errorf("delete item %s: %w", key, err)
	}
	return nil
}

// AddItem implements state.ItemStore: an upsert that only overwrites an
// expired row, so two nodes racing on one request id cannot both win.
func (s *Store) AddItem(ctx context.Context, key string, value []byte, expires, now time.Time) (bool, error) {
	if value == nil {
		value = []byte{}
	}
	res, err := s.exec(ctx, `INSERT INTO sso_items (key, value, count, expires) VALUES ($1, $2, 0, $3)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, count = 0, expires = excluded.expires
		WHERE sso_items.expires <= $4`, key, value, nanos(expires), nanos(now))
	if err != nil {
		return false, fmt.Errorf("add item %s: %w", key, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("add item %s: %w", key, err)
	}
	return n == 1, nil
}

// Increment implements state.ItemStore.
func (s *Store) Increment(ctx context.Context, key string, expires, now time.Time) (int, error) {
	var n int
	err := s.w.QueryRowContext(ctx, s.q(`INSERT INTO sso_items (key, value, count, expires) VALUES ($1, $2, 1, $3)
		ON CONFLICT (key) DO UPDATE SET
			count = CASE WHEN sso_items.expires <= $4 THEN 1 ELSE sso_items.count + 1 END,
			expires = CASE WHEN sso_items.expires <= $4 THEN excluded.expires ELSE sso_items.expires END
		RETURNING count`), key, []byte{}, nanos(expires), nanos(now)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("increment %s: %w", key, err)
	}
	return n, nil
}

// Count implements state.ItemStore.
func (s *Store) Count(ctx context.Context, key string, now time.Time) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, s.q(`SELECT count FROM sso_items WHERE key = $1 AND expires > $2`), key, nanos(now)).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("count %s: %w", key, err)
	}
	return n, nil
}

// PruneItems implements state.ItemStore.
func (s *Store) PruneItems(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.exec(ctx, `DELETE FROM sso_items WHERE expires <= $1`, nanos(now))
	if err != nil {
		return 0, fmt.Errorf("prune items: %w", err)
	}
	return res.RowsAffected()
}
