package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/o365prov/o365prov/internal/state"
	"github.com/o365prov/o365prov/internal/state/internal/codec"
)

// objectColumns is what reads select: the record holds the rest.
const objectColumns = `kind, guid, record`

const upsertObject = `
	INSERT INTO objects (channel, kind, guid, record, dn, dn_key, graph_id, lifecycle, status,
		attempts, next_retry, last_error, deleted_at, updated_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (channel, kind, guid) DO UPDATE SET
		record = excluded.record, dn = excluded.dn, dn_key = excluded.dn_key,
		graph_id = excluded.graph_id, lifecycle = excluded.lifecycle, status = excluded.status,
		attempts = excluded.attempts, next_retry = excluded.next_retry,
		last_error = excluded.last_error, deleted_at = excluded.deleted_at,
		updated_at = excluded.updated_at`

// The statements of point lookups and puts, prepared once per store:
// parsing one costs about as much as running it.
const (
	selectObject = `SELECT ` + objectColumns + ` FROM objects
		WHERE channel = ? AND kind = ? AND guid = ?`
	// The index order (…, updated_at, guid) answers ORDER BY without a sort.
	selectObjectByDN = `SELECT ` + objectColumns + ` FROM objects
		WHERE channel = ? AND kind = ? AND dn_key = ? ORDER BY updated_at DESC, guid DESC LIMIT 1`
	selectObjectByGraphID = `SELECT ` + objectColumns + ` FROM objects
		WHERE channel = ? AND graph_id = ? ORDER BY updated_at DESC, kind DESC, guid DESC LIMIT 1`
)

// Object implements state.Store.
func (s *Store) Object(ctx context.Context, channel string, kind state.Kind, guid string) (state.Object, error) {
	key := state.ObjectKey(channel, kind, guid)
	if err := state.ValidateObjectKey(channel, kind, guid); err != nil {
		return state.Object{}, fmt.Errorf("object %s: %w", key, err)
	}
	return s.oneObject(ctx, channel, "object "+key, s.stmts.object, channel, kind, guid)
}

// ObjectByDN implements state.Store.
func (s *Store) ObjectByDN(ctx context.Context, channel string, kind state.Kind, dn string) (state.Object, error) {
	what := fmt.Sprintf("object %s/%s with DN %q", channel, kind, dn)
	if err := state.ValidateChannelKind(channel, kind, dn == "", "DN"); err != nil {
		return state.Object{}, fmt.Errorf("%s: %w", what, err)
	}
	return s.oneObject(ctx, channel, what, s.stmts.objectByDN, channel, kind, dnKey(dn))
}

// ObjectByGraphID implements state.Store.
func (s *Store) ObjectByGraphID(ctx context.Context, channel string, graphID string) (state.Object, error) {
	what := fmt.Sprintf("object %s with Graph id %s", channel, graphID)
	if channel == "" || graphID == "" {
		return state.Object{}, fmt.Errorf("%s: %w empty channel or Graph id", what, state.ErrInvalid)
	}
	return s.oneObject(ctx, channel, what, s.stmts.objectByGraphID, channel, graphID)
}

func (s *Store) oneObject(ctx context.Context, channel, what string, stmt *sql.Stmt, args ...any) (state.Object, error) {
	rows, err := stmt.QueryContext(ctx, args...)
	if err != nil {
		return state.Object{}, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return state.Object{}, fmt.Errorf("%s: %w", what, err)
		}
		return state.Object{}, fmt.Errorf("%s: %w", what, state.ErrNotFound)
	}
	o, err := scanObject(rows, channel)
	if err != nil {
		return state.Object{}, fmt.Errorf("%s: %w", what, err)
	}
	return o, nil
}

// PutObject implements state.Store.
func (s *Store) PutObject(ctx context.Context, o state.Object) error {
	if err := o.Validate(); err != nil {
		return fmt.Errorf("put object: %w", err)
	}
	if _, err := s.stmts.putObject.ExecContext(ctx, objectArgs(o)...); err != nil {
		return fmt.Errorf("put object %s: %w", o, err)
	}
	return nil
}

// PutObjects implements state.Store.
func (s *Store) PutObjects(ctx context.Context, objects []state.Object) error {
	for _, o := range objects {
		if err := o.Validate(); err != nil {
			return fmt.Errorf("put objects: %w", err)
		}
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		stmt := tx.StmtContext(ctx, s.stmts.putObject)
		defer stmt.Close()
		for _, o := range objects {
			if _, err := stmt.ExecContext(ctx, objectArgs(o)...); err != nil {
				return fmt.Errorf("%s: %w", o, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("put %d objects: %w", len(objects), err)
	}
	return nil
}

// DeleteObject implements state.Store.
func (s *Store) DeleteObject(ctx context.Context, channel string, kind state.Kind, guid string) error {
	key := state.ObjectKey(channel, kind, guid)
	if err := state.ValidateObjectKey(channel, kind, guid); err != nil {
		return fmt.Errorf("delete object %s: %w", key, err)
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{
			`DELETE FROM objects WHERE channel = ?1 AND kind = ?2 AND guid = ?3`,
			// A GUID names one directory object whatever its kind, so its
			// memberships go both ways.
			`DELETE FROM members WHERE channel = ?1 AND group_guid = ?3`,
			`DELETE FROM members WHERE channel = ?1 AND member_guid = ?3`,
		} {
			if _, err := tx.ExecContext(ctx, q, channel, kind, guid); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete object %s: %w", key, err)
	}
	return nil
}

// Objects implements state.Store.
func (s *Store) Objects(ctx context.Context, channel string, kind state.Kind, fn func(state.Object) error) error {
	if err := state.ValidateChannelKind(channel, kind, false, ""); err != nil {
		return fmt.Errorf("objects %s/%s: %w", channel, kind, err)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+objectColumns+` FROM objects
		WHERE channel = ? AND kind = ? ORDER BY guid`, channel, kind)
	if err != nil {
		return fmt.Errorf("objects %s/%s: %w", channel, kind, err)
	}
	defer rows.Close()
	for rows.Next() {
		o, err := scanObject(rows, channel)
		if err != nil {
			return fmt.Errorf("objects %s/%s: %w", channel, kind, err)
		}
		if err := fn(o); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("objects %s/%s: %w", channel, kind, err)
	}
	return nil
}

// CountObjects implements state.Store.
func (s *Store) CountObjects(ctx context.Context, channel string, kind state.Kind) (int, error) {
	if err := state.ValidateChannelKind(channel, kind, false, ""); err != nil {
		return 0, fmt.Errorf("count objects %s/%s: %w", channel, kind, err)
	}
	var n int
	err := s.r.QueryRowContext(ctx,
		`SELECT count(*) FROM objects WHERE channel = ? AND kind = ?`, channel, kind).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count objects %s/%s: %w", channel, kind, err)
	}
	return n, nil
}

// DueRetries implements state.Store.
func (s *Store) DueRetries(ctx context.Context, channel string, now time.Time, limit int) ([]state.Object, error) {
	if channel == "" {
		return nil, fmt.Errorf("due retries: %w empty channel", state.ErrInvalid)
	}
	// The status term is the objects_due index's own, so the index is used.
	rows, err := s.r.QueryContext(ctx, `SELECT `+objectColumns+` FROM objects
		WHERE channel = ? AND status IN ('failed', 'pending') AND (next_retry IS NULL OR next_retry <= ?)
		ORDER BY next_retry, kind, guid LIMIT ?`, channel, now.UnixMicro(), limitArg(limit))
	if err != nil {
		return nil, fmt.Errorf("due retries of %s: %w", channel, err)
	}
	defer rows.Close()
	var due []state.Object
	for rows.Next() {
		o, err := scanObject(rows, channel)
		if err != nil {
			return nil, fmt.Errorf("due retries of %s: %w", channel, err)
		}
		due = append(due, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("due retries of %s: %w", channel, err)
	}
	return due, nil
}

func objectArgs(o state.Object) []any {
	var graphID any
	if o.GraphID != "" {
		graphID = o.GraphID
	}
	return []any{
		o.Channel, o.Kind, o.GUID, codec.EncodeObject(o), o.DN, dnKey(o.DN), graphID,
		o.Lifecycle, o.Status, o.Attempts, timeArg(o.NextRetry), o.LastError,
		timeArg(o.DeletedAt), timeArg(o.UpdatedAt),
	}
}

// dnKey is the DN as looked up: case folded in Go rather than by SQLite's
// lower(), which folds ASCII only.
func dnKey(dn string) string { return strings.ToLower(dn) }

// scanObject reads a row of objectColumns; every query of objects is
// scoped to one channel.
func scanObject(rows *sql.Rows, channel string) (state.Object, error) {
	o := state.Object{Channel: channel}
	var record sql.RawBytes // decoded at once, before the next row
	if err := rows.Scan(&o.Kind, &o.GUID, &record); err != nil {
		return o, err
	}
	if err := codec.DecodeObject(record, &o); err != nil {
		return o, fmt.Errorf("object %s: %w", o, err)
	}
	return o, nil
}

// errNoRows turns database/sql's no-rows error into state.ErrNotFound.
func errNoRows(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return state.ErrNotFound
	}
	return err
}
