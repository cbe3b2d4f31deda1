package conformance

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/o365prov/o365prov/internal/state"
)

// auditLog appends a varied log and returns it as stored (IDs filled), oldest
// first.
func auditLog(t *testing.T, s state.Store) []state.AuditEntry {
	t.Helper()
	in := []state.AuditEntry{
		{Time: at(0), Channel: "staff", Cycle: 1, Kind: state.KindUser, GUID: "u1", DN: "CN=u1", Operation: "create", Result: "ok", RequestID: "r1", Detail: "created"},
		{Time: at(time.Second), Channel: "staff", Cycle: 1, Kind: state.KindUser, GUID: "u2", DN: "CN=u2", Operation: "create", Result: "failed", RequestID: "r2", Detail: "400 Request_BadRequest"},
		{Time: at(time.Minute), Channel: "students", Cycle: 2, Kind: state.KindGroup, GUID: "g1", DN: "CN=g1", Operation: "addMembers", Result: "ok"},
		{Time: at(2 * time.Minute), Channel: "staff", Cycle: 3, Kind: state.KindUser, GUID: "u1", DN: "CN=u1", Operation: "update", Result: "ok", Detail: "jobTitle"},
		{Time: at(3 * time.Minute), Channel: "staff", Cycle: 3, Kind: state.KindUser, GUID: "u2", DN: "CN=u2", Operation: "create", Result: "skipped"},
		{Time: at(4 * time.Minute), Operation: "federate", Result: "ok"},
	}
	must(t, s.Audit(t.Context(), in[:2]...))
	for _, e := range in[2:] {
		must(t, s.Audit(t.Context(), e))
	}
	all, err := s.QueryAudit(t.Context(), state.AuditQuery{})
	must(t, err)
	if len(all) != len(in) {
		t.Fatalf("%d entries, want %d", len(all), len(in))
	}
	slices.Reverse(all)
	for i, e := range all {
		want := in[i]
		want.ID = e.ID
		if !e.Time.Equal(want.Time) {
			t.Errorf("entry %d: time %v, want %v", i, e.Time, want.Time)
		}
		e.Time, want.Time = time.Time{}, time.Time{}
		if e != want {
			t.Errorf("entry %d:\n got %+v\nwant %+v", i, e, want)
		}
		if i > 0 && e.ID <= all[i-1].ID {
			t.Errorf("entry %d: ID %d after %d, want growing IDs", i, e.ID, all[i-1].ID)
		}
	}
	return all
}

func auditTests() []test {
	return []test{
		{"audit entries read back with growing IDs, newest first", func(t *testing.T, s state.Store) {
			auditLog(t, s) // checks as it goes
		}},
		{"each filter selects only matching entries", func(t *testing.T, s state.Store) {
			log := auditLog(t, s)
			id := func(i int) int64 { return log[i].ID }
			for _, tc := range []struct {
				name string
				q    state.AuditQuery
				want []int // indexes into log, newest first
			}{
				{"by channel", state.AuditQuery{Channel: "staff"}, []int{4, 3, 1, 0}},
				{"by GUID", state.AuditQuery{GUID: "u1"}, []int{3, 0}},
				{"by cycle", state.AuditQuery{Cycle: 3}, []int{4, 3}},
				{"since a time, inclusive", state.AuditQuery{Since: at(time.Minute)}, []int{5, 4, 3, 2}},
				{"by operation", state.AuditQuery{Operation: "create"}, []int{4, 1, 0}},
				{"by result", state.AuditQuery{Result: "ok"}, []int{5, 3, 2, 0}},
				{"by channel, operation and result", state.AuditQuery{Channel: "staff", Operation: "create", Result: "failed"}, []int{1}},
				{"before an ID", state.AuditQuery{BeforeID: id(3)}, []int{2, 1, 0}},
				{"up to a limit", state.AuditQuery{Channel: "staff", Limit: 2}, []int{4, 3}},
				{"matching nothing", state.AuditQuery{Channel: "nobody"}, nil},
			} {
				got, err := s.QueryAudit(t.Context(), tc.q)
				must(t, err)
				var gotIDs, wantIDs []int64
				for _, e := range got {
					gotIDs = append(gotIDs, e.ID)
				}
				for _, i := range tc.want {
					wantIDs = append(wantIDs, id(i))
				}
				if !slices.Equal(gotIDs, wantIDs) {
					t.Errorf("%s: IDs %v, want %v", tc.name, gotIDs, wantIDs)
				}
			}
		}},
		{"pages follow BeforeID without gaps or repeats", func(t *testing.T, s state.Store) {
			var in []state.AuditEntry
			for i := range 25 {
				in = append(in, state.AuditEntry{Time: at(time.Duration(i) * time.Second), Channel: "staff", GUID: fmt.Sprint(i), Operation: "update", Result: "ok"})
			}
			must(t, s.Audit(t.Context(), in...))
			var seen []string
			q := state.AuditQuery{Channel: "staff", Limit: 10}
			for page := 0; ; page++ {
				got, err := s.QueryAudit(t.Context(), q)
				must(t, err)
				if len(got) == 0 {
					break
				}
				if page > 3 {
					t.Fatal("paging does not end")
				}
				for _, e := range got {
					seen = append(seen, e.GUID)
				}
				q.BeforeID = got[len(got)-1].ID
			}
			var want []string
			for i := 24; i >= 0; i-- {
				want = append(want, fmt.Sprint(i))
			}
			if !slices.Equal(seen, want) {
				t.Errorf("pages gave %q, want %q", seen, want)
			}
		}},
		{"a zero limit returns DefaultLimit entries", func(t *testing.T, s state.Store) {
			in := make([]state.AuditEntry, state.DefaultLimit+5)
			for i := range in {
				in[i] = state.AuditEntry{Time: at(0), Channel: "staff", Operation: "update", Result: "ok"}
			}
			must(t, s.Audit(t.Context(), in...))
			got, err := s.QueryAudit(t.Context(), state.AuditQuery{})
			must(t, err)
			if len(got) != state.DefaultLimit {
				t.Errorf("%d entries, want %d", len(got), state.DefaultLimit)
			}
		}},
		{"an invalid entry rejects its whole batch", func(t *testing.T, s state.Store) {
			ok := state.AuditEntry{Time: at(0), Channel: "staff", Operation: "create", Result: "ok"}
			for name, bad := range map[string]state.AuditEntry{
				"no time":         {Channel: "staff", Operation: "create"},
				"no operation":    {Time: at(0), Channel: "staff"},
				"an unknown kind": {Time: at(0), Operation: "create", Kind: "contact"},
			} {
				if err := s.Audit(t.Context(), ok, bad); !errors.Is(err, state.ErrInvalid) {
					t.Errorf("Audit with %s = %v, want ErrInvalid", name, err)
				}
			}
			if got, _ := s.QueryAudit(t.Context(), state.AuditQuery{}); len(got) != 0 {
				t.Errorf("%d entries written", len(got))
			}
			must(t, s.Audit(t.Context()))
		}},
		{"pruning deletes old audit entries, finished cycles and decided plans only", func(t *testing.T, s state.Store) {
			ctx := t.Context()
			must(t, s.Audit(ctx,
				state.AuditEntry{Time: at(-time.Hour), Operation: "create", Result: "ok"},
				state.AuditEntry{Time: at(0), Operation: "update", Result: "ok"}))
			oldDone, err := s.StartCycle(ctx, state.Cycle{Channel: "staff", Kind: state.CycleFull, Started: at(-time.Hour)})
			must(t, err)
			must(t, s.FinishCycle(ctx, state.Cycle{ID: oldDone, Finished: at(-time.Hour), Result: state.CycleOK}))
			oldRunning, err := s.StartCycle(ctx, state.Cycle{Channel: "staff", Kind: state.CycleFull, Started: at(-time.Hour)})
			must(t, err)
			newDone, err := s.StartCycle(ctx, state.Cycle{Channel: "staff", Kind: state.CycleFull, Started: at(0)})
			must(t, err)
			must(t, s.FinishCycle(ctx, state.Cycle{ID: newDone, Finished: at(0), Result: state.CycleOK}))
			for _, p := range []state.Plan{plan("old-held", "staff", at(-time.Hour)), plan("old-applied", "staff", at(-time.Hour)), plan("new-applied", "staff", at(0))} {
				must(t, s.PutPlan(ctx, p))
			}
			must(t, s.SetPlanStatus(ctx, "old-applied", state.PlanHeld, state.PlanApplied, "engine", at(-time.Hour)))
			must(t, s.SetPlanStatus(ctx, "new-applied", state.PlanHeld, state.PlanApplied, "engine", at(0)))

			n, err := s.PruneHistory(ctx, at(-time.Minute))
			must(t, err)
			if n != 3 {
				t.Errorf("PruneHistory removed %d rows, want 3", n)
			}
			if es, _ := s.QueryAudit(ctx, state.AuditQuery{}); len(es) != 1 || es[0].Operation != "update" {
				t.Errorf("audit after pruning: %+v, want the update only", es)
			}
			cs, err := s.Cycles(ctx, "staff", 0)
			must(t, err)
			if len(cs) != 2 || cs[0].ID != newDone || cs[1].ID != oldRunning {
				t.Errorf("cycles after pruning: %+v, want %d and %d", cs, newDone, oldRunning)
			}
			ps, err := s.Plans(ctx, "")
			must(t, err)
			if len(ps) != 2 || ps[0].ID != "new-applied" || ps[1].ID != "old-held" {
				t.Errorf("plans after pruning: %+v, want new-applied and old-held", ps)
			}
		}},
	}
}
