package graph

import "context"

type guardKey struct{}

// WithGuard returns a context whose requests leave only while guard returns
// nil. The client asks it just before sending each request, or the $batch
// that carries it, retries included — after any wait for the pacing budget —
// so a caller that lost its right to write while its requests were queued
// (a clustered node whose lease lapsed while it was stalled) sends none of
// them. A refused call ends with guard's error, never sent.
func WithGuard(ctx context.Context, guard func() error) context.Context {
	return context.WithValue(ctx, guardKey{}, guard)
}

// guardErr is the refusal of the guard ctx carries, if any.
func guardErr(ctx context.Context) error {
	if g, ok := ctx.Value(guardKey{}).(func() error); ok {
		return g()
	}
	return nil
}
