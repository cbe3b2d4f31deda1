package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/o365prov/o365prov/internal/state"
	"github.com/o365prov/o365prov/internal/state/conformance"
	"github.com/o365prov/o365prov/internal/state/sqlite"
)

func TestConformance(t *testing.T) {
	conformance.RunTests(t, func(t *testing.T) state.Store {
		return open(t, filepath.Join(t.TempDir(), "state.db"))
	})
}

func open(t testing.TB, path string, opts ...sqlite.Option) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), path, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
