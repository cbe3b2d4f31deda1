//go:build unix

package sqlite

import (
	"context"
	"fmt"
	"os"
	"syscall"
	"time"
)

// lockFile holds an exclusive flock on the database file while fn runs, so
// that two processes opening a new file at once do not both create its
// schema (goose would fail one of them halfway). flock is independent of
// the POSIX locks SQLite takes on the same file, so it cannot deadlock
// with them.
func lockFile(ctx context.Context, path string, fn func() error) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if err != syscall.EWOULDBLOCK {
			return fmt.Errorf("lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for another process to prepare %s: %w", path, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
	defer syscall.Flock(int(f.Fd()), syscall.LOCK_UN) //nolint:errcheck // closing the file releases it too
	return fn()
}
