package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/o365prov/o365prov/internal/state"
	"github.com/o365prov/o365prov/internal/state/conformance"
)

// go test -run '^$' -bench . -benchmem ./internal/state/sqlite/
func BenchmarkStore(b *testing.B) {
	conformance.RunBenchmarks(b, func(b *testing.B) state.Store {
		return open(b, filepath.Join(b.TempDir(), "state.db"))
	})
}
