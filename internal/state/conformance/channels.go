package conformance

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/o365prov/o365prov/internal/state"
)

func channelTests() []test {
	return []test{
		{"an unknown channel reads as its zero state with its name", func(t *testing.T, s state.Store) {
			c, err := s.Channel(t.Context(), "staff")
			must(t, err)
			if c.Name != "staff" || c.Watermark != nil || !c.LastCycle.IsZero() || !c.LastFullSync.IsZero() {
				t.Errorf("Channel = %+v, want the zero state named staff", c)
			}
		}},
		{"a channel's state reads back as put", func(t *testing.T, s state.Store) {
			want := state.ChannelState{Name: "staff", Watermark: []byte{0, 1, 0xff, 'u', 's', 'n'}, LastCycle: at(2 * time.Minute), LastFullSync: at(0)}
			must(t, s.PutChannel(t.Context(), want))
			wantChannel(t, s, want)
		}},
		{"a put replaces the whole channel state", func(t *testing.T, s state.Store) {
			must(t, s.PutChannel(t.Context(), state.ChannelState{Name: "staff", Watermark: []byte("1"), LastCycle: at(0), LastFullSync: at(0)}))
			want := state.ChannelState{Name: "staff", Watermark: []byte("2"), LastCycle: at(2 * time.Minute)}
			must(t, s.PutChannel(t.Context(), want))
			wantChannel(t, s, want)
		}},
		{"channels are independent", func(t *testing.T, s state.Store) {
			must(t, s.PutChannel(t.Context(), state.ChannelState{Name: "staff", Watermark: []byte("1")}))
			must(t, s.PutChannel(t.Context(), state.ChannelState{Name: "students", Watermark: []byte("2")}))
			wantChannel(t, s, state.ChannelState{Name: "staff", Watermark: []byte("1")})
		}},
		{"a channel without a name is rejected", func(t *testing.T, s state.Store) {
			if err := s.PutChannel(t.Context(), state.ChannelState{Watermark: []byte("1")}); !errors.Is(err, state.ErrInvalid) {
				t.Errorf("PutChannel = %v, want ErrInvalid", err)
			}
		}},
		{"a reset clears the watermark and last full sync and keeps the rest", func(t *testing.T, s state.Store) {
			fillChannel(t, s, "staff")
			must(t, s.ResetChannel(t.Context(), "staff", false))
			wantChannel(t, s, state.ChannelState{Name: "staff", LastCycle: at(0)})
			if n, _ := s.CountObjects(t.Context(), "staff", state.KindUser); n != 1 {
				t.Errorf("%d users after a reset, want 1", n)
			}
			if m := members(t, s, "staff", "g1"); len(m) != 1 {
				t.Errorf("members after a reset: %q, want one", m)
			}
			if ps, _ := s.Plans(t.Context(), "staff"); len(ps) != 1 {
				t.Errorf("%d plans after a reset, want 1", len(ps))
			}
		}},
		{"a reset of everything forgets the channel's objects, memberships and plans but not its history", func(t *testing.T, s state.Store) {
			fillChannel(t, s, "staff")
			fillChannel(t, s, "students")
			must(t, s.ResetChannel(t.Context(), "staff", true))
			wantChannel(t, s, state.ChannelState{Name: "staff", LastCycle: at(0)})
			for _, k := range []state.Kind{state.KindUser, state.KindGroup} {
				if n, _ := s.CountObjects(t.Context(), "staff", k); n != 0 {
					t.Errorf("%d %ss after a full reset, want 0", n, k)
				}
			}
			if m := members(t, s, "staff", "g1"); len(m) != 0 {
				t.Errorf("members after a full reset: %q", m)
			}
			if ps, _ := s.Plans(t.Context(), "staff"); len(ps) != 0 {
				t.Errorf("%d plans after a full reset", len(ps))
			}
			if cs, _ := s.Cycles(t.Context(), "staff", 0); len(cs) != 1 {
				t.Errorf("%d cycles after a full reset, want 1", len(cs))
			}
			if es, _ := s.QueryAudit(t.Context(), state.AuditQuery{Channel: "staff"}); len(es) != 1 {
				t.Errorf("%d audit entries after a full reset, want 1", len(es))
			}
			if ls, _ := s.Leases(t.Context()); len(ls) != 2 {
				t.Errorf("%d leases after a full reset, want 2", len(ls))
			}
			// The other channel is untouched.
			wantChannel(t, s, state.ChannelState{Name: "students", Watermark: []byte("usn:42"), LastCycle: at(0), LastFullSync: at(0)})
			if n, _ := s.CountObjects(t.Context(), "students", state.KindUser); n != 1 {
				t.Errorf("%d users of the other channel, want 1", n)
			}
			if m := members(t, s, "students", "g1"); len(m) != 1 {
				t.Errorf("members of the other channel: %q, want one", m)
			}
		}},
		{"resetting an unknown channel is not an error", func(t *testing.T, s state.Store) {
			must(t, s.ResetChannel(t.Context(), "nobody", true))
			must(t, s.ResetChannel(t.Context(), "nobody", false))
		}},
	}
}

// fillChannel gives a channel a state, a user in a group, a plan, a cycle,
// an audit entry and a lease.
func fillChannel(t *testing.T, s state.Store, channel string) {
	t.Helper()
	ctx := t.Context()
	must(t, s.PutChannel(ctx, state.ChannelState{Name: channel, Watermark: []byte("usn:42"), LastCycle: at(0), LastFullSync: at(0)}))
	u, g := user("u1"), group("g1")
	u.Channel, g.Channel = channel, channel
	must(t, s.PutObjects(ctx, []state.Object{u, g}))
	must(t, s.AddMembers(ctx, channel, "g1", []string{"u1"}))
	must(t, s.PutPlan(ctx, plan(channel+"-p1", channel, at(0))))
	_, err := s.StartCycle(ctx, state.Cycle{Channel: channel, Kind: state.CycleFull, Started: at(0)})
	must(t, err)
	must(t, s.Audit(ctx, state.AuditEntry{Time: at(0), Channel: channel, Operation: "create", Result: "ok"}))
	_, err = s.AcquireLease(ctx, channel, "node-a", 2*time.Minute)
	must(t, err)
}

func wantChannel(t *testing.T, s state.Store, want state.ChannelState) {
	t.Helper()
	got, err := s.Channel(t.Context(), want.Name)
	must(t, err)
	if got.Name != want.Name || !bytes.Equal(got.Watermark, want.Watermark) ||
		!sameTime(got.LastCycle, want.LastCycle) || !sameTime(got.LastFullSync, want.LastFullSync) {
		t.Errorf("Channel:\n got %+v\nwant %+v", got, want)
	}
}
