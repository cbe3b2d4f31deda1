package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/o365prov/o365prov/internal/state"
)

// AcquireLease implements state.Store. One statement decides: the row is
// written only if it is free, expired or holder's own (PostgreSQL: a racing
// insert waits for the other's row, then finds it held).
func (s *Store) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration, now time.Time) error {
	what := fmt.Sprintf("acquire lease %s for %s", name, holder)
	if err := state.ValidateLease(name, holder, ttl); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	err := s.inTx(ctx, func(tx tx) error {
		err := mustAffect(tx.exec(ctx, `
			INSERT INTO leases (name, holder, expires) VALUES ($1, $2, $3)
			ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires = excluded.expires
			WHERE leases.holder = excluded.holder OR leases.expires <= $4`,
			name, holder, s.time(now.Add(ttl)), s.time(now)))
		if !errors.Is(err, state.ErrNotFound) {
			return err
		}
		l, err := tx.lease(ctx, name)
		if err != nil {
			return err
		}
		return fmt.Errorf("%w: %s holds it until %s", state.ErrLeaseHeld, l.Holder, l.Expires.Format(time.RFC3339Nano))
	})
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// RenewLease implements state.Store.
func (s *Store) RenewLease(ctx context.Context, name, holder string, ttl time.Duration, now time.Time) error {
	what := fmt.Sprintf("renew lease %s for %s", name, holder)
	if err := state.ValidateLease(name, holder, ttl); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	err := s.inTx(ctx, func(tx tx) error {
		err := mustAffect(tx.exec(ctx, `
			UPDATE leases SET expires = $1 WHERE name = $2 AND holder = $3 AND expires > $4`,
			s.time(now.Add(ttl)), name, holder, s.time(now)))
		if !errors.Is(err, state.ErrNotFound) {
			return err
		}
		l, err := tx.lease(ctx, name)
		return state.LostLease(l, holder, err)
	})
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// ReleaseLease implements state.Store.
func (s *Store) ReleaseLease(ctx context.Context, name, holder string) error {
	if _, err := s.exec(ctx, `DELETE FROM leases WHERE name = $1 AND holder = $2`, name, holder); err != nil {
		return fmt.Errorf("release lease %s for %s: %w", name, holder, err)
	}
	return nil
}

// Leases implements state.Store.
func (s *Store) Leases(ctx context.Context) ([]state.Lease, error) {
	rows, err := s.query(ctx, `SELECT name, holder, expires FROM leases ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("leases: %w", err)
	}
	defer rows.Close()
	var leases []state.Lease
	for rows.Next() {
		l, err := scanLease(rows)
		if err != nil {
			return nil, fmt.Errorf("leases: %w", err)
		}
		leases = append(leases, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("leases: %w", err)
	}
	return leases, nil
}

func (t tx) lease(ctx context.Context, name string) (state.Lease, error) {
	l, err := scanLease(t.queryRow(ctx, `SELECT name, holder, expires FROM leases WHERE name = $1`, name))
	return l, errNoRows(err)
}

func scanLease(row interface{ Scan(...any) error }) (state.Lease, error) {
	var (
		l       state.Lease
		expires nullTime
	)
	err := row.Scan(&l.Name, &l.Holder, &expires)
	l.Expires = expires.t
	return l, err
}
