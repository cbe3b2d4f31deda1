package conformance

import (
	"bytes"
	"errors"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/o365prov/o365prov/internal/state"
)

// plan is a held plan.
func plan(id, channel string, created time.Time) state.Plan {
	return state.Plan{
		ID:      id,
		Channel: channel,
		Created: created,
		Status:  state.PlanHeld,
		Reason:  "would delete 812 users (threshold 500 or 10%)",
		Summary: map[string]int{"delete": 812, "update": 3},
		Body:    []byte(`{"operations":[{"op":"delete","guid":"u1"}]}`),
	}
}

func wantPlan(t *testing.T, got, want state.Plan) {
	t.Helper()
	if got.ID != want.ID || got.Channel != want.Channel || !got.Created.Equal(want.Created) ||
		got.Status != want.Status || got.Reason != want.Reason || !maps.Equal(got.Summary, want.Summary) ||
		!bytes.Equal(got.Body, want.Body) || !got.DecidedAt.Equal(want.DecidedAt) || got.DecidedBy != want.DecidedBy {
		t.Errorf("plan:\n got %+v\nwant %+v", got, want)
	}
}

func planTests() []test {
	return []test{
		{"a plan reads back as put", func(t *testing.T, s state.Store) {
			want := plan("p1", "staff", at(0))
			must(t, s.PutPlan(t.Context(), want))
			got, err := s.Plan(t.Context(), "p1")
			must(t, err)
			wantPlan(t, got, want)
		}},
		{"an unknown plan is not found", func(t *testing.T, s state.Store) {
			if _, err := s.Plan(t.Context(), "p1"); !errors.Is(err, state.ErrNotFound) {
				t.Errorf("Plan = %v, want ErrNotFound", err)
			}
		}},
		{"a plan ID cannot be put twice", func(t *testing.T, s state.Store) {
			want := plan("p1", "staff", at(0))
			must(t, s.PutPlan(t.Context(), want))
			again := plan("p1", "staff", at(time.Minute))
			again.Status = state.PlanApproved
			if err := s.PutPlan(t.Context(), again); !errors.Is(err, state.ErrConflict) {
				t.Errorf("PutPlan of a taken ID = %v, want ErrConflict", err)
			}
			got, err := s.Plan(t.Context(), "p1")
			must(t, err)
			wantPlan(t, got, want)
		}},
		{"plans are listed newest first, by channel and status", func(t *testing.T, s state.Store) {
			ctx := t.Context()
			must(t, s.PutPlan(ctx, plan("a", "staff", at(0))))
			must(t, s.PutPlan(ctx, plan("b", "staff", at(2*time.Minute))))
			must(t, s.PutPlan(ctx, plan("c", "students", at(time.Minute))))
			must(t, s.PutPlan(ctx, plan("d", "staff", at(time.Minute))))
			must(t, s.SetPlanStatus(ctx, "d", state.PlanHeld, state.PlanApplied, "engine", at(time.Minute)))
			for _, tc := range []struct {
				channel  string
				statuses []state.PlanStatus
				want     []string
			}{
				{"staff", nil, []string{"b", "d", "a"}},
				{"", nil, []string{"b", "d", "c", "a"}},
				{"staff", []state.PlanStatus{state.PlanHeld}, []string{"b", "a"}},
				{"", []state.PlanStatus{state.PlanHeld, state.PlanApplied}, []string{"b", "d", "c", "a"}},
				{"", []state.PlanStatus{state.PlanApproved}, nil},
				{"nobody", nil, nil},
			} {
				ps, err := s.Plans(ctx, tc.channel, tc.statuses...)
				must(t, err)
				var got []string
				for _, p := range ps {
					got = append(got, p.ID)
				}
				if !sameStrings(got, tc.want) {
					t.Errorf("Plans(%q, %v) = %q, want %q", tc.channel, tc.statuses, got, tc.want)
				}
			}
		}},
		{"setting a plan's status is a compare-and-set", func(t *testing.T, s state.Store) {
			ctx := t.Context()
			want := plan("p1", "staff", at(0))
			must(t, s.PutPlan(ctx, want))
			must(t, s.SetPlanStatus(ctx, "p1", state.PlanHeld, state.PlanApproved, "alice", at(time.Hour)))
			err := s.SetPlanStatus(ctx, "p1", state.PlanHeld, state.PlanRejected, "bob", at(2*time.Hour))
			if !errors.Is(err, state.ErrConflict) {
				t.Errorf("SetPlanStatus from a status it has left = %v, want ErrConflict", err)
			}
			want.Status, want.DecidedBy, want.DecidedAt = state.PlanApproved, "alice", at(time.Hour)
			got, err := s.Plan(ctx, "p1")
			must(t, err)
			wantPlan(t, got, want)
			if err := s.SetPlanStatus(ctx, "p9", state.PlanHeld, state.PlanApproved, "alice", at(0)); !errors.Is(err, state.ErrNotFound) {
				t.Errorf("SetPlanStatus of an unknown plan = %v, want ErrNotFound", err)
			}
		}},
		{"of racing decisions on a held plan exactly one wins", func(t *testing.T, s state.Store) {
			must(t, s.PutPlan(t.Context(), plan("p1", "staff", at(0))))
			var wg sync.WaitGroup
			errs := make([]error, 8)
			for i := range errs {
				to := state.PlanApproved
				if i%2 == 1 {
					to = state.PlanRejected
				}
				wg.Go(func() { errs[i] = s.SetPlanStatus(t.Context(), "p1", state.PlanHeld, to, "op", at(0)) })
			}
			wg.Wait()
			exactlyOneWins(t, "SetPlanStatus", errs, state.ErrConflict)
		}},
		{"invalid plans and statuses are rejected", func(t *testing.T, s state.Store) {
			ctx := t.Context()
			for name, change := range map[string]func(*state.Plan){
				"no ID":             func(p *state.Plan) { p.ID = "" },
				"no channel":        func(p *state.Plan) { p.Channel = "" },
				"an unknown status": func(p *state.Plan) { p.Status = "pondering" },
				"no creation time":  func(p *state.Plan) { p.Created = time.Time{} },
			} {
				p := plan("p1", "staff", at(0))
				change(&p)
				if err := s.PutPlan(ctx, p); !errors.Is(err, state.ErrInvalid) {
					t.Errorf("PutPlan with %s = %v, want ErrInvalid", name, err)
				}
			}
			must(t, s.PutPlan(ctx, plan("p1", "staff", at(0))))
			if err := s.SetPlanStatus(ctx, "p1", state.PlanHeld, "done", "op", at(0)); !errors.Is(err, state.ErrInvalid) {
				t.Errorf("SetPlanStatus to an unknown status = %v, want ErrInvalid", err)
			}
			if _, err := s.Plans(ctx, "staff", "done"); !errors.Is(err, state.ErrInvalid) {
				t.Errorf("Plans with an unknown status = %v, want ErrInvalid", err)
			}
		}},
	}
}
