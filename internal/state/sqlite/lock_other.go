//go:build !unix

package sqlite

import "context"

// lockFile runs fn: without flock, concurrent first opens of one file are
// not serialised.
func lockFile(_ context.Context, _ string, fn func() error) error { return fn() }
