package conformance

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/o365prov/o365prov/internal/state"
)

// ttl is a lease that does not lapse during a test; short one that does,
// soon.
const (
	ttl   = 30 * time.Second
	short = 150 * time.Millisecond
)

func acquire(t *testing.T, s state.Store, name, holder string, ttl time.Duration) state.Lease {
	t.Helper()
	l, err := s.AcquireLease(t.Context(), name, holder, ttl)
	must(t, err)
	if l.Name != name || l.Holder != holder || l.Remaining <= 0 || l.Remaining > ttl {
		t.Fatalf("AcquireLease = %+v, want %s held by %s for at most %v", l, name, holder, ttl)
	}
	return l
}

func wantHeld(t *testing.T, err error, what string) {
	t.Helper()
	if !errors.Is(err, state.ErrLeaseHeld) {
		t.Errorf("%s = %v, want ErrLeaseHeld", what, err)
	}
}

func wantLost(t *testing.T, err error, held bool, what string) {
	t.Helper()
	if !errors.Is(err, state.ErrLeaseLost) || errors.Is(err, state.ErrLeaseHeld) != held {
		t.Errorf("%s = %v, want ErrLeaseLost (and ErrLeaseHeld: %v)", what, err, held)
	}
}

// lease is the named lease as Leases lists it.
func lease(t *testing.T, s state.Store, name string) state.Lease {
	t.Helper()
	ls, err := s.Leases(t.Context())
	must(t, err)
	for _, l := range ls {
		if l.Name == name {
			return l
		}
	}
	t.Fatalf("lease %s not found in %+v", name, ls)
	return state.Lease{}
}

// lapse waits until the database's clock has passed the lease's expiry.
func lapse(t *testing.T, s state.Store, name string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for lease(t, s, name).Remaining > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("lease %s has not lapsed after 10 s", name)
		}
		time.Sleep(short / 3)
	}
}

func leaseTests() []test {
	return []test{
		{"a free lease is granted for the ttl on the database's clock, with epoch 1", func(t *testing.T, s state.Store) {
			l := acquire(t, s, "staff", "node-a", ttl)
			if l.Epoch != 1 || l.Remaining < ttl-5*time.Second {
				t.Errorf("granted %+v, want epoch 1 and about %v left", l, ttl)
			}
			if got := lease(t, s, "staff"); !got.Held() || got.Holder != "node-a" || got.Epoch != 1 || !got.Expires.Equal(l.Expires) {
				t.Errorf("Leases shows %+v, want %+v", got, l)
			}
		}},
		{"another node cannot acquire a lease until it lapses, then it can with a higher epoch", func(t *testing.T, s state.Store) {
			acquire(t, s, "staff", "node-a", short)
			_, err := s.AcquireLease(t.Context(), "staff", "node-b", ttl)
			wantHeld(t, err, "AcquireLease at once")
			lapse(t, s, "staff")
			if l := acquire(t, s, "staff", "node-b", ttl); l.Epoch != 2 {
				t.Errorf("epoch after takeover = %d, want 2", l.Epoch)
			}
		}},
		{"every grant raises the epoch, acquiring one's own lease again included", func(t *testing.T, s state.Store) {
			first := acquire(t, s, "staff", "node-a", ttl)
			again := acquire(t, s, "staff", "node-a", 2*ttl)
			if again.Epoch != first.Epoch+1 || again.Remaining <= ttl {
				t.Errorf("acquired again: %+v after %+v, want the next epoch and the new ttl", again, first)
			}
		}},
		{"renewing keeps the epoch and extends the lease from the database's now", func(t *testing.T, s state.Store) {
			l := acquire(t, s, "staff", "node-a", ttl)
			r, err := s.RenewLease(t.Context(), "staff", "node-a", l.Epoch, 2*ttl)
			must(t, err)
			if r.Epoch != l.Epoch || r.Remaining <= ttl || !r.Expires.After(l.Expires) {
				t.Errorf("renewed %+v after %+v, want the same epoch and about %v left", r, l, 2*ttl)
			}
		}},
		{"a renewed lease outlives its first ttl", func(t *testing.T, s state.Store) {
			l := acquire(t, s, "staff", "node-a", 4*short)
			time.Sleep(2 * short)
			_, err := s.RenewLease(t.Context(), "staff", "node-a", l.Epoch, ttl)
			must(t, err)
			time.Sleep(3 * short)
			_, err = s.AcquireLease(t.Context(), "staff", "node-b", ttl)
			wantHeld(t, err, "AcquireLease after the first ttl")
		}},
		{"a lapsed lease cannot be renewed even if no one took it", func(t *testing.T, s state.Store) {
			l := acquire(t, s, "staff", "node-a", short)
			lapse(t, s, "staff")
			_, err := s.RenewLease(t.Context(), "staff", "node-a", l.Epoch, ttl)
			wantLost(t, err, false, "RenewLease after the lease lapsed")
		}},
		{"a lease another node took cannot be renewed", func(t *testing.T, s state.Store) {
			l := acquire(t, s, "staff", "node-a", short)
			lapse(t, s, "staff")
			acquire(t, s, "staff", "node-b", ttl)
			_, err := s.RenewLease(t.Context(), "staff", "node-a", l.Epoch, ttl)
			wantLost(t, err, true, "RenewLease of a lease taken over")
			if got := lease(t, s, "staff"); got.Holder != "node-b" || got.Epoch != 2 {
				t.Errorf("lease after a refused renewal: %+v, want node-b's, epoch 2", got)
			}
		}},
		{"a renewal with an epoch of an earlier grant is refused", func(t *testing.T, s state.Store) {
			old := acquire(t, s, "staff", "node-a", ttl)
			acquire(t, s, "staff", "node-a", ttl)
			_, err := s.RenewLease(t.Context(), "staff", "node-a", old.Epoch, ttl)
			wantLost(t, err, false, "RenewLease with an old epoch")
		}},
		{"a lease never taken cannot be renewed", func(t *testing.T, s state.Store) {
			_, err := s.RenewLease(t.Context(), "staff", "node-a", 1, ttl)
			wantLost(t, err, false, "RenewLease")
		}},
		{"a released lease is free at once and its next grant has a higher epoch", func(t *testing.T, s state.Store) {
			l := acquire(t, s, "staff", "node-a", ttl)
			must(t, s.ReleaseLease(t.Context(), "staff", "node-a"))
			if got := lease(t, s, "staff"); got.Held() || got.Holder != "" {
				t.Errorf("released lease listed as %+v, want no holder", got)
			}
			_, err := s.RenewLease(t.Context(), "staff", "node-a", l.Epoch, ttl)
			wantLost(t, err, false, "RenewLease after release")
			if b := acquire(t, s, "staff", "node-b", ttl); b.Epoch != l.Epoch+1 {
				t.Errorf("epoch after release = %d, want %d", b.Epoch, l.Epoch+1)
			}
		}},
		{"releasing a lease one does not hold leaves it alone", func(t *testing.T, s state.Store) {
			acquire(t, s, "staff", "node-a", ttl)
			must(t, s.ReleaseLease(t.Context(), "staff", "node-b"))
			must(t, s.ReleaseLease(t.Context(), "students", "node-a"))
			_, err := s.AcquireLease(t.Context(), "staff", "node-b", ttl)
			wantHeld(t, err, "AcquireLease")
		}},
		{"the holder of the epoch passes the check, and no one else", func(t *testing.T, s state.Store) {
			l := acquire(t, s, "staff", "node-a", short)
			must(t, s.CheckLease(t.Context(), "staff", "node-a", l.Epoch))
			wantLost(t, s.CheckLease(t.Context(), "staff", "node-a", l.Epoch+1), false, "CheckLease of another epoch")
			wantLost(t, s.CheckLease(t.Context(), "staff", "node-b", l.Epoch), true, "CheckLease of another node")
			wantLost(t, s.CheckLease(t.Context(), "students", "node-a", 1), false, "CheckLease of a lease never taken")
			lapse(t, s, "staff")
			wantLost(t, s.CheckLease(t.Context(), "staff", "node-a", l.Epoch), false, "CheckLease after the lease lapsed")
		}},
		{"a handover request reaches the holder's renewal and stays after release as a reservation", func(t *testing.T, s state.Store) {
			l := acquire(t, s, "staff", "node-a", ttl)
			must(t, s.HandOverLease(t.Context(), "staff", "node-c"))
			r, err := s.RenewLease(t.Context(), "staff", "node-a", l.Epoch, ttl)
			must(t, err)
			if r.HandoverTo != "node-c" {
				t.Errorf("renewal shows handover to %q, want node-c", r.HandoverTo)
			}
			must(t, s.ReleaseLease(t.Context(), "staff", "node-a"))
			if got := lease(t, s, "staff"); got.HandoverTo != "node-c" || got.Held() {
				t.Errorf("released lease: %+v, want free and reserved for node-c", got)
			}
			if c := acquire(t, s, "staff", "node-c", ttl); c.HandoverTo != "" {
				t.Errorf("the new grant still asks for a handover: %+v", c)
			}
		}},
		{"a lease no one holds cannot be handed over", func(t *testing.T, s state.Store) {
			if err := s.HandOverLease(t.Context(), "staff", state.HandoverAny); !errors.Is(err, state.ErrNotFound) {
				t.Errorf("HandOverLease of a lease never taken = %v, want ErrNotFound", err)
			}
			acquire(t, s, "staff", "node-a", ttl)
			must(t, s.ReleaseLease(t.Context(), "staff", "node-a"))
			if err := s.HandOverLease(t.Context(), "staff", state.HandoverAny); !errors.Is(err, state.ErrNotFound) {
				t.Errorf("HandOverLease of a released lease = %v, want ErrNotFound", err)
			}
		}},
		{"leases are independent by name and listed by name", func(t *testing.T, s state.Store) {
			acquire(t, s, "students", "node-b", ttl)
			acquire(t, s, "staff", "node-a", 2*ttl)
			ls, err := s.Leases(t.Context())
			must(t, err)
			if len(ls) != 2 || ls[0].Name != "staff" || ls[1].Name != "students" ||
				ls[0].Holder != "node-a" || ls[1].Holder != "node-b" || ls[0].Epoch != 1 || ls[1].Epoch != 1 {
				t.Fatalf("Leases = %+v, want staff (node-a) then students (node-b), each at epoch 1", ls)
			}
		}},
		{"invalid leases are rejected", func(t *testing.T, s state.Store) {
			for _, tc := range []struct {
				name, lease, holder string
				ttl                 time.Duration
			}{{"no name", "", "node-a", ttl}, {"no holder", "staff", "", ttl}, {"a zero ttl", "staff", "node-a", 0}} {
				if _, err := s.AcquireLease(t.Context(), tc.lease, tc.holder, tc.ttl); !errors.Is(err, state.ErrInvalid) {
					t.Errorf("AcquireLease with %s = %v, want ErrInvalid", tc.name, err)
				}
				if _, err := s.RenewLease(t.Context(), tc.lease, tc.holder, 1, tc.ttl); !errors.Is(err, state.ErrInvalid) {
					t.Errorf("RenewLease with %s = %v, want ErrInvalid", tc.name, err)
				}
			}
		}},
		{"of nodes racing for a free lease exactly one wins", func(t *testing.T, s state.Store) {
			var wg sync.WaitGroup
			errs := make([]error, 8)
			for i := range errs {
				wg.Go(func() { _, errs[i] = s.AcquireLease(t.Context(), "staff", fmt.Sprint("node-", i), ttl) })
			}
			wg.Wait()
			exactlyOneWins(t, "AcquireLease", errs, state.ErrLeaseHeld)
		}},
	}
}
