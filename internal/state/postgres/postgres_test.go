package postgres_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/o365prov/o365prov/internal/state"
	"github.com/o365prov/o365prov/internal/state/conformance"
	"github.com/o365prov/o365prov/internal/state/pgtest"
	"github.com/o365prov/o365prov/internal/state/postgres"
)

func testDatabase(t testing.TB) string { return pgtest.Database(t) }

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
		DELETE FROM cycles; DELETE FROM plans; DELETE FROM audit; DELETE FROM settings; DELETE FROM leases; DELETE FROM sso_items; DELETE FROM nodes`)
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

// TestAFencedWriteInFlightHoldsOffAGrantButNotARenewal holds, as a fenced
// write does for the length of its transaction, a key share lock on a lease
// row: the holder's renewal goes through, while a grant to another node
// waits for the write to commit, so no write of the old holder commits after
// the new one's grant.
func TestAFencedWriteInFlightHoldsOffAGrantButNotARenewal(t *testing.T) {
	db := testDatabase(t)
	s := emptyStore(t, db)
	defer s.Close()
	l, err := s.AcquireLease(t.Context(), "channel/staff", "node-a", 400*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	write, err := conn.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer write.Rollback(context.Background())
	if _, err := write.Exec(t.Context(), `SELECT epoch FROM leases WHERE name = 'channel/staff' FOR KEY SHARE`); err != nil {
		t.Fatal(err)
	}

	renewCtx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	if _, err := s.RenewLease(renewCtx, l.Name, "node-a", l.Epoch, 400*time.Millisecond); err != nil {
		t.Fatalf("a renewal waited for the fenced write in flight: %v", err)
	}
	time.Sleep(600 * time.Millisecond) // the lease lapses
	granted := make(chan error, 1)
	go func() {
		_, err := s.AcquireLease(context.Background(), l.Name, "node-b", time.Minute)
		granted <- err
	}()
	select {
	case err := <-granted:
		t.Fatalf("another node was granted the lease (%v) while the old holder's write was in flight", err)
	case <-time.After(500 * time.Millisecond):
	}
	if err := write.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-granted:
		if err != nil {
			t.Fatalf("grant after the write committed: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the grant still waits after the write committed")
	}
}
