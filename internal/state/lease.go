package state

import (
	"errors"
	"fmt"
	"time"
)

// LostLease explains, for stores, why holder could not renew: l is the lease
// as found (lookupErr is the error of finding it, ErrNotFound when there is
// none). The error matches ErrLeaseLost, and ErrLeaseHeld too when another
// holder has the lease.
func LostLease(l Lease, holder string, lookupErr error) error {
	switch {
	case errors.Is(lookupErr, ErrNotFound):
		return fmt.Errorf("%w: released or never taken", ErrLeaseLost)
	case lookupErr != nil:
		return lookupErr
	case l.Holder != holder:
		return fmt.Errorf("%w: %w: %s holds it until %s", ErrLeaseLost, ErrLeaseHeld, l.Holder, l.Expires.Format(time.RFC3339Nano))
	}
	return fmt.Errorf("%w: expired at %s", ErrLeaseLost, l.Expires.Format(time.RFC3339Nano))
}
