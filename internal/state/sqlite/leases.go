package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/o365prov/o365prov/internal/state"
)

// AcquireLease implements state.Store. One statement decides: the row is
// written only if it is free, expired or holder's own.
func (s *Store) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration, now time.Time) error {
	what := fmt.Sprintf("acquire lease %s for %s", name, holder)
	if err := state.ValidateLease(name, holder, ttl); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `
			INSERT INTO leases (name, holder, expires) VALUES (?1, ?2, ?3)
			ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires = excluded.expires
			WHERE leases.holder = excluded.holder OR leases.expires <= ?4`,
			name, holder, now.Add(ttl).UnixMicro(), now.UnixMicro())
		if err != nil {
			return err
		}
		if err := mustAffect(res); !errors.Is(err, state.ErrNotFound) {
			return err
		}
		l, err := lease(ctx, tx, name)
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
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `
			UPDATE leases SET expires = ? WHERE name = ? AND holder = ? AND expires > ?`,
			now.Add(ttl).UnixMicro(), name, holder, now.UnixMicro())
		if err != nil {
			return err
		}
		if err := mustAffect(res); !errors.Is(err, state.ErrNotFound) {
			return err
		}
		l, err := lease(ctx, tx, name)
		return state.LostLease(l, holder, err)
	})
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// ReleaseLease implements state.Store.
func (s *Store) ReleaseLease(ctx context.Context, name, holder string) error {
	_, err := s.w.ExecContext(ctx, `DELETE FROM leases WHERE name = ? AND holder = ?`, name, holder)
	if err != nil {
		return fmt.Errorf("release lease %s for %s: %w", name, holder, err)
	}
	return nil
}

// Leases implements state.Store.
func (s *Store) Leases(ctx context.Context) ([]state.Lease, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT name, holder, expires FROM leases ORDER BY name`)
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

func lease(ctx context.Context, tx *sql.Tx, name string) (state.Lease, error) {
	l, err := scanLease(tx.QueryRowContext(ctx, `SELECT name, holder, expires FROM leases WHERE name = ?`, name))
	return l, errNoRows(err)
}

func scanLease(row interface{ Scan(...any) error }) (state.Lease, error) {
	var (
		l       state.Lease
		expires sql.NullInt64
	)
	err := row.Scan(&l.Name, &l.Holder, &expires)
	l.Expires = fromMicros(expires)
	return l, err
}
