package state

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// NodeRetention is how long a node that stopped heartbeating stays listed.
const NodeRetention = 24 * time.Hour

// Fence is what a holder's writes carry: they are made only while Holder
// holds the lease Lease with Epoch.
type Fence struct {
	Lease  string
	Holder string
	Epoch  int64
}

type fenceKey struct{}

// WithFence returns a context whose store writes are fenced by f.
func WithFence(ctx context.Context, f Fence) context.Context {
	return context.WithValue(ctx, fenceKey{}, f)
}

// FenceFrom returns the fence ctx carries, if any.
func FenceFrom(ctx context.Context) (Fence, bool) {
	f, ok := ctx.Value(fenceKey{}).(Fence)
	return f, ok
}

// LostLease explains, for stores, why holder could not renew or write: l is the lease
// as found (lookupErr is the error of finding it, ErrNotFound when there is
// none). The error matches ErrLeaseLost, and ErrLeaseHeld too when another
// holder has the lease.
func LostLease(l Lease, holder string, lookupErr error) error {
	switch {
	case errors.Is(lookupErr, ErrNotFound):
		return fmt.Errorf("%w: released or never taken", ErrLeaseLost)
	case lookupErr != nil:
		return lookupErr
	case l.Holder == "":
		return fmt.Errorf("%w: released", ErrLeaseLost)
	case l.Holder != holder && l.Held():
		return fmt.Errorf("%w: %w: %s holds it (epoch %d) until %s", ErrLeaseLost, ErrLeaseHeld, l.Holder, l.Epoch, l.Expires.Format(time.RFC3339Nano))
	case l.Holder != holder:
		return fmt.Errorf("%w: %s took it since (epoch %d)", ErrLeaseLost, l.Holder, l.Epoch)
	case l.Remaining <= 0:
		return fmt.Errorf("%w: expired at %s", ErrLeaseLost, l.Expires.Format(time.RFC3339Nano))
	}
	return fmt.Errorf("%w: granted again since (epoch %d)", ErrLeaseLost, l.Epoch)
}

// WithoutFence returns a context whose store writes are not fenced: the
// lease calls themselves, which decide who holds what.
func WithoutFence(ctx context.Context) context.Context {
	return context.WithValue(ctx, fenceKey{}, nil)
}
