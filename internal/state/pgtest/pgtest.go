// Package pgtest gives tests a PostgreSQL database of their own on the
// machine's server (or $O365PROV_TEST_POSTGRES), dropped when the test ends.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

// ServerURL is the PostgreSQL server tests use: $O365PROV_TEST_POSTGRES (a
// postgres:// URL whose user may create databases), or the local server.
func ServerURL() string {
	if u := os.Getenv("O365PROV_TEST_POSTGRES"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable&connect_timeout=5"
}

// Database creates a database for the test (and what it runs), drops it at
// the end, and returns its URL. Without a server the test skips, except
// under CI=true, where it fails.
func Database(t testing.TB) string {
	t.Helper()
	admin, err := pgx.Connect(t.Context(), ServerURL())
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL: %v", err)
		}
		t.Skipf("no PostgreSQL server (set O365PROV_TEST_POSTGRES): %v", err)
	}
	defer admin.Close(context.Background())
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "o365prov_test_" + hex.EncodeToString(b)
	// A natural-language collation, so that ordering tests prove the
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
		conn, err := pgx.Connect(ctx, ServerURL())
		if err != nil {
			t.Errorf("drop test database: %v", err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database: %v", err)
		}
	})
	u, err := url.Parse(ServerURL())
	if err != nil {
		t.Fatalf("O365PROV_TEST_POSTGRES is not a URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}
