// Package sqlstore is state.Store over database/sql, shared by the SQL stores
// (dex's storage/sql is the model): one implementation, so that SQLite and
// PostgreSQL cannot drift apart, and a Flavor for what differs. The packages
// state/sqlite and state/postgres open the database, migrate it and hand it
// here.
//
// Queries are written with PostgreSQL's $n placeholders; the SQLite flavor
// turns them into its ?n, which mean the same. Both databases take the rest
// of the SQL as is (ON CONFLICT, RETURNING, NULLS FIRST/LAST).
//
// Walks (Objects, Members) read keyset pages of PageSize rows and call fn
// between pages with no connection held: a callback may use the store, and
// a walk blocks neither a checkpoint nor another writer.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/o365prov/o365prov/internal/state"
)

// PageSize is how many rows a walk reads at a time.
const PageSize = 1000

// Flavor is what differs between databases.
type Flavor struct {
	// QuestionMarks turns $n placeholders into ?n (SQLite).
	QuestionMarks bool
	// Time is a non-zero time as the database stores it (the zero time is
	// NULL everywhere). Reads accept an integer of microseconds since the
	// epoch or a time.
	Time func(time.Time) any
	// Arrays passes a membership change as one text[] parameter
	// (PostgreSQL): one statement whatever the count, planned to probe the
	// key once per member (see RemoveMembers). Without it, changes go in
	// chunks of parameters, and SQLite probes its key once for each.
	Arrays bool
	// Now is SQL for the database's current time, as Time stores times:
	// leases and heartbeats go by it, never by a node's clock.
	Now string
	// Plus is SQL for time t moved by the microseconds in parameter p.
	Plus func(t, p string) string
	// FenceLock ends the SELECT of a lease a fenced write checks, and
	// GrantLock the one a grant reads first: a grant waits for the fenced
	// writes in flight, and they for it, but renewals wait for neither
	// (PostgreSQL's FOR KEY SHARE and FOR UPDATE; an UPDATE that leaves the
	// key alone conflicts with the first only). Empty for SQLite, whose one
	// writer already excludes the others.
	FenceLock, GrantLock string
}

// Store implements state.Store over two pools: w for writes and r for reads,
// which may be the same pool.
type Store struct {
	w, r   *sql.DB
	flavor Flavor
	stmts  []*sql.Stmt
	// The statements of the hottest calls, prepared once: parsing one costs
	// about as much as running it.
	object, objectByDN, objectByGraphID, putObject *sql.Stmt
}

var _ state.Store = (*Store)(nil)

// New prepares the store's statements on w and r.
func New(ctx context.Context, w, r *sql.DB, f Flavor) (*Store, error) {
	s := &Store{w: w, r: r, flavor: f}
	for _, p := range []struct {
		db    *sql.DB
		query string
		stmt  **sql.Stmt
	}{
		{r, selectObject, &s.object},
		{r, selectObjectByDN, &s.objectByDN},
		{r, selectObjectByGraphID, &s.objectByGraphID},
		{w, upsertObject, &s.putObject},
	} {
		stmt, err := p.db.PrepareContext(ctx, s.q(p.query))
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("prepare %q: %w", p.query, err)
		}
		*p.stmt = stmt
		s.stmts = append(s.stmts, stmt)
	}
	return s, nil
}

// Close releases the prepared statements; the pools are the caller's.
func (s *Store) Close() error {
	var errs []error
	for _, st := range s.stmts {
		errs = append(errs, st.Close())
	}
	return errors.Join(errs...)
}

// q is a query in the flavor's placeholders.
func (s *Store) q(query string) string {
	if s.flavor.QuestionMarks {
		return strings.ReplaceAll(query, "$", "?")
	}
	return query
}

// now is the database's current time.
func (s *Store) now() string { return s.flavor.Now }

// nowPlus is the database's current time moved by the microseconds in
// parameter p.
func (s *Store) nowPlus(p string) string { return s.flavor.Plus(s.flavor.Now, p) }

// fenced reports whether ctx carries a fence: its writes need a
// transaction that checks it.
func fenced(ctx context.Context) bool {
	_, ok := state.FenceFrom(ctx)
	return ok
}

// exec runs a write outside a transaction, or in one when it is fenced.
func (s *Store) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if !fenced(ctx) {
		return s.w.ExecContext(ctx, s.q(query), args...)
	}
	var res sql.Result
	err := s.inTx(ctx, func(t tx) error {
		var err error
		res, err = t.exec(ctx, query, args...)
		return err
	})
	return res, err
}

// query runs a read.
func (s *Store) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return s.r.QueryContext(ctx, s.q(query), args...)
}

// tx is a write transaction that speaks the flavor.
type tx struct {
	*sql.Tx
	s *Store
}

func (t tx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return t.ExecContext(ctx, t.s.q(query), args...)
}

func (t tx) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return t.QueryRowContext(ctx, t.s.q(query), args...)
}

// inTx runs fn in a write transaction and commits it. A fenced context's
// fence is checked first, in the transaction.
func (s *Store) inTx(ctx context.Context, fn func(tx) error) error {
	t, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := (tx{t, s}).fence(ctx); err != nil {
		return errors.Join(err, ignoreDone(t.Rollback()))
	}
	if err := fn(tx{t, s}); err != nil {
		return errors.Join(err, ignoreDone(t.Rollback()))
	}
	return t.Commit()
}

// ignoreDone drops the error of a rollback that database/sql already did
// because the context ended.
func ignoreDone(err error) error {
	if errors.Is(err, sql.ErrTxDone) {
		return nil
	}
	return err
}

// time is a time argument: NULL for the zero time.
func (s *Store) time(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return s.flavor.Time(t)
}

// nullTime scans a time column of any flavor.
type nullTime struct{ t time.Time }

func (n *nullTime) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		n.t = time.Time{}
	case int64:
		n.t = time.UnixMicro(v).UTC()
	case time.Time:
		n.t = v.UTC()
	default:
		return fmt.Errorf("time column holds %T", src)
	}
	return nil
}

func limitArg(limit int) int {
	if limit <= 0 {
		return state.DefaultLimit
	}
	return limit
}

// mustAffect turns a command that matched no row into state.ErrNotFound.
func mustAffect(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return state.ErrNotFound
	}
	return nil
}

// errNoRows turns database/sql's no-rows error into state.ErrNotFound.
func errNoRows(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return state.ErrNotFound
	}
	return err
}
