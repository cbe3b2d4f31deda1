package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/o365prov/o365prov/internal/state"
)

// ErrStopped is returned by a cycle that stopped early because its process
// was told to stop or to hand the channel over: the operations in flight
// were finished and recorded, the others were not attempted, and the
// watermark did not move, so the next cycle, on any node, carries on.
var ErrStopped = errors.New("cycle stopped before its end")

// errNotAttempted marks an operation a stopping apply did not start.
var errNotAttempted = errors.New("not attempted: stopping")

type stopKey struct{}

// withStop makes an apply under ctx stop handing out operations once stop
// is closed.
func withStop(ctx context.Context, stop <-chan struct{}) context.Context {
	if stop == nil {
		return ctx
	}
	return context.WithValue(ctx, stopKey{}, stop)
}

// stopOf is the stop signal ctx carries; nil (never closed) when none.
func stopOf(ctx context.Context) <-chan struct{} {
	stop, _ := ctx.Value(stopKey{}).(<-chan struct{})
	return stop
}

// runHeld performs one operation unless the process is stopping, and only
// after making sure, just before the write to Graph, that this process still
// holds the channel with the epoch its cycle started under: a node that
// stalled and lost the lease writes nothing more.
func (e *Engine) runHeld(ctx context.Context, op *Op, ids *idCache, stop <-chan struct{}) opResult {
	select {
	case <-stop:
		return opResult{op: op, err: errNotAttempted}
	default:
	}
	if err := checkLease(ctx); err != nil {
		return opResult{op: op, err: fmt.Errorf("%w: %w", errNotAttempted, err)}
	}
	r := e.run(ctx, op, ids)
	if errors.Is(r.err, state.ErrLeaseLost) {
		// The target's guard refused to send it (the lease lapsed while it
		// waited in the target's queue).
		r.err = fmt.Errorf("%w: %w", errNotAttempted, r.err)
	}
	return r
}

// attempted drops the results of operations that were not started —
// the apply is stopping, or the lease is in doubt — since nothing happened
// to their objects, and returns why the first of them was not, if that was
// the lease.
func attempted(batch []opResult) ([]opResult, error) {
	out := batch[:0]
	var leaseErr error
	for _, r := range batch {
		if !errors.Is(r.err, errNotAttempted) {
			out = append(out, r)
			continue
		}
		if leaseErr == nil && errors.Is(r.err, state.ErrLeaseLost) {
			leaseErr = r.err
		}
	}
	return out, leaseErr
}

func isBusy(err error) bool { return errors.Is(err, ErrBusy) }

func isLost(err error) bool { return errors.Is(err, state.ErrLeaseLost) }
