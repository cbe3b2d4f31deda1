package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/o365prov/o365prov/internal/state"
	"github.com/o365prov/o365prov/internal/state/conformance"
	"github.com/o365prov/o365prov/internal/state/postgres"
)

// serverURL is the PostgreSQL server tests use: $O365PROV_TEST_POSTGRES (a
// postgres:// URL whose user may create databases), or the local server.
func serverURL() string {
	if u := os.Getenv("O365PROV_TEST_POSTGRES"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable&connect_timeout=5"
}

// testDatabase creates a database of its own for the test (and what it
// runs), drops it at the end, and returns its URL. Without a server the test
// skips, except under CI=true.
func testDatabase(t testing.TB) string {
	t.Helper()
	admin, err := pgx.Connect(t.Context(), serverURL())
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL: %v", err)
		}
		t.Skipf("no PostgreSQL server (set O365PROV_TEST_POSTGRES): %v", err)
	}
	defer admin.Close(context.Background())
	b := make([]byte, 6)
	rand.Read(b)
	name := "o365prov_state_test_" + hex.EncodeToString(b)
	// A natural-language collation, so that the ordering tests prove the
	// schema's COLLATE "C" (a server whose default is C would hide it).
	_, err = admin.Exec(t.Context(), "CREATE DATABASE "+name+" TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'")
	if err != nil {
		t.Logf("no ICU collation (%v): the database gets the server's default", err)
		if _, err := admin.Exec(t.Context(), "CREATE DATABASE "+name); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, serverURL())
		if err != nil {
			t.Errorf("drop test database: %v", err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database: %v", err)
		}
	})
	u, err := url.Parse(serverURL())
	if err != nil {
		t.Fatalf("O365PROV_TEST_POSTGRES is not a URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// emptyStore opens the store in db and empties it, for one test of a suite
// that runs its tests one after the other.
func emptyStore(t testing.TB, db string) state.Store {
	t.Helper()
	s, err := postgres.Open(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	// DELETE, not TRUNCATE: the suite leaves a few rows, and TRUNCATE
	// replaces (and syncs) every table's and index's files.
	_, err = conn.Exec(t.Context(), `DELETE FROM channels; DELETE FROM objects; DELETE FROM members;
		DELETE FROM cycles; DELETE FROM plans; DELETE FROM audit; DELETE FROM settings; DELETE FROM leases`)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	db := testDatabase(t)
	conformance.RunTests(t, func(t *testing.T) state.Store { return emptyStore(t, db) })
}

func BenchmarkStore(b *testing.B) {
	db := testDatabase(b)
	conformance.RunBenchmarks(b, func(b *testing.B) state.Store { return emptyStore(b, db) })
}

func TestNodesStartingTogetherMigrateOnce(t *testing.T) {
	db := testDatabase(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			s, err := postgres.Open(t.Context(), db)
			if err == nil {
				s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

func TestOpenNeverShowsThePassword(t *testing.T) {
	tests := []struct {
		name string
		dsn  string
	}{
		{"a string that does not parse", "postgres://o365prov:s3cretPW@127.0.0.1:notaport/state"},
		{"a server that does not answer", "postgres://o365prov:s3cretPW@127.0.0.1:1/state?connect_timeout=1"},
		{"key=value form", "host=127.0.0.1 port=1 user=o365prov password=s3cretPW connect_timeout=1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := postgres.Open(t.Context(), tc.dsn)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if strings.Contains(err.Error(), "s3cretPW") {
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}
}
