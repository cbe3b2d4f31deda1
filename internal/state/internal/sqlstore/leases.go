package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/o365prov/o365prov/internal/state"
)

// Lease calls decide on the database's clock: s.now() is its current time
// in the flavor's representation, and s.nowPlus(p) that time moved by the
// microseconds in parameter p. A node's clock never enters a lease.

// leaseColumns are what scanLease reads, the database's time last.
func (s *Store) leaseColumns() string {
	return "name, holder, epoch, expires, handover_to, " + s.now()
}

// AcquireLease implements state.Store. One statement decides: the row is
// written only if it is free, lapsed or holder's own (PostgreSQL: a racing
// insert waits for the other's row, then finds it held).
func (s *Store) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (state.Lease, error) {
	ctx = state.WithoutFence(ctx)
	what := fmt.Sprintf("acquire lease %s for %s", name, holder)
	if err := state.ValidateLease(name, holder, ttl); err != nil {
		return state.Lease{}, fmt.Errorf("%s: %w", what, err)
	}
	var l state.Lease
	err := s.inTx(ctx, func(tx tx) error {
		if s.flavor.GrantLock != "" {
			// Wait for the holder's fenced writes in flight to commit.
			if _, err := tx.exec(ctx, `SELECT 1 FROM leases WHERE name = $1`+s.flavor.GrantLock, name); err != nil {
				return err
			}
		}
		var err error
		l, err = scanLease(tx.queryRow(ctx, `
			INSERT INTO leases (name, holder, expires, epoch, handover_to) VALUES ($1, $2, `+s.nowPlus("$3")+`, 1, '')
			ON CONFLICT (name) DO UPDATE
			SET holder = excluded.holder, expires = excluded.expires, epoch = leases.epoch + 1, handover_to = ''
			WHERE leases.holder = excluded.holder OR leases.holder = '' OR leases.expires <= `+s.now()+`
			RETURNING `+s.leaseColumns(), name, holder, ttl.Microseconds()))
		if err = errNoRows(err); !errors.Is(err, state.ErrNotFound) {
			return err
		}
		if l, err = tx.lease(ctx, name, false); err != nil {
			return err
		}
		return fmt.Errorf("%w: %s holds it (epoch %d) until %s", state.ErrLeaseHeld, l.Holder, l.Epoch, l.Expires.Format(time.RFC3339Nano))
	})
	if err != nil {
		return state.Lease{}, fmt.Errorf("%s: %w", what, err)
	}
	return l, nil
}

// RenewLease implements state.Store.
func (s *Store) RenewLease(ctx context.Context, name, holder string, epoch int64, ttl time.Duration) (state.Lease, error) {
	ctx = state.WithoutFence(ctx)
	what := fmt.Sprintf("renew lease %s for %s (epoch %d)", name, holder, epoch)
	if err := state.ValidateLease(name, holder, ttl); err != nil {
		return state.Lease{}, fmt.Errorf("%s: %w", what, err)
	}
	var l state.Lease
	err := s.inTx(ctx, func(tx tx) error {
		var err error
		l, err = scanLease(tx.queryRow(ctx, `
			UPDATE leases SET expires = `+s.nowPlus("$4")+`
			WHERE name = $1 AND holder = $2 AND epoch = $3 AND expires > `+s.now()+`
			RETURNING `+s.leaseColumns(), name, holder, epoch, ttl.Microseconds()))
		if err = errNoRows(err); !errors.Is(err, state.ErrNotFound) {
			return err
		}
		l, err = tx.lease(ctx, name, false)
		return state.LostLease(l, holder, err)
	})
	if err != nil {
		return state.Lease{}, fmt.Errorf("%s: %w", what, err)
	}
	return l, nil
}

// CheckLease implements state.Store.
func (s *Store) CheckLease(ctx context.Context, name, holder string, epoch int64) error {
	l, err := scanLease(s.r.QueryRowContext(ctx, s.q(`SELECT `+s.leaseColumns()+` FROM leases WHERE name = $1`), name))
	if err := holds(l, state.Fence{Lease: name, Holder: holder, Epoch: epoch}, errNoRows(err)); err != nil {
		return fmt.Errorf("check lease %s for %s (epoch %d): %w", name, holder, epoch, err)
	}
	return nil
}

// holds is nil when l, as read, is still f's.
func holds(l state.Lease, f state.Fence, lookupErr error) error {
	if lookupErr == nil && l.Holder == f.Holder && l.Epoch == f.Epoch && l.Remaining > 0 {
		return nil
	}
	return state.LostLease(l, f.Holder, lookupErr)
}

// ReleaseLease implements state.Store. The row stays, so the next grant's
// epoch is higher than every earlier one; a handover request stays too, as
// the reservation of the node it names.
func (s *Store) ReleaseLease(ctx context.Context, name, holder string) error {
	ctx = state.WithoutFence(ctx)
	if _, err := s.exec(ctx, `UPDATE leases SET holder = '', expires = `+s.now()+` WHERE name = $1 AND holder = $2`, name, holder); err != nil {
		return fmt.Errorf("release lease %s for %s: %w", name, holder, err)
	}
	return nil
}

// HandOverLease implements state.Store.
func (s *Store) HandOverLease(ctx context.Context, name, to string) error {
	ctx = state.WithoutFence(ctx)
	if name == "" || to == "" {
		return fmt.Errorf("hand over lease %q to %q: %w", name, to, fmt.Errorf("%w: empty name or node", state.ErrInvalid))
	}
	err := mustAffect(s.exec(ctx, `UPDATE leases SET handover_to = $2 WHERE name = $1 AND holder <> '' AND expires > `+s.now(), name, to))
	if err != nil {
		return fmt.Errorf("hand over lease %s: no node holds it: %w", name, err)
	}
	return nil
}

// Leases implements state.Store.
func (s *Store) Leases(ctx context.Context) ([]state.Lease, error) {
	rows, err := s.query(ctx, `SELECT `+s.leaseColumns()+` FROM leases ORDER BY name`)
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

// lease reads a lease in t; with fence, locks it against a grant until t
// ends (see Flavor.FenceLock).
func (t tx) lease(ctx context.Context, name string, fence bool) (state.Lease, error) {
	q := `SELECT ` + t.s.leaseColumns() + ` FROM leases WHERE name = $1`
	if fence {
		q += t.s.flavor.FenceLock
	}
	l, err := scanLease(t.queryRow(ctx, q, name))
	return l, errNoRows(err)
}

// fence checks, inside t, that the fence ctx carries (if any) still holds
// its lease: the write that follows commits only if it does, and a grant
// to another node waits for it (PostgreSQL's key share lock) or for the
// one writer (SQLite).
func (t tx) fence(ctx context.Context) error {
	f, ok := state.FenceFrom(ctx)
	if !ok {
		return nil
	}
	l, err := t.lease(ctx, f.Lease, true)
	if err := holds(l, f, err); err != nil {
		return fmt.Errorf("write fenced by lease %s (epoch %d): %w", f.Lease, f.Epoch, err)
	}
	return nil
}

func scanLease(row interface{ Scan(...any) error }) (state.Lease, error) {
	var (
		l            state.Lease
		expires, now nullTime
	)
	err := row.Scan(&l.Name, &l.Holder, &l.Epoch, &expires, &l.HandoverTo, &now)
	l.Expires = expires.t
	l.Remaining = expires.t.Sub(now.t)
	return l, err
}
