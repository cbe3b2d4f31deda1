package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/o365prov/o365prov/internal/state"
)

// Leases lets one process (of several sharing the state) run a channel at a
// time: the daemon, a `sync --once` beside it, or the nodes of a cluster.
// The store decides on its own clock, and every grant carries a new epoch
// that fences the holder's writes (see state.Store).
type Leases interface {
	AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (state.Lease, error)
	RenewLease(ctx context.Context, name, holder string, epoch int64, ttl time.Duration) (state.Lease, error)
	CheckLease(ctx context.Context, name, holder string, epoch int64) error
	ReleaseLease(ctx context.Context, name, holder string) error
	Leases(ctx context.Context) ([]state.Lease, error)
}

// ErrBusy: another process holds the channel's lease.
var ErrBusy = errors.New("channel is being run by another process")

// DefaultFailoverGrace is how soon another node takes a channel over after
// its holder dies, unless configured.
const DefaultFailoverGrace = 15 * time.Second

// leaseTiming derives a lease's periods from the failover grace g. A holder
// that dies just after renewing leaves a lease that lapses ttl later, and a
// standby looks every poll: it takes over within ttl+poll = 5/6 g.
type leaseTiming struct {
	ttl   time.Duration // how long a grant or renewal lasts
	renew time.Duration // how often the holder renews
	poll  time.Duration // how often a standby looks
}

func timingFor(grace time.Duration) leaseTiming {
	ttl := grace * 2 / 3
	return leaseTiming{ttl: ttl, renew: ttl / 4, poll: grace / 6}
}

// leasing is an engine's lease settings and the lease it holds between
// cycles when a Cluster runs it.
type leasing struct {
	leases Leases
	holder string
	dead   func(holder string) bool
	grace  time.Duration
	// leading is the lease the cluster's leadership loop holds for this
	// channel; nil when none does (cycles then take the lease themselves).
	leading atomic.Pointer[held]
	// guard attaches to a context a check its target asks just before each
	// write leaves (see WithSendGuard).
	guard func(ctx context.Context, check func() error) context.Context
}

// WithSendGuard lets the target check, just before each request leaves —
// after any wait in its own queue — that the cycle's lease is still this
// process's: guard returns ctx carrying check, which the target calls
// (graph.WithGuard). Without it the executor's check before each operation
// is the last.
func WithSendGuard(guard func(ctx context.Context, check func() error) context.Context) Option {
	return func(e *Engine) { e.lease.guard = guard }
}

// WithLeases makes every cycle hold the channel's lease, as holder. dead,
// when set, tells a holder that is known to have died (a process of this
// machine that no longer runs): its lease is taken over at once instead of
// after it lapses, so a daemon restarted after a crash resumes at once.
func WithLeases(l Leases, holder string, dead func(holder string) bool) Option {
	return func(e *Engine) { e.lease.leases, e.lease.holder, e.lease.dead = l, holder, dead }
}

// WithFailoverGrace sets how soon a channel whose holder died is taken
// over (default DefaultFailoverGrace); the lease's ttl is two thirds of it.
func WithFailoverGrace(d time.Duration) Option {
	return func(e *Engine) { e.lease.grace = d }
}

func (e *Engine) leaseName() string { return "channel/" + e.ch.Name }

func (e *Engine) timing() leaseTiming {
	if e.lease.grace <= 0 {
		return timingFor(DefaultFailoverGrace)
	}
	return timingFor(e.lease.grace)
}

// held is a lease this process holds. Its holder knows, on its own
// monotonic clock, a time until which the lease is certainly still its own
// (the database granted ttl from a moment after the request was sent), so a
// process that stalled past it — SIGSTOP, a long pause — finds out before
// it writes anything, without asking the database.
type held struct {
	leases Leases
	fence  state.Fence
	ttl    time.Duration

	mu        sync.Mutex
	sureUntil time.Time // the lease is ours until then (monotonic)
	lost      error     // set once the lease is known lost
	handover  string    // an operator's handover request, from the last renewal
}

func newHeld(l Leases, lease state.Lease, ttl time.Duration, asked time.Time) *held {
	h := &held{leases: l, fence: state.Fence{Lease: lease.Name, Holder: lease.Holder, Epoch: lease.Epoch}, ttl: ttl}
	h.renewed(lease, asked)
	return h
}

// renewed records a grant or renewal asked for at asked. A tenth of the
// ttl is kept back for clocks that run at slightly different rates.
func (h *held) renewed(l state.Lease, asked time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sureUntil = asked.Add(h.ttl - h.ttl/10)
	h.handover = l.HandoverTo
}

func (h *held) setLost(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.lost == nil {
		h.lost = err
	}
}

// sure is nil while, on this process's own clock, the lease cannot have
// lapsed: no database round trip, so it can be asked just before a request
// leaves.
func (h *held) sure() error {
	h.mu.Lock()
	lost, sure := h.lost, h.sureUntil
	h.mu.Unlock()
	if lost != nil {
		return lost
	}
	// The wall clock's monotonic reading, not the engine's clock: this is
	// about how long this process really went without renewing. It is a
	// doubt, not a loss: a renewal that still finds the epoch ours lifts it.
	if !time.Now().Before(sure) {
		return fmt.Errorf("lease %s (epoch %d): %w: not renewed in time (the process stalled or lost the database)", h.fence.Lease, h.fence.Epoch, state.ErrLeaseLost)
	}
	return nil
}

// check is nil while the lease is still this process's with its epoch: on
// its own clock first, then by asking the database.
func (h *held) check(ctx context.Context) error {
	if err := h.sure(); err != nil {
		return err
	}
	if err := h.leases.CheckLease(ctx, h.fence.Lease, h.fence.Holder, h.fence.Epoch); err != nil {
		if errors.Is(err, state.ErrLeaseLost) {
			h.setLost(err)
		}
		return err
	}
	return nil
}

// renew extends the lease. It returns an error wrapping ErrLeaseLost when
// the lease is gone: from the database, or because this process could not
// renew it before it was no longer sure of it.
func (h *held) renew(ctx context.Context) error {
	asked := time.Now()
	l, err := h.leases.RenewLease(ctx, h.fence.Lease, h.fence.Holder, h.fence.Epoch, h.ttl)
	if err == nil {
		h.renewed(l, asked)
		return nil
	}
	if errors.Is(err, state.ErrLeaseLost) {
		h.setLost(err)
		return err
	}
	h.mu.Lock()
	sure := h.sureUntil
	h.mu.Unlock()
	if !time.Now().Before(sure) {
		err = fmt.Errorf("lease %s: %w: could not renew it in time: %w", h.fence.Lease, state.ErrLeaseLost, err)
		h.setLost(err)
	}
	return err
}

func (h *held) handoverTo() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.handover
}

type heldKey struct{}

// under returns ctx for work under h: its store writes are fenced by h's
// epoch, the executor checks h before every operation, and the target (with
// a send guard) before every request.
func (e *Engine) under(ctx context.Context, h *held) context.Context {
	ctx = context.WithValue(state.WithFence(ctx, h.fence), heldKey{}, h)
	if e.lease.guard != nil {
		ctx = e.lease.guard(ctx, h.sure)
	}
	return ctx
}

// checkLease is nil unless ctx is work under a lease that is lost.
func checkLease(ctx context.Context) error {
	h, ok := ctx.Value(heldKey{}).(*held)
	if !ok {
		return nil
	}
	return h.check(ctx)
}

// hold makes ctx a cycle's: under the lease the cluster holds for the
// channel, or else under a lease taken for the cycle and renewed in the
// background until release. A lost lease cancels the cycle's context.
func (e *Engine) hold(ctx context.Context) (context.Context, func(), error) {
	if e.lease.leases == nil {
		return ctx, func() {}, nil
	}
	if h := e.lease.leading.Load(); h != nil {
		return e.under(ctx, h), func() {}, nil
	}
	t := e.timing()
	h, err := e.acquire(ctx, t.ttl)
	if err != nil {
		return ctx, nil, err
	}
	ctx, cancel := context.WithCancelCause(e.under(ctx, h))
	done := make(chan struct{})
	go func() {
		tick := time.NewTicker(t.renew)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				if err := h.renew(ctx); errors.Is(err, state.ErrLeaseLost) {
					e.log.Error("lost the channel's lease; stopping the cycle", "err", err)
					cancel(fmt.Errorf("lease of channel %s lost: %w", e.ch.Name, err))
					return
				} else if err != nil {
					e.log.Warn("renew the channel's lease", "err", err)
				}
			}
		}
	}()
	release := func() {
		close(done)
		cancel(nil)
		if err := e.lease.leases.ReleaseLease(context.WithoutCancel(ctx), h.fence.Lease, h.fence.Holder); err != nil {
			e.log.Warn("release the channel's lease", "err", err)
		}
	}
	return ctx, release, nil
}

// acquire takes the channel's lease for ttl, at once from a holder known
// dead; ErrBusy while another holds it.
func (e *Engine) acquire(ctx context.Context, ttl time.Duration) (*held, error) {
	name := e.leaseName()
	asked := time.Now()
	l, err := e.lease.leases.AcquireLease(ctx, name, e.lease.holder, ttl)
	if errors.Is(err, state.ErrLeaseHeld) && e.takeOverDead(ctx, name) {
		asked = time.Now()
		l, err = e.lease.leases.AcquireLease(ctx, name, e.lease.holder, ttl)
	}
	if errors.Is(err, state.ErrLeaseHeld) {
		return nil, fmt.Errorf("%w: %w", ErrBusy, err)
	}
	if err != nil {
		return nil, fmt.Errorf("acquire lease of channel %s: %w", e.ch.Name, err)
	}
	return newHeld(e.lease.leases, l, ttl, asked), nil
}

// takeOverDead releases a lease whose holder is known dead; true if it did.
func (e *Engine) takeOverDead(ctx context.Context, name string) bool {
	if e.lease.dead == nil {
		return false
	}
	leases, err := e.lease.leases.Leases(ctx)
	if err != nil {
		return false
	}
	for _, l := range leases {
		if l.Name == name && l.Held() && l.Holder != e.lease.holder && e.lease.dead(l.Holder) {
			e.log.Warn("taking over the lease of a process that died", "holder", l.Holder)
			return e.lease.leases.ReleaseLease(ctx, name, l.Holder) == nil
		}
	}
	return false
}
