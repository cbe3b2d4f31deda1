package conformance

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/o365prov/o365prov/internal/state"
)

// itemTests check state.ItemStore, which the SQL stores implement beside
// state.Store; a store without it skips them.
func itemTests() []test {
	items := func(t *testing.T, s state.Store) state.ItemStore {
		t.Helper()
		is, ok := s.(state.ItemStore)
		if !ok {
			t.Skip("this store keeps no items")
		}
		return is
	}
	return []test{
		{"an item reads back until it expires", func(t *testing.T, s state.Store) {
			is := items(t, s)
			must(t, is.PutItem(t.Context(), "session:a", []byte("v1"), at(time.Hour)))
			got, err := is.Item(t.Context(), "session:a", at(59*time.Minute))
			must(t, err)
			if !bytes.Equal(got, []byte("v1")) {
				t.Errorf("Item = %q", got)
			}
			if _, err := is.Item(t.Context(), "session:a", at(time.Hour)); !errors.Is(err, state.ErrNotFound) {
				t.Errorf("expired Item = %v, want ErrNotFound", err)
			}
			must(t, is.DeleteItem(t.Context(), "session:a"))
			must(t, is.DeleteItem(t.Context(), "session:a"))
			if _, err := is.Item(t.Context(), "session:a", at(0)); !errors.Is(err, state.ErrNotFound) {
				t.Errorf("deleted Item = %v, want ErrNotFound", err)
			}
		}},
		{"an item is added once until it expires", func(t *testing.T, s state.Store) {
			is := items(t, s)
			for i, want := range []struct {
				now time.Duration
				ok  bool
			}{{0, true}, {time.Minute, false}, {10 * time.Minute, true}} {
				ok, err := is.AddItem(t.Context(), "request:_r1", nil, at(want.now+10*time.Minute), at(want.now))
				must(t, err)
				if ok != want.ok {
					t.Errorf("AddItem #%d = %v, want %v", i, ok, want.ok)
				}
			}
		}},
		{"a counter counts within its window and restarts after it", func(t *testing.T, s state.Store) {
			is := items(t, s)
			for i := 1; i <= 3; i++ {
				n, err := is.Increment(t.Context(), "fail:user:alice", at(15*time.Minute+time.Duration(i)*time.Minute), at(time.Duration(i)*time.Minute))
				must(t, err)
				if n != i {
					t.Errorf("Increment #%d = %d", i, n)
				}
			}
			if n, err := is.Count(t.Context(), "fail:user:alice", at(14*time.Minute)); err != nil || n != 3 {
				t.Errorf("Count = %d, %v; want 3", n, err)
			}
			// The window runs from the first failure (15m), not the last.
			if n, err := is.Count(t.Context(), "fail:user:alice", at(16*time.Minute)); err != nil || n != 0 {
				t.Errorf("Count after the window = %d, %v; want 0", n, err)
			}
			if n, err := is.Increment(t.Context(), "fail:user:alice", at(40*time.Minute), at(20*time.Minute)); err != nil || n != 1 {
				t.Errorf("Increment after the window = %d, %v; want 1", n, err)
			}
		}},
		{"expired items are pruned", func(t *testing.T, s state.Store) {
			is := items(t, s)
			must(t, is.PutItem(t.Context(), "flow:old", []byte("x"), at(time.Minute)))
			must(t, is.PutItem(t.Context(), "flow:new", []byte("y"), at(time.Hour)))
			n, err := is.PruneItems(t.Context(), at(2*time.Minute))
			must(t, err)
			if n != 1 {
				t.Errorf("PruneItems = %d, want 1", n)
			}
			if _, err := is.Item(t.Context(), "flow:new", at(2*time.Minute)); err != nil {
				t.Errorf("a live item was pruned: %v", err)
			}
		}},
	}
}
