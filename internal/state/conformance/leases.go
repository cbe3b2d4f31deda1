package conformance

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/o365prov/o365prov/internal/state"
)

const ttl = 30 * time.Second

func wantHeld(t *testing.T, err error, what string) {
	t.Helper()
	if !errors.Is(err, state.ErrLeaseHeld) {
		t.Errorf("%s = %v, want ErrLeaseHeld", what, err)
	}
}

func wantLease(t *testing.T, s state.Store, name, holder string, expires time.Time) {
	t.Helper()
	ls, err := s.Leases(t.Context())
	must(t, err)
	for _, l := range ls {
		if l.Name == name {
			if l.Holder != holder || !l.Expires.Equal(expires) {
				t.Errorf("lease %s: %s until %v, want %s until %v", name, l.Holder, l.Expires, holder, expires)
			}
			return
		}
	}
	t.Errorf("lease %s not found in %+v", name, ls)
}

func leaseTests() []test {
	return []test{
		{"a free lease is acquired", func(t *testing.T, s state.Store) {
			must(t, s.AcquireLease(t.Context(), "staff", "node-a", ttl, at(0)))
			wantLease(t, s, "staff", "node-a", at(ttl))
		}},
		{"another node cannot acquire a lease until it expires, then it can", func(t *testing.T, s state.Store) {
			must(t, s.AcquireLease(t.Context(), "staff", "node-a", ttl, at(0)))
			wantHeld(t, s.AcquireLease(t.Context(), "staff", "node-b", ttl, at(0)), "AcquireLease at once")
			wantHeld(t, s.AcquireLease(t.Context(), "staff", "node-b", ttl, at(ttl-time.Microsecond)), "AcquireLease just before expiry")
			must(t, s.AcquireLease(t.Context(), "staff", "node-b", ttl, at(ttl)))
			wantLease(t, s, "staff", "node-b", at(2*ttl))
		}},
		{"acquiring one's own lease again extends it", func(t *testing.T, s state.Store) {
			must(t, s.AcquireLease(t.Context(), "staff", "node-a", ttl, at(0)))
			must(t, s.AcquireLease(t.Context(), "staff", "node-a", ttl, at(10*time.Second)))
			wantLease(t, s, "staff", "node-a", at(10*time.Second+ttl))
		}},
		{"renewing extends one's own lease past its first expiry", func(t *testing.T, s state.Store) {
			must(t, s.AcquireLease(t.Context(), "staff", "node-a", ttl, at(0)))
			must(t, s.RenewLease(t.Context(), "staff", "node-a", ttl, at(20*time.Second)))
			wantLease(t, s, "staff", "node-a", at(20*time.Second+ttl))
			wantHeld(t, s.AcquireLease(t.Context(), "staff", "node-b", ttl, at(ttl+time.Second)), "AcquireLease after the first expiry")
		}},
		{"an expired lease cannot be renewed even if no one took it", func(t *testing.T, s state.Store) {
			must(t, s.AcquireLease(t.Context(), "staff", "node-a", ttl, at(0)))
			err := s.RenewLease(t.Context(), "staff", "node-a", ttl, at(ttl))
			if !errors.Is(err, state.ErrLeaseLost) || errors.Is(err, state.ErrLeaseHeld) {
				t.Errorf("RenewLease at expiry = %v, want ErrLeaseLost and not ErrLeaseHeld", err)
			}
		}},
		{"a lease another node took cannot be renewed", func(t *testing.T, s state.Store) {
			must(t, s.AcquireLease(t.Context(), "staff", "node-a", ttl, at(0)))
			must(t, s.AcquireLease(t.Context(), "staff", "node-b", ttl, at(ttl+time.Second)))
			err := s.RenewLease(t.Context(), "staff", "node-a", ttl, at(ttl+2*time.Second))
			if !errors.Is(err, state.ErrLeaseLost) || !errors.Is(err, state.ErrLeaseHeld) {
				t.Errorf("RenewLease of a stolen lease = %v, want ErrLeaseLost and ErrLeaseHeld", err)
			}
			wantLease(t, s, "staff", "node-b", at(2*ttl+time.Second))
		}},
		{"a lease never taken cannot be renewed", func(t *testing.T, s state.Store) {
			if err := s.RenewLease(t.Context(), "staff", "node-a", ttl, at(0)); !errors.Is(err, state.ErrLeaseLost) {
				t.Errorf("RenewLease = %v, want ErrLeaseLost", err)
			}
		}},
		{"a released lease is free at once", func(t *testing.T, s state.Store) {
			must(t, s.AcquireLease(t.Context(), "staff", "node-a", ttl, at(0)))
			must(t, s.ReleaseLease(t.Context(), "staff", "node-a"))
			if err := s.RenewLease(t.Context(), "staff", "node-a", ttl, at(time.Second)); !errors.Is(err, state.ErrLeaseLost) {
				t.Errorf("RenewLease after release = %v, want ErrLeaseLost", err)
			}
			must(t, s.AcquireLease(t.Context(), "staff", "node-b", ttl, at(time.Second)))
			wantLease(t, s, "staff", "node-b", at(time.Second+ttl))
		}},
		{"releasing a lease one does not hold leaves it alone", func(t *testing.T, s state.Store) {
			must(t, s.AcquireLease(t.Context(), "staff", "node-a", ttl, at(0)))
			must(t, s.ReleaseLease(t.Context(), "staff", "node-b"))
			must(t, s.ReleaseLease(t.Context(), "students", "node-a"))
			wantHeld(t, s.AcquireLease(t.Context(), "staff", "node-b", ttl, at(time.Second)), "AcquireLease")
		}},
		{"leases are independent by name and listed by name", func(t *testing.T, s state.Store) {
			must(t, s.AcquireLease(t.Context(), "students", "node-b", ttl, at(0)))
			must(t, s.AcquireLease(t.Context(), "staff", "node-a", 2*ttl, at(0)))
			ls, err := s.Leases(t.Context())
			must(t, err)
			if len(ls) != 2 || ls[0].Name != "staff" || ls[1].Name != "students" {
				t.Fatalf("Leases = %+v, want staff then students", ls)
			}
			wantLease(t, s, "staff", "node-a", at(2*ttl))
			wantLease(t, s, "students", "node-b", at(ttl))
		}},
		{"invalid leases are rejected", func(t *testing.T, s state.Store) {
			for _, tc := range []struct {
				name, lease, holder string
				ttl                 time.Duration
			}{{"no name", "", "node-a", ttl}, {"no holder", "staff", "", ttl}, {"a zero ttl", "staff", "node-a", 0}} {
				if err := s.AcquireLease(t.Context(), tc.lease, tc.holder, tc.ttl, at(0)); !errors.Is(err, state.ErrInvalid) {
					t.Errorf("AcquireLease with %s = %v, want ErrInvalid", tc.name, err)
				}
				if err := s.RenewLease(t.Context(), tc.lease, tc.holder, tc.ttl, at(0)); !errors.Is(err, state.ErrInvalid) {
					t.Errorf("RenewLease with %s = %v, want ErrInvalid", tc.name, err)
				}
			}
		}},
		{"of nodes racing for a free lease exactly one wins", func(t *testing.T, s state.Store) {
			var wg sync.WaitGroup
			errs := make([]error, 8)
			for i := range errs {
				wg.Go(func() { errs[i] = s.AcquireLease(t.Context(), "staff", fmt.Sprint("node-", i), ttl, at(0)) })
			}
			wg.Wait()
			exactlyOneWins(t, "AcquireLease", errs, state.ErrLeaseHeld)
		}},
	}
}
