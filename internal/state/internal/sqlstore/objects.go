package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/o365prov/o365prov/internal/state"
	"github.com/o365prov/o365prov/internal/state/internal/codec"
)

// objectColumns is what reads select: the record holds the rest.
const objectColumns = `kind, guid, record`

// The statements New prepares. The lookups by DN and Graph id follow their
// index's order, so the database finds the object updated last without
// sorting.
const (
	selectObject = `SELECT ` + objectColumns + ` FROM objects
		WHERE channel = $1 AND kind = $2 AND guid = $3`
	selectObjectByDN = `SELECT ` + objectColumns + ` FROM objects
		WHERE channel = $1 AND kind = $2 AND dn_key = $3
		ORDER BY updated_at DESC NULLS LAST, guid DESC LIMIT 1`
	selectObjectByGraphID = `SELECT ` + objectColumns + ` FROM objects
		WHERE channel = $1 AND graph_id = $2
		ORDER BY updated_at DESC NULLS LAST, kind DESC, guid DESC LIMIT 1`
	upsertObject = `
		INSERT INTO objects (channel, kind, guid, record, dn, dn_key, graph_id, lifecycle, status,
			attempts, next_retry, last_error, deleted_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
		ON CONFLICT (channel, kind, guid) DO UPDATE SET
			record = excluded.record, dn = excluded.dn, dn_key = excluded.dn_key,
			graph_id = excluded.graph_id, lifecycle = excluded.lifecycle, status = excluded.status,
			attempts = excluded.attempts, next_retry = excluded.next_retry,
			last_error = excluded.last_error, deleted_at = excluded.deleted_at,
			updated_at = excluded.updated_at`
)

// Object implements state.Store.
func (s *Store) Object(ctx context.Context, channel string, kind state.Kind, guid string) (state.Object, error) {
	key := state.ObjectKey(channel, kind, guid)
	if err := state.ValidateObjectKey(channel, kind, guid); err != nil {
		return state.Object{}, fmt.Errorf("object %s: %w", key, err)
	}
	return oneObject(ctx, channel, "object "+key, s.object, channel, string(kind), guid)
}

// ObjectByDN implements state.Store.
func (s *Store) ObjectByDN(ctx context.Context, channel string, kind state.Kind, dn string) (state.Object, error) {
	what := fmt.Sprintf("object %s/%s with DN %q", channel, kind, dn)
	if err := state.ValidateChannelKind(channel, kind, dn == "", "DN"); err != nil {
		return state.Object{}, fmt.Errorf("%s: %w", what, err)
	}
	return oneObject(ctx, channel, what, s.objectByDN, channel, string(kind), dnKey(dn))
}

// ObjectByGraphID implements state.Store.
func (s *Store) ObjectByGraphID(ctx context.Context, channel string, graphID string) (state.Object, error) {
	what := fmt.Sprintf("object %s with Graph id %s", channel, graphID)
	if channel == "" || graphID == "" {
		return state.Object{}, fmt.Errorf("%s: %w empty channel or Graph id", what, state.ErrInvalid)
	}
	return oneObject(ctx, channel, what, s.objectByGraphID, channel, graphID)
}

func oneObject(ctx context.Context, channel, what string, stmt *sql.Stmt, args ...any) (state.Object, error) {
	rows, err := stmt.QueryContext(ctx, args...)
	if err != nil {
		return state.Object{}, fmt.Errorf("%s: %w", what, err)
	}
	objs, err := scanObjects(rows, channel, 1)
	if err != nil {
		return state.Object{}, fmt.Errorf("%s: %w", what, err)
	}
	if len(objs) == 0 {
		return state.Object{}, fmt.Errorf("%s: %w", what, state.ErrNotFound)
	}
	return objs[0], nil
}

// PutObject implements state.Store.
func (s *Store) PutObject(ctx context.Context, o state.Object) error {
	if err := o.Validate(); err != nil {
		return fmt.Errorf("put object: %w", err)
	}
	put := func(stmt *sql.Stmt) error {
		_, err := stmt.ExecContext(ctx, s.objectArgs(o)...)
		return err
	}
	var err error
	if fenced(ctx) {
		err = s.inTx(ctx, func(tx tx) error { return put(tx.StmtContext(ctx, s.putObject)) })
	} else {
		err = put(s.putObject)
	}
	if err != nil {
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
	err := s.inTx(ctx, func(tx tx) error {
		stmt := tx.StmtContext(ctx, s.putObject)
		defer stmt.Close()
		for _, o := range objects {
			if _, err := stmt.ExecContext(ctx, s.objectArgs(o)...); err != nil {
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
	err := s.inTx(ctx, func(tx tx) error {
		// A GUID names one directory object whatever its kind, so its
		// memberships go both ways.
		for _, st := range []struct {
			query string
			args  []any
		}{
			{`DELETE FROM objects WHERE channel = $1 AND kind = $2 AND guid = $3`, []any{channel, string(kind), guid}},
			{`DELETE FROM members WHERE channel = $1 AND group_guid = $2`, []any{channel, guid}},
			{`DELETE FROM members WHERE channel = $1 AND member_guid = $2`, []any{channel, guid}},
		} {
			if _, err := tx.exec(ctx, st.query, st.args...); err != nil {
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

// Objects implements state.Store, a page at a time.
func (s *Store) Objects(ctx context.Context, channel string, kind state.Kind, fn func(state.Object) error) error {
	if err := state.ValidateChannelKind(channel, kind, false, ""); err != nil {
		return fmt.Errorf("objects %s/%s: %w", channel, kind, err)
	}
	after := ""
	for {
		rows, err := s.query(ctx, `SELECT `+objectColumns+` FROM objects
			WHERE channel = $1 AND kind = $2 AND guid > $3 ORDER BY guid LIMIT $4`,
			channel, string(kind), after, PageSize)
		if err != nil {
			return fmt.Errorf("objects %s/%s: %w", channel, kind, err)
		}
		page, err := scanObjects(rows, channel, PageSize)
		if err != nil {
			return fmt.Errorf("objects %s/%s: %w", channel, kind, err)
		}
		for _, o := range page {
			if err := fn(o); err != nil {
				return err
			}
		}
		if len(page) < PageSize {
			return nil
		}
		after = page[len(page)-1].GUID
	}
}

// CountObjects implements state.Store.
func (s *Store) CountObjects(ctx context.Context, channel string, kind state.Kind) (int, error) {
	if err := state.ValidateChannelKind(channel, kind, false, ""); err != nil {
		return 0, fmt.Errorf("count objects %s/%s: %w", channel, kind, err)
	}
	var n int
	err := s.r.QueryRowContext(ctx, s.q(`SELECT count(*) FROM objects WHERE channel = $1 AND kind = $2`),
		channel, string(kind)).Scan(&n)
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
	rows, err := s.query(ctx, `SELECT `+objectColumns+` FROM objects
		WHERE channel = $1 AND status IN ('failed', 'pending') AND (next_retry IS NULL OR next_retry <= $2)
		ORDER BY next_retry NULLS FIRST, kind, guid LIMIT $3`, channel, s.flavor.Time(now), limitArg(limit))
	if err != nil {
		return nil, fmt.Errorf("due retries of %s: %w", channel, err)
	}
	due, err := scanObjects(rows, channel, 0)
	if err != nil {
		return nil, fmt.Errorf("due retries of %s: %w", channel, err)
	}
	return due, nil
}

func (s *Store) objectArgs(o state.Object) []any {
	var graphID any
	if o.GraphID != "" {
		graphID = o.GraphID
	}
	return []any{
		o.Channel, string(o.Kind), o.GUID, codec.EncodeObject(o), o.DN, dnKey(o.DN), graphID,
		string(o.Lifecycle), string(o.Status), o.Attempts, s.time(o.NextRetry), o.LastError,
		s.time(o.DeletedAt), s.time(o.UpdatedAt),
	}
}

// dnKey is the DN as looked up: case folded in Go, the same for every
// database (SQLite's lower() folds ASCII only).
func dnKey(dn string) string { return strings.ToLower(dn) }

// scanObjects reads rows of objectColumns, expecting about n, and closes
// them; every query of objects is scoped to one channel.
func scanObjects(rows *sql.Rows, channel string, n int) ([]state.Object, error) {
	defer rows.Close()
	objs := make([]state.Object, 0, n)
	for rows.Next() {
		o := state.Object{Channel: channel}
		var record sql.RawBytes // decoded at once, before the next row
		if err := rows.Scan(&o.Kind, &o.GUID, &record); err != nil {
			return nil, err
		}
		if err := codec.DecodeObject(record, &o); err != nil {
			return nil, fmt.Errorf("object %s: %w", o, err)
		}
		objs = append(objs, o)
	}
	return objs, rows.Err()
}
