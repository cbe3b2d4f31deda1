// Package sqlite is the state.Store in one SQLite file, for a single
// o365prov process (modernc.org/sqlite: pure Go, no cgo).
//
// Concurrency: SQLite has one writer at a time, so every write goes through
// one connection (a *sql.DB capped at one open connection): goroutines queue
// for it in database/sql instead of failing with "database is locked". Reads
// use a separate pool; in WAL mode they run beside the writer and see every
// committed write. Reads never take the write connection, so a callback of
// Objects or Members may write. Write transactions begin IMMEDIATE, and a busy
// timeout covers other processes on the same file (an `o365prov channel
// reset` while the service runs).
//
// Durability: WAL with synchronous=FULL by default, so a call that returned
// nil survives a process kill and a power loss. synchronous=NORMAL (an
// option) survives a process kill but may lose the last commits on power
// loss, which the engine would then repeat; its only gain is an fsync per
// commit, and the Graph write budget (about 20 writes per second) makes
// that saving worthless against the risk of a duplicated object.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/o365prov/o365prov/internal/state"
	"github.com/o365prov/o365prov/internal/state/internal/sqlstore"
)

// Memory is the DSN of a private, throw-away store for tests and demos. It is
// a real file in a new temporary directory that Close removes, because an
// SQLite in-memory database cannot be shared by a writer and readers in WAL
// mode: behaviour would differ from the product's.
const Memory = ":memory:"

// Synchronous is SQLite's synchronous setting for the write connection.
type Synchronous string

// The settings that are safe with WAL; see the package documentation.
const (
	SynchronousFull   Synchronous = "FULL"
	SynchronousNormal Synchronous = "NORMAL"
)

// Option adjusts Open.
type Option func(*options)

type options struct {
	busyTimeout time.Duration
	synchronous Synchronous
}

// WithBusyTimeout sets how long a statement waits for another process's
// lock on the file before failing (default 10 s).
func WithBusyTimeout(d time.Duration) Option {
	return func(o *options) { o.busyTimeout = d }
}

// WithSynchronous sets the durability of commits (default SynchronousFull).
func WithSynchronous(s Synchronous) Option {
	return func(o *options) { o.synchronous = s }
}

// Store is a state.Store in an SQLite file.
type Store struct {
	*sqlstore.Store
	w       *sql.DB // the one write connection
	r       *sql.DB // readers
	path    string
	tempDir string // removed by Close (Memory)
}

// flavor is how SQLite differs: ?n placeholders, times as microseconds.
// SQLite's own time is julianday('now'), which is the same for every use
// within a statement; it has millisecond precision.
func flavor() sqlstore.Flavor {
	return sqlstore.Flavor{
		QuestionMarks: true,
		Time:          func(t time.Time) any { return t.UnixMicro() },
		Now:           `(CAST(ROUND((julianday('now') - 2440587.5) * 86400000000.0) AS INTEGER))`,
		Plus:          func(t, p string) string { return "(" + t + " + " + p + ")" },
	}
}

var _ state.Store = (*Store)(nil)

// Open opens, or creates, the store in the file dsn (a path, or Memory) and
// brings its schema up to date.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	o := options{busyTimeout: 10 * time.Second, synchronous: SynchronousFull}
	for _, opt := range opts {
		opt(&o)
	}
	if err := o.validate(); err != nil {
		return nil, err
	}
	s := &Store{}
	path, err := s.resolve(dsn)
	if err != nil {
		return nil, err
	}
	s.path = path
	if err := s.open(ctx, o); err != nil {
		s.Close()
		return nil, fmt.Errorf("open state database %s: %w", path, err)
	}
	return s, nil
}

func (o options) validate() error {
	if o.synchronous != SynchronousFull && o.synchronous != SynchronousNormal {
		return fmt.Errorf("open state database: synchronous %q is not one of FULL, NORMAL", o.synchronous)
	}
	if o.busyTimeout < 0 {
		return fmt.Errorf("open state database: busy timeout %v is negative", o.busyTimeout)
	}
	return nil
}

// resolve turns dsn into an absolute file path, creating the temporary
// directory for Memory.
func (s *Store) resolve(dsn string) (string, error) {
	switch dsn {
	case "":
		return "", errors.New("open state database: empty path")
	case Memory:
		dir, err := os.MkdirTemp("", "o365prov-state-")
		if err != nil {
			return "", fmt.Errorf("open in-memory state database: %w", err)
		}
		s.tempDir = dir
		return filepath.Join(dir, "state.db"), nil
	}
	path, err := filepath.Abs(dsn)
	if err != nil {
		return "", fmt.Errorf("open state database %s: %w", dsn, err)
	}
	if _, err := os.Stat(filepath.Dir(path)); err != nil {
		return "", fmt.Errorf("open state database %s: directory: %w", path, err)
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return "", fmt.Errorf("open state database %s: is a directory, want a file", path)
	}
	if err := create(path); err != nil {
		return "", fmt.Errorf("open state database %s: %w", path, err)
	}
	return path, nil
}

// create makes a new database file readable by its owner only: settings may
// hold keys. SQLite gives its -wal and -shm files the database file's mode.
// An existing file is left as it is.
func create(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return f.Close()
}

func (s *Store) open(ctx context.Context, o options) error {
	var err error
	// The writer first: it switches the file to WAL, which readers rely on.
	if s.w, err = sql.Open("sqlite", s.dsn(o, true)); err != nil {
		return err
	}
	s.w.SetMaxOpenConns(1)
	s.w.SetMaxIdleConns(1)
	s.w.SetConnMaxLifetime(0)
	s.w.SetConnMaxIdleTime(0)
	// Another process opening the file at the same moment may be switching
	// it to WAL or creating the schema: do both one process at a time.
	err = lockFile(ctx, s.path, func() error {
		if err := s.checkWAL(ctx); err != nil {
			return err
		}
		return upgrade(ctx, s.w)
	})
	if err != nil {
		return err
	}
	if s.r, err = sql.Open("sqlite", s.dsn(o, false)); err != nil {
		return err
	}
	// No cap on readers: in WAL mode they never wait for one another.
	s.r.SetMaxIdleConns(4)
	s.Store, err = sqlstore.New(ctx, s.w, s.r, flavor())
	return err
}

// dsn is the modernc.org/sqlite URI for the file: pragmas run on every new
// connection of the pool.
func (s *Store) dsn(o options, writer bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", o.busyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	// Enough page cache for a channel's objects and its indexes.
	q.Add("_pragma", "cache_size(-32768)")
	if writer {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous("+string(o.synchronous)+")")
		// A deferred transaction that reads and then writes cannot wait for
		// another process's write lock; an immediate one takes it first.
		q.Set("_txlock", "immediate")
	} else {
		q.Add("_pragma", "query_only(1)")
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(s.path), RawQuery: q.Encode()}
	return u.String()
}

// checkWAL fails when the file could not be put in WAL mode (a file system
// without shared memory, say), because the concurrency model depends on it.
func (s *Store) checkWAL(ctx context.Context) error {
	var mode string
	if err := s.w.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return err
	}
	if mode != "wal" {
		return fmt.Errorf("journal mode is %q, not wal", mode)
	}
	return nil
}

// Path is the database file.
func (s *Store) Path() string { return s.path }

// Close closes the store; for Memory it also removes the file.
func (s *Store) Close() error {
	var errs []error
	if s.Store != nil {
		errs = append(errs, s.Store.Close())
	}
	// Readers first, so that the writer, closing last, checkpoints the WAL
	// into the database file.
	if s.r != nil {
		errs = append(errs, s.r.Close())
	}
	if s.w != nil {
		errs = append(errs, s.w.Close())
	}
	if s.tempDir != "" {
		errs = append(errs, os.RemoveAll(s.tempDir))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close state database %s: %w", s.path, err)
	}
	return nil
}
