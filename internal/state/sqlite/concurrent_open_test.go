package sqlite_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/o365prov/o365prov/internal/state/sqlite"
)

// Two o365prov processes started at once against a state file that does not
// exist yet both create its schema; one of them used to fail halfway
// ("table channels already exists").
func TestProcessesOpeningANewFileAtOnceAllSucceed(t *testing.T) {
	for round := range 8 {
		path := filepath.Join(t.TempDir(), "state.db")
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, err := sqlite.Open(context.Background(), path)
				if err == nil {
					err = s.Close()
				}
				errs[i] = err
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d, opener %d: %v", round, i, err)
			}
		}
	}
}
