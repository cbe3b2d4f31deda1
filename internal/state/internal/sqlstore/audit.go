package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/o365prov/o365prov/internal/state"
	"github.com/o365prov/o365prov/internal/state/internal/query"
)

const auditColumns = `time, channel, cycle, kind, guid, dn, operation, result, request_id, detail`

// Audit implements state.Store.
func (s *Store) Audit(ctx context.Context, entries ...state.AuditEntry) error {
	for _, e := range entries {
		if err := e.Validate(); err != nil {
			return fmt.Errorf("audit: %w", err)
		}
	}
	if len(entries) == 0 {
		return nil
	}
	err := s.inTx(ctx, func(tx tx) error {
		stmt, err := tx.PrepareContext(ctx,
			s.q(`INSERT INTO audit (`+auditColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`))
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, e := range entries {
			_, err := stmt.ExecContext(ctx, s.time(e.Time), e.Channel, e.Cycle, string(e.Kind), e.GUID, e.DN,
				e.Operation, e.Result, e.RequestID, e.Detail)
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("audit %d entries: %w", len(entries), err)
	}
	return nil
}

// QueryAudit implements state.Store.
func (s *Store) QueryAudit(ctx context.Context, q state.AuditQuery) ([]state.AuditEntry, error) {
	var w query.Where
	query.Audit(&w, q, s.flavor.Time)
	rows, err := s.query(ctx, `SELECT id, `+auditColumns+` FROM audit`+w.String()+
		` ORDER BY id DESC LIMIT `+w.Next(), append(w.Args, limitArg(q.Limit))...)
	if err != nil {
		return nil, fmt.Errorf("query audit: %w", err)
	}
	defer rows.Close()
	var entries []state.AuditEntry
	for rows.Next() {
		var (
			e  state.AuditEntry
			at nullTime
		)
		err := rows.Scan(&e.ID, &at, &e.Channel, &e.Cycle, &e.Kind, &e.GUID, &e.DN,
			&e.Operation, &e.Result, &e.RequestID, &e.Detail)
		if err != nil {
			return nil, fmt.Errorf("query audit: %w", err)
		}
		e.Time = at.t
		entries = append(entries, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query audit: %w", err)
	}
	return entries, nil
}

// PruneHistory implements state.Store.
func (s *Store) PruneHistory(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	err := s.inTx(ctx, func(tx tx) error {
		for _, q := range []string{
			`DELETE FROM audit WHERE time < $1`,
			`DELETE FROM cycles WHERE started < $1 AND finished IS NOT NULL`,
			`DELETE FROM plans WHERE created < $1 AND status IN ('rejected', 'applied', 'superseded')`,
		} {
			res, err := tx.exec(ctx, q, s.flavor.Time(before))
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			total += n
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("prune history before %s: %w", before.UTC().Format(time.RFC3339), err)
	}
	return total, nil
}
