package conformance

import (
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/o365prov/o365prov/internal/state"
)

func cycleTests() []test {
	return []test{
		{"a started cycle is running and its ID grows", func(t *testing.T, s state.Store) {
			id1, err := s.StartCycle(t.Context(), state.Cycle{Channel: "staff", Kind: state.CycleFull, Started: at(0)})
			must(t, err)
			id2, err := s.StartCycle(t.Context(), state.Cycle{Channel: "students", Kind: state.CycleIncremental, Started: at(0)})
			must(t, err)
			if id1 <= 0 || id2 <= id1 {
				t.Errorf("IDs %d then %d, want positive and growing", id1, id2)
			}
			cs, err := s.Cycles(t.Context(), "staff", 0)
			must(t, err)
			if len(cs) != 1 || cs[0].ID != id1 || cs[0].Result != state.CycleRunning || !cs[0].Finished.IsZero() ||
				cs[0].Stats == nil || !cs[0].Started.Equal(at(0)) {
				t.Errorf("Cycles = %+v, want one running cycle %d with empty stats", cs, id1)
			}
		}},
		{"a finished cycle records its end, result, stats, plan and error", func(t *testing.T, s state.Store) {
			c := state.Cycle{Channel: "staff", Kind: state.CycleApproved, Started: at(0)}
			id, err := s.StartCycle(t.Context(), c)
			must(t, err)
			c.ID, c.Finished, c.Result = id, at(90*time.Second), state.CyclePartial
			c.Stats, c.PlanID, c.Error = map[string]int{"create.ok": 3, "update.failed": 1}, "p1", "1 object failed"
			must(t, s.FinishCycle(t.Context(), c))
			cs, err := s.Cycles(t.Context(), "staff", 1)
			must(t, err)
			if len(cs) != 1 {
				t.Fatalf("%d cycles, want 1", len(cs))
			}
			got := cs[0]
			if got.ID != id || got.Channel != c.Channel || got.Kind != c.Kind || !got.Started.Equal(c.Started) ||
				!got.Finished.Equal(c.Finished) || got.Result != c.Result || !maps.Equal(got.Stats, c.Stats) ||
				got.PlanID != c.PlanID || got.Error != c.Error {
				t.Errorf("cycle:\n got %+v\nwant %+v", got, c)
			}
		}},
		{"every cycle kind and result is accepted", func(t *testing.T, s state.Store) {
			kinds := []string{state.CycleIncremental, state.CycleFull, state.CyclePush, state.CycleDryRun, state.CycleApproved}
			results := []string{state.CycleOK, state.CyclePartial, state.CycleHeld, state.CycleAborted, state.CycleFailed, state.CycleRunning}
			for i, kind := range kinds {
				id, err := s.StartCycle(t.Context(), state.Cycle{Channel: "staff", Kind: kind, Started: at(0)})
				must(t, err)
				for _, r := range results[i:] {
					must(t, s.FinishCycle(t.Context(), state.Cycle{ID: id, Finished: at(time.Second), Result: r}))
				}
			}
		}},
		{"finishing an unknown cycle is not found", func(t *testing.T, s state.Store) {
			err := s.FinishCycle(t.Context(), state.Cycle{ID: 42, Result: state.CycleOK, Finished: at(0)})
			if !errors.Is(err, state.ErrNotFound) {
				t.Errorf("FinishCycle = %v, want ErrNotFound", err)
			}
		}},
		{"cycles are listed newest first, per channel or for all, up to a limit", func(t *testing.T, s state.Store) {
			var staff, all []int64
			for i, ch := range []string{"staff", "students", "staff", "staff", "students"} {
				id, err := s.StartCycle(t.Context(), state.Cycle{Channel: ch, Kind: state.CycleIncremental, Started: at(time.Duration(i) * time.Minute)})
				must(t, err)
				all = append([]int64{id}, all...)
				if ch == "staff" {
					staff = append([]int64{id}, staff...)
				}
			}
			for _, tc := range []struct {
				channel string
				limit   int
				want    []int64
			}{{"staff", 0, staff}, {"staff", 2, staff[:2]}, {"", 0, all}, {"", 3, all[:3]}, {"nobody", 0, nil}} {
				cs, err := s.Cycles(t.Context(), tc.channel, tc.limit)
				must(t, err)
				var got []int64
				for _, c := range cs {
					got = append(got, c.ID)
				}
				if !slices.Equal(got, tc.want) {
					t.Errorf("Cycles(%q, %d) = %v, want %v", tc.channel, tc.limit, got, tc.want)
				}
			}
		}},
		{"invalid cycles are rejected", func(t *testing.T, s state.Store) {
			ok := state.Cycle{Channel: "staff", Kind: state.CycleFull, Started: at(0)}
			for name, c := range map[string]state.Cycle{
				"no channel":        {Kind: ok.Kind, Started: ok.Started},
				"an unknown kind":   {Channel: ok.Channel, Kind: "weekly", Started: ok.Started},
				"no start time":     {Channel: ok.Channel, Kind: ok.Kind},
				"an unknown result": {Channel: ok.Channel, Kind: ok.Kind, Started: ok.Started, Result: "meh"},
			} {
				if _, err := s.StartCycle(t.Context(), c); !errors.Is(err, state.ErrInvalid) {
					t.Errorf("StartCycle with %s = %v, want ErrInvalid", name, err)
				}
			}
			id, err := s.StartCycle(t.Context(), ok)
			must(t, err)
			if err := s.FinishCycle(t.Context(), state.Cycle{ID: id, Result: "done"}); !errors.Is(err, state.ErrInvalid) {
				t.Errorf("FinishCycle with an unknown result = %v, want ErrInvalid", err)
			}
			if err := s.FinishCycle(t.Context(), state.Cycle{Result: state.CycleOK}); !errors.Is(err, state.ErrInvalid) {
				t.Errorf("FinishCycle without an ID = %v, want ErrInvalid", err)
			}
		}},
	}
}
