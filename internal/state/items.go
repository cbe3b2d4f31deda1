package state

import (
	"context"
	"time"
)

// ItemStore keeps small expiring items every node of a cluster shares: the
// identity provider's sessions, sign-ins in progress, answered request ids
// (replay) and failure counters (lockout). The SQL stores implement it
// beside Store. An expired item is absent. Errors name the key, never the
// value.
type ItemStore interface {
	// PutItem stores value under key until expires.
	PutItem(ctx context.Context, key string, value []byte, expires time.Time) error
	// Item returns an item unexpired at now, or ErrNotFound.
	Item(ctx context.Context, key string, now time.Time) ([]byte, error)
	// DeleteItem forgets an item; an absent one is not an error.
	DeleteItem(ctx context.Context, key string) error
	// AddItem stores an item only when key is absent or expired at now,
	// and reports whether it did.
	AddItem(ctx context.Context, key string, value []byte, expires, now time.Time) (bool, error)
	// Increment adds one to the counter key and returns the new count. An
	// absent or expired counter restarts at 1 and expires at expires; a
	// live one keeps its expiry.
	Increment(ctx context.Context, key string, expires, now time.Time) (int, error)
	// Count returns a live counter's count, 0 when absent or expired.
	Count(ctx context.Context, key string, now time.Time) (int, error)
	// PruneItems deletes the items expired at now and returns how many.
	PruneItems(ctx context.Context, now time.Time) (int64, error)
}
