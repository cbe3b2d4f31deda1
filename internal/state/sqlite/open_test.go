package sqlite_test

import (
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/o365prov/o365prov/internal/state"
	"github.com/o365prov/o365prov/internal/state/sqlite"
)

func TestReopenedStoreFindsWhatItRecorded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s := open(t, path)
	o := state.Object{Channel: "staff", Kind: state.KindUser, GUID: "u1", DN: "CN=u1", GraphID: "g",
		Applied: map[string]string{"displayName": `"U"`}, Lifecycle: state.LifecycleActive, Status: state.StatusOK}
	if err := s.PutObject(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, path)
	defer s.Close()
	got, err := s.Object(t.Context(), "staff", state.KindUser, "u1")
	if err != nil {
		t.Fatal(err)
	}
	if got.GraphID != "g" || got.Applied["displayName"] != `"U"` {
		t.Errorf("reopened store has %+v", got)
	}
	if v, want := schemaVersion(t, path), latestMigration(t); v != want {
		t.Errorf("schema version %d after two opens, want %d (the latest migration)", v, want)
	}
}

// latestMigration is the version of the newest migration file.
func latestMigration(t *testing.T) int64 {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("migrations", "*.sql"))
	if err != nil || len(files) == 0 {
		t.Fatalf("migrations: %v (%d files)", err, len(files))
	}
	var latest int64
	for _, f := range files {
		v, err := strconv.ParseInt(strings.SplitN(filepath.Base(f), "_", 2)[0], 10, 64)
		if err != nil {
			t.Fatalf("migration %s: %v", f, err)
		}
		latest = max(latest, v)
	}
	return latest
}

func TestOpenConfiguresTheConnections(t *testing.T) {
	tests := []struct {
		name   string
		opts   []sqlite.Option
		pragma string
		writer string // want on the write connection
		reader string // want on a read connection; "" to skip
	}{
		{"the file is in WAL mode", nil, "journal_mode", "wal", "wal"},
		{"foreign keys are enforced", nil, "foreign_keys", "1", "1"},
		{"commits are synced in full by default", nil, "synchronous", "2", ""},
		{"NORMAL sync can be chosen", []sqlite.Option{sqlite.WithSynchronous(sqlite.SynchronousNormal)}, "synchronous", "1", ""},
		{"the busy timeout is 10 s by default", nil, "busy_timeout", "10000", "10000"},
		{"the busy timeout can be chosen", []sqlite.Option{sqlite.WithBusyTimeout(1500 * time.Millisecond)}, "busy_timeout", "1500", "1500"},
		{"readers cannot write", nil, "query_only", "0", "1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t, filepath.Join(t.TempDir(), "state.db"), tc.opts...)
			defer s.Close()
			if got, err := s.WriterPragma(t.Context(), tc.pragma); err != nil || got != tc.writer {
				t.Errorf("writer's %s = %q, %v; want %q", tc.pragma, got, err, tc.writer)
			}
			if tc.reader == "" {
				return
			}
			if got, err := s.ReaderPragma(t.Context(), tc.pragma); err != nil || got != tc.reader {
				t.Errorf("reader's %s = %q, %v; want %q", tc.pragma, got, err, tc.reader)
			}
		})
	}
}

func TestOpenRefuses(t *testing.T) {
	dir := t.TempDir()
	newer := filepath.Join(dir, "newer.db")
	open(t, newer).Close()
	setSchemaVersion(t, newer, 99)
	tests := []struct {
		name string
		dsn  string
		opts []sqlite.Option
		want string // in the error
	}{
		{"an empty path", "", nil, "empty path"},
		{"a file in a missing directory", filepath.Join(dir, "nowhere", "state.db"), nil, filepath.Join(dir, "nowhere")},
		{"a directory", dir, nil, "is a directory"},
		{"a database written by a newer o365prov", newer, nil, "schema version 99 is newer"},
		{"an unsafe synchronous setting", filepath.Join(dir, "a.db"), []sqlite.Option{sqlite.WithSynchronous("OFF")}, `synchronous "OFF" is not one of FULL, NORMAL`},
		{"a negative busy timeout", filepath.Join(dir, "b.db"), []sqlite.Option{sqlite.WithBusyTimeout(-time.Second)}, "busy timeout -1s is negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := sqlite.Open(t.Context(), tc.dsn, tc.opts...)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Open = %v, want it to say %q", err, tc.want)
			}
		})
	}
}

func TestMemoryStoresArePrivateAndGoOnClose(t *testing.T) {
	a := open(t, sqlite.Memory)
	b := open(t, sqlite.Memory)
	defer b.Close()
	if a.Path() == b.Path() {
		t.Fatalf("two memory stores share %s", a.Path())
	}
	if err := a.PutSetting(t.Context(), "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Setting(t.Context(), "k"); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("the other memory store has the setting: %v", err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Dir(a.Path())); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the memory store's directory survives Close: %v", err)
	}
}

// raw opens the file behind the store's back.
func raw(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func schemaVersion(t *testing.T, path string) int64 {
	t.Helper()
	var v int64
	if err := raw(t, path).QueryRow(`SELECT max(version_id) FROM goose_db_version`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func setSchemaVersion(t *testing.T, path string, v int64) {
	t.Helper()
	if _, err := raw(t, path).Exec(`INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, 1)`, v); err != nil {
		t.Fatal(err)
	}
}

// Settings may hold keys: nobody but the owner reads the file, its WAL or
// its shared memory.
func TestTheFilesAreTheOwnersAlone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s := open(t, path)
	defer s.Close()
	if err := s.PutSetting(t.Context(), "sso.signingKey", []byte("k")); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if mode := fi.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s has mode %v, want -rw-------", filepath.Base(p), mode)
		}
	}
}
