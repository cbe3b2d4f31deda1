package conformance

import (
	"context"
	"errors"
	"testing"

	"github.com/o365prov/o365prov/internal/state"
)

// write is one kind of store write a fenced cycle makes.
type write struct {
	name string
	do   func(ctx context.Context, s state.Store) error
}

// prepared is what the writes below expect to find: a user, a group with
// the user as member, a held plan and a running cycle, made unfenced.
func prepare(t *testing.T, s state.Store) int64 {
	t.Helper()
	ctx := t.Context()
	must(t, s.PutObjects(ctx, []state.Object{user("u1"), group("g1")}))
	must(t, s.AddMembers(ctx, "staff", "g1", []string{"u1"}))
	must(t, s.PutPlan(ctx, plan("p1", "staff", at(0))))
	id, err := s.StartCycle(ctx, state.Cycle{Channel: "staff", Kind: state.CycleFull, Started: at(0)})
	must(t, err)
	return id
}

// writes are every write of the Store a channel's cycle makes.
func writes(cycle int64) []write {
	return []write{
		{"PutChannel", func(ctx context.Context, s state.Store) error {
			return s.PutChannel(ctx, state.ChannelState{Name: "staff", Watermark: []byte("usn:43")})
		}},
		{"PutObject", func(ctx context.Context, s state.Store) error { return s.PutObject(ctx, user("u2")) }},
		{"PutObjects", func(ctx context.Context, s state.Store) error {
			return s.PutObjects(ctx, []state.Object{user("u3"), user("u4")})
		}},
		{"DeleteObject", func(ctx context.Context, s state.Store) error {
			return s.DeleteObject(ctx, "staff", state.KindUser, "u1")
		}},
		{"AddMembers", func(ctx context.Context, s state.Store) error {
			return s.AddMembers(ctx, "staff", "g1", []string{"u9"})
		}},
		{"RemoveMembers", func(ctx context.Context, s state.Store) error {
			return s.RemoveMembers(ctx, "staff", "g1", []string{"u1"})
		}},
		{"StartCycle", func(ctx context.Context, s state.Store) error {
			_, err := s.StartCycle(ctx, state.Cycle{Channel: "staff", Kind: state.CycleIncremental, Started: at(1)})
			return err
		}},
		{"FinishCycle", func(ctx context.Context, s state.Store) error {
			return s.FinishCycle(ctx, state.Cycle{ID: cycle, Channel: "staff", Finished: at(2), Result: state.CycleOK})
		}},
		{"PutPlan", func(ctx context.Context, s state.Store) error { return s.PutPlan(ctx, plan("p2", "staff", at(0))) }},
		{"SetPlanStatus", func(ctx context.Context, s state.Store) error {
			return s.SetPlanStatus(ctx, "p1", state.PlanHeld, state.PlanSuperseded, "o365prov", at(1))
		}},
		{"Audit", func(ctx context.Context, s state.Store) error {
			return s.Audit(ctx, state.AuditEntry{Time: at(0), Channel: "staff", Operation: "create", Result: "ok"})
		}},
		{"PutSetting", func(ctx context.Context, s state.Store) error { return s.PutSetting(ctx, "k", []byte("v")) }},
	}
}

// unchanged fails unless the store holds exactly what prepare made.
func unchanged(t *testing.T, s state.Store, cycle int64) {
	t.Helper()
	ctx := t.Context()
	if got := guids(objects(t, s, "staff", state.KindUser)); !sameStrings(got, []string{"u1"}) {
		t.Errorf("users = %v, want only u1", got)
	}
	if got := members(t, s, "staff", "g1"); !sameStrings(got, []string{"u1"}) {
		t.Errorf("members of g1 = %v, want only u1", got)
	}
	cs, err := s.Channel(ctx, "staff")
	must(t, err)
	if len(cs.Watermark) != 0 {
		t.Errorf("watermark = %q, want none", cs.Watermark)
	}
	cycles, err := s.Cycles(ctx, "staff", 10)
	must(t, err)
	if len(cycles) != 1 || cycles[0].ID != cycle || cycles[0].Result != state.CycleRunning {
		t.Errorf("cycles = %+v, want only cycle %d, running", cycles, cycle)
	}
	plans, err := s.Plans(ctx, "staff")
	must(t, err)
	if len(plans) != 1 || plans[0].Status != state.PlanHeld {
		t.Errorf("plans = %+v, want only p1, held", plans)
	}
	audit, err := s.QueryAudit(ctx, state.AuditQuery{Channel: "staff"})
	must(t, err)
	if len(audit) != 0 {
		t.Errorf("audit = %+v, want none", audit)
	}
	if _, err := s.Setting(ctx, "k"); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("Setting = %v, want ErrNotFound", err)
	}
}

func fenceTests() []test {
	return []test{
		{"every write fenced by the holder's epoch is made", func(t *testing.T, s state.Store) {
			cycle := prepare(t, s)
			l := acquire(t, s, "channel/staff", "node-a", ttl)
			ctx := state.WithFence(t.Context(), state.Fence{Lease: l.Name, Holder: "node-a", Epoch: l.Epoch})
			for _, w := range writes(cycle) {
				if err := w.do(ctx, s); err != nil {
					t.Errorf("%s fenced by the holder = %v", w.name, err)
				}
			}
		}},
		{"no write fenced by an epoch another node took over is made", func(t *testing.T, s state.Store) {
			cycle := prepare(t, s)
			l := acquire(t, s, "channel/staff", "node-a", short)
			ctx := state.WithFence(t.Context(), state.Fence{Lease: l.Name, Holder: "node-a", Epoch: l.Epoch})
			lapse(t, s, l.Name)
			acquire(t, s, l.Name, "node-b", ttl)
			for _, w := range writes(cycle) {
				if err := w.do(ctx, s); !errors.Is(err, state.ErrLeaseLost) || !errors.Is(err, state.ErrLeaseHeld) {
					t.Errorf("%s fenced by a lease taken over = %v, want ErrLeaseLost and ErrLeaseHeld", w.name, err)
				}
			}
			unchanged(t, s, cycle)
		}},
		{"no write fenced by a lapsed lease is made, even if no one took it", func(t *testing.T, s state.Store) {
			cycle := prepare(t, s)
			l := acquire(t, s, "channel/staff", "node-a", short)
			ctx := state.WithFence(t.Context(), state.Fence{Lease: l.Name, Holder: "node-a", Epoch: l.Epoch})
			lapse(t, s, l.Name)
			for _, w := range writes(cycle) {
				if err := w.do(ctx, s); !errors.Is(err, state.ErrLeaseLost) {
					t.Errorf("%s fenced by a lapsed lease = %v, want ErrLeaseLost", w.name, err)
				}
			}
			unchanged(t, s, cycle)
		}},
		{"no write fenced by an earlier grant to the same node is made", func(t *testing.T, s state.Store) {
			cycle := prepare(t, s)
			old := acquire(t, s, "channel/staff", "node-a", ttl)
			acquire(t, s, "channel/staff", "node-a", ttl)
			ctx := state.WithFence(t.Context(), state.Fence{Lease: old.Name, Holder: "node-a", Epoch: old.Epoch})
			for _, w := range writes(cycle) {
				if err := w.do(ctx, s); !errors.Is(err, state.ErrLeaseLost) {
					t.Errorf("%s fenced by an old epoch = %v, want ErrLeaseLost", w.name, err)
				}
			}
			unchanged(t, s, cycle)
		}},
		{"lease calls themselves are never fenced", func(t *testing.T, s state.Store) {
			ctx := state.WithFence(t.Context(), state.Fence{Lease: "channel/staff", Holder: "node-a", Epoch: 7})
			l, err := s.AcquireLease(ctx, "channel/staff", "node-a", ttl)
			must(t, err)
			_, err = s.RenewLease(ctx, l.Name, "node-a", l.Epoch, ttl)
			must(t, err)
			must(t, s.HandOverLease(ctx, l.Name, state.HandoverAny))
			must(t, s.ReleaseLease(ctx, l.Name, "node-a"))
			must(t, s.Heartbeat(ctx, state.Node{Name: "node-a"}))
			must(t, s.RemoveNode(ctx, "node-a"))
		}},
	}
}
