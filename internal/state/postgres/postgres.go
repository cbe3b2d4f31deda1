// Package postgres is the state.Store in PostgreSQL, for clustered mode:
// several o365prov nodes share one database, and a lease per channel makes
// exactly one of them run it (github.com/jackc/pgx/v5 through database/sql).
//
// Leases are rows, not advisory locks, and run on the server's clock
// (now()), so a node that stops renewing loses the channel after its ttl
// even if its connection lingers, whatever the nodes' clocks say. A fenced
// write key-share-locks its lease row for the length of its transaction,
// which a grant to another node waits for but a renewal does not; so that a
// node stopped in the middle of one (SIGSTOP, a long pause) cannot keep the
// others from taking the lease over, sessions idle in a transaction are
// ended by the server after IdleInTransactionTimeout.
//
// Keys listed in order are COLLATE "C", so they sort bytewise, as the
// contract says, whatever the database's locale. Every call is one
// transaction, durable when it returns under the server's default
// synchronous_commit.
package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/o365prov/o365prov/internal/state"
	"github.com/o365prov/o365prov/internal/state/internal/sqlstore"
)

// IdleInTransactionTimeout is how long the server lets a session sit in a
// transaction without a statement before ending it (unless the connection
// string sets idle_in_transaction_session_timeout). Every transaction of
// the store runs its statements back to back, so only a stalled process
// hits it; it must be well under the lease ttl.
const IdleInTransactionTimeout = 3 * time.Second

// Option adjusts Open.
type Option func(*options)

type options struct {
	maxConns int
}

// WithMaxConns caps the pool's connections (default 8).
func WithMaxConns(n int) Option {
	return func(o *options) { o.maxConns = n }
}

// Store is a state.Store in PostgreSQL.
type Store struct {
	*sqlstore.Store
	db *sql.DB
}

var _ state.Store = (*Store)(nil)

// flavor is how PostgreSQL differs: TIMESTAMPTZ columns, and membership
// changes as one array (the shared SQL's $n placeholders are its own).
func flavor() sqlstore.Flavor {
	return sqlstore.Flavor{
		Time:      func(t time.Time) any { return t },
		Arrays:    true,
		Now:       "now()",
		Plus:      func(t, p string) string { return "(" + t + " + " + p + "::bigint * interval '1 microsecond')" },
		FenceLock: " FOR KEY SHARE",
		GrantLock: " FOR UPDATE",
	}
}

// Open connects to the database dsn names (a URL or key=value string; it may
// hold a password, so errors never show it) and brings its schema up to
// date.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	o := options{maxConns: 8}
	for _, opt := range opts {
		opt(&o)
	}
	if o.maxConns < 1 {
		return nil, fmt.Errorf("open state database: max conns %d is below 1", o.maxConns)
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx redacts passwords only on a best-effort basis, and the cause
		// may quote the string: say nothing of it.
		return nil, errors.New("open state database: the connection string does not parse (it is not shown: it may hold a password)")
	}
	where := fmt.Sprintf("%s on %s:%d", cfg.Database, cfg.Host, cfg.Port)
	if _, set := cfg.RuntimeParams["idle_in_transaction_session_timeout"]; !set {
		cfg.RuntimeParams["idle_in_transaction_session_timeout"] = fmt.Sprint(IdleInTransactionTimeout.Milliseconds())
	}
	s := &Store{db: stdlib.OpenDB(*cfg)}
	s.db.SetMaxOpenConns(o.maxConns)
	s.db.SetMaxIdleConns(o.maxConns)
	if err := s.open(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("open state database %s: %w", where, err)
	}
	return s, nil
}

func (s *Store) open(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return err
	}
	if err := upgrade(ctx, s.db); err != nil {
		return err
	}
	var err error
	s.Store, err = sqlstore.New(ctx, s.db, s.db, flavor())
	return err
}

// Close closes the store's connections.
func (s *Store) Close() error {
	var errs []error
	if s.Store != nil {
		errs = append(errs, s.Store.Close())
	}
	errs = append(errs, s.db.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close state database: %w", err)
	}
	return nil
}
