package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/o365prov/o365prov/internal/state"
)

// Leases lets one process (of several sharing the state) run a channel at a
// time: the daemon, a `sync --once` beside it, or the nodes of a cluster.
type Leases interface {
	AcquireLease(ctx context.Context, name, holder string, ttl time.Duration, now time.Time) error
	RenewLease(ctx context.Context, name, holder string, ttl time.Duration, now time.Time) error
	ReleaseLease(ctx context.Context, name, holder string) error
	Leases(ctx context.Context) ([]state.Lease, error)
}

// ErrBusy: another process holds the channel's lease.
var ErrBusy = errors.New("channel is being run by another process")

// leaseTTL is how long a lease outlives a process that died holding it.
const leaseTTL = 2 * time.Minute

// WithLeases makes every cycle hold the channel's lease, as holder. dead,
// when set, tells a holder that is known to have died (a process of this
// machine that no longer runs): its lease is taken over at once instead of
// after it expires, so a daemon restarted after a crash resumes at once.
func WithLeases(l Leases, holder string, dead func(holder string) bool) Option {
	return func(e *Engine) { e.leases, e.holder, e.deadHolder = l, holder, dead }
}

// hold takes the channel's lease for the length of a cycle, renewing it in
// the background; release gives it back. A lost lease cancels the cycle's
// context, so a process that stalled past its lease stops writing.
func (e *Engine) hold(ctx context.Context) (context.Context, func(), error) {
	if e.leases == nil {
		return ctx, func() {}, nil
	}
	name := "channel/" + e.ch.Name
	err := e.leases.AcquireLease(ctx, name, e.holder, leaseTTL, e.clock())
	if errors.Is(err, state.ErrLeaseHeld) && e.takeOverDead(ctx, name) {
		err = e.leases.AcquireLease(ctx, name, e.holder, leaseTTL, e.clock())
	}
	if errors.Is(err, state.ErrLeaseHeld) {
		return ctx, nil, fmt.Errorf("%w: %w", ErrBusy, err)
	}
	if err != nil {
		return ctx, nil, fmt.Errorf("acquire lease of channel %s: %w", e.ch.Name, err)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(leaseTTL / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if err := e.leases.RenewLease(ctx, name, e.holder, leaseTTL, e.clock()); err != nil {
					e.log.Error("lost the channel's lease; stopping the cycle", "err", err)
					cancel(fmt.Errorf("lease of channel %s lost: %w", e.ch.Name, err))
					return
				}
			}
		}
	}()
	release := func() {
		close(done)
		cancel(nil)
		if err := e.leases.ReleaseLease(context.WithoutCancel(ctx), name, e.holder); err != nil {
			e.log.Warn("release the channel's lease", "err", err)
		}
	}
	return ctx, release, nil
}

// takeOverDead releases a lease whose holder is known dead; true if it did.
func (e *Engine) takeOverDead(ctx context.Context, name string) bool {
	if e.deadHolder == nil {
		return false
	}
	leases, err := e.leases.Leases(ctx)
	if err != nil {
		return false
	}
	for _, l := range leases {
		if l.Name == name && l.Holder != e.holder && e.deadHolder(l.Holder) {
			e.log.Warn("taking over the lease of a process that died", "holder", l.Holder)
			return e.leases.ReleaseLease(ctx, name, l.Holder) == nil
		}
	}
	return false
}
