package sso

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Lockout limits password guessing. The limits are o365prov's own and are
// checked before the directory is asked, so an attacker who knows a user
// name can make o365prov refuse that user for Window, but cannot make the
// directory lock the account (keep UserFailures below the directory's own
// lockout threshold).
type Lockout struct {
	UserFailures    int           // failures per login name within Window (default 5)
	AddressFailures int           // failures per client address within Window (default 30)
	Window          time.Duration // from the first failure (default 15m)
}

func (l Lockout) withDefaults() Lockout {
	if l.UserFailures <= 0 {
		l.UserFailures = 5
	}
	if l.AddressFailures <= 0 {
		l.AddressFailures = 30
	}
	if l.Window <= 0 {
		l.Window = 15 * time.Minute
	}
	return l
}

// errLockedOut says a limit is reached; the directory was not asked.
var errLockedOut = errors.New("too many failed sign-ins")

type limiter struct {
	store Store
	l     Lockout
}

func userKey(login string) string { return "fail:user:" + strings.ToLower(strings.TrimSpace(login)) }
func addrKey(addr string) string  { return "fail:addr:" + addr }

// check reports errLockedOut when the user or the address has used up its
// failures.
func (r limiter) check(ctx context.Context, login, addr string, now time.Time) error {
	for _, k := range []struct {
		key   string
		limit int
	}{{userKey(login), r.l.UserFailures}, {addrKey(addr), r.l.AddressFailures}} {
		n, err := r.store.Count(ctx, k.key, now)
		if err != nil {
			return fmt.Errorf("read failure count: %w", err)
		}
		if n >= k.limit {
			return errLockedOut
		}
	}
	return nil
}

// fail counts one failure against the user and the address. The window
// runs from the first failure, so a slow attacker cannot keep it open
// forever, nor stretch it.
func (r limiter) fail(ctx context.Context, login, addr string, now time.Time) error {
	for _, key := range []string{userKey(login), addrKey(addr)} {
		if _, err := r.store.Increment(ctx, key, now.Add(r.l.Window), now); err != nil {
			return fmt.Errorf("count failed sign-in: %w", err)
		}
	}
	return nil
}

// succeed clears the user's failures (not the address's).
func (r limiter) succeed(ctx context.Context, login string) error {
	return r.store.DeleteItem(ctx, userKey(login))
}
