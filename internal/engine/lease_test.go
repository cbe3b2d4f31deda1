package engine

import (
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/o365prov/o365prov/internal/config"
	"github.com/o365prov/o365prov/internal/state"
	"github.com/o365prov/o365prov/internal/state/sqlite"
)

func openStore(t *testing.T) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), sqlite.Memory)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestHeldLease(t *testing.T) {
	t.Run("a process that went a ttl without renewing doubts its lease until a renewal finds it still its own", func(t *testing.T) {
		s := openStore(t)
		l, err := s.AcquireLease(t.Context(), "channel/staff", "node-a", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		h := newHeld(s, l, time.Minute, time.Now().Add(-2*time.Minute)) // as if stalled since
		if err := h.sure(); !errors.Is(err, state.ErrLeaseLost) {
			t.Fatalf("sure() after a stall = %v, want ErrLeaseLost", err)
		}
		if err := h.check(t.Context()); !errors.Is(err, state.ErrLeaseLost) {
			t.Fatalf("check() after a stall = %v, want ErrLeaseLost without asking the database", err)
		}
		if err := h.renew(t.Context()); err != nil {
			t.Fatalf("renew() of a lease the database still grants = %v", err)
		}
		if err := h.check(t.Context()); err != nil {
			t.Errorf("check() after the renewal = %v, want nil", err)
		}
	})
	t.Run("a lease another node took is lost for good", func(t *testing.T) {
		s := openStore(t)
		l, err := s.AcquireLease(t.Context(), "channel/staff", "node-a", 100*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		h := newHeld(s, l, time.Minute, time.Now()) // its own clock still sure
		time.Sleep(150 * time.Millisecond)
		if _, err := s.AcquireLease(t.Context(), "channel/staff", "node-b", time.Minute); err != nil {
			t.Fatal(err)
		}
		if err := h.check(t.Context()); !errors.Is(err, state.ErrLeaseLost) || !errors.Is(err, state.ErrLeaseHeld) {
			t.Fatalf("check() = %v, want ErrLeaseLost and ErrLeaseHeld", err)
		}
		if err := h.renew(t.Context()); !errors.Is(err, state.ErrLeaseLost) {
			t.Errorf("renew() = %v, want ErrLeaseLost", err)
		}
		if err := h.sure(); !errors.Is(err, state.ErrLeaseLost) {
			t.Errorf("sure() after the loss = %v, want ErrLeaseLost", err)
		}
	})
}

// channelEngine is an engine with only what leases need.
func channelEngine(name, holder string, s *sqlite.Store) *Engine {
	e := &Engine{ch: config.Channel{Name: name}, log: slog.New(slog.DiscardHandler)}
	WithLeases(s, holder, nil)(e)
	return e
}

func TestClusterShare(t *testing.T) {
	const grace = 3 * time.Second
	setup := func(t *testing.T, others ...string) (*sqlite.Store, *Cluster) {
		s := openStore(t)
		c := &Cluster{Leases: s, Nodes: s, Node: state.Node{Name: "node-a", Serves: []string{ServesChannels}}, Grace: grace, Log: slog.New(slog.DiscardHandler)}
		for _, n := range append([]string{"node-a"}, others...) {
			if err := s.Heartbeat(t.Context(), state.Node{Name: n, Serves: []string{ServesChannels}}); err != nil {
				t.Fatal(err)
			}
		}
		return s, c
	}
	take := func(t *testing.T, s *sqlite.Store, channel, holder string) {
		if _, err := s.AcquireLease(t.Context(), "channel/"+channel, holder, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("a node alone takes every channel", func(t *testing.T) {
		s, c := setup(t)
		take(t, s, "one", "node-a")
		take(t, s, "two", "node-a")
		if !c.ourTurn(t.Context(), channelEngine("three", "node-a", s), 3) {
			t.Error("a lone node holding 2 of 3 channels does not take the third")
		}
	})
	t.Run("a node at its share leaves a channel to a live node under it", func(t *testing.T) {
		s, c := setup(t, "node-b", "node-c")
		take(t, s, "one", "node-a")
		if c.ourTurn(t.Context(), channelEngine("two", "node-a", s), 3) {
			t.Error("node-a holds its share (1 of 3 channels, 3 nodes) and still takes another")
		}
		if !c.ourTurn(t.Context(), channelEngine("one", "node-a", s), 3) {
			t.Error("node-a does not keep a lease it holds")
		}
	})
	t.Run("a node under its share takes a free channel", func(t *testing.T) {
		s, c := setup(t, "node-b")
		take(t, s, "one", "node-b")
		if !c.ourTurn(t.Context(), channelEngine("two", "node-a", s), 2) {
			t.Error("node-a holds nothing and does not take a free channel")
		}
	})
	t.Run("another node's lease is not taken", func(t *testing.T) {
		s, c := setup(t, "node-b")
		take(t, s, "one", "node-b")
		if c.ourTurn(t.Context(), channelEngine("one", "node-a", s), 2) {
			t.Error("node-a takes a channel node-b holds")
		}
	})
	t.Run("a channel handed over to another live node is left to it", func(t *testing.T) {
		s, c := setup(t, "node-c")
		take(t, s, "one", "node-b")
		if err := s.HandOverLease(t.Context(), "channel/one", "node-c"); err != nil {
			t.Fatal(err)
		}
		if err := s.ReleaseLease(t.Context(), "channel/one", "node-b"); err != nil {
			t.Fatal(err)
		}
		if c.ourTurn(t.Context(), channelEngine("one", "node-a", s), 2) {
			t.Error("node-a takes a channel reserved for node-c")
		}
	})
	t.Run("a node over its share lets the last of its channels go while another is under", func(t *testing.T) {
		s, c := setup(t, "node-b")
		take(t, s, "one", "node-a")
		take(t, s, "two", "node-a")
		for _, tc := range []struct {
			channel string
			want    bool
		}{{"one", false}, {"two", true}} {
			e := channelEngine(tc.channel, "node-a", s)
			l := state.Lease{Name: e.leaseName(), Holder: "node-a", Epoch: 1}
			if got, _ := c.shouldLetGo(t.Context(), e, newHeld(s, l, time.Minute, time.Now()), 2); got != tc.want {
				t.Errorf("let %s go = %v, want %v", tc.channel, got, tc.want)
			}
		}
	})
}
