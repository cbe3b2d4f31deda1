package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/o365prov/o365prov/internal/state"
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
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx,
			`INSERT INTO audit (`+auditColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, e := range entries {
			_, err := stmt.ExecContext(ctx, timeArg(e.Time), e.Channel, e.Cycle, e.Kind, e.GUID, e.DN,
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
	w := auditWhere(q)
	rows, err := s.r.QueryContext(ctx, `SELECT id, `+auditColumns+` FROM audit`+w.String()+
		` ORDER BY id DESC LIMIT ?`, append(w.args, limitArg(q.Limit))...)
	if err != nil {
		return nil, fmt.Errorf("query audit: %w", err)
	}
	defer rows.Close()
	var entries []state.AuditEntry
	for rows.Next() {
		var (
			e  state.AuditEntry
			at sql.NullInt64
		)
		err := rows.Scan(&e.ID, &at, &e.Channel, &e.Cycle, &e.Kind, &e.GUID, &e.DN,
			&e.Operation, &e.Result, &e.RequestID, &e.Detail)
		if err != nil {
			return nil, fmt.Errorf("query audit: %w", err)
		}
		e.Time = fromMicros(at)
		entries = append(entries, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query audit: %w", err)
	}
	return entries, nil
}

func auditWhere(q state.AuditQuery) where {
	var w where
	for _, f := range []struct {
		cond  string
		arg   any
		empty bool
	}{
		{"channel = ?", q.Channel, q.Channel == ""},
		{"guid = ?", q.GUID, q.GUID == ""},
		{"cycle = ?", q.Cycle, q.Cycle == 0},
		{"time >= ?", q.Since.UnixMicro(), q.Since.IsZero()},
		{"operation = ?", q.Operation, q.Operation == ""},
		{"result = ?", q.Result, q.Result == ""},
		{"id < ?", q.BeforeID, q.BeforeID <= 0},
	} {
		if !f.empty {
			w.add(f.cond, f.arg)
		}
	}
	return w
}

// PruneHistory implements state.Store.
func (s *Store) PruneHistory(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{
			`DELETE FROM audit WHERE time < ?`,
			`DELETE FROM cycles WHERE started < ? AND finished IS NOT NULL`,
			`DELETE FROM plans WHERE created < ? AND status IN ('rejected', 'applied', 'superseded')`,
		} {
			res, err := tx.ExecContext(ctx, q, before.UnixMicro())
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
