package graph

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
)

var errNotHolder = errors.New("no longer the holder")

func TestGuard(t *testing.T) {
	tests := []struct {
		name string
		// refuseAfter: the guard refuses once this many requests were sent
		// (-1: never).
		refuseAfter int64
		throttle    bool
		wantSent    int
		wantErr     error
	}{
		{"a request whose guard allows it is sent", -1, false, 1, nil},
		{"a request whose guard refuses it is never sent", 0, false, 0, errNotHolder},
		{"a retry after a 429 is asked again, and not sent once refused", 1, true, 1, errNotHolder},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var sent atomic.Int64
			g, srv := newStub(t, func(r stubRequest) stubAnswer {
				sent.Add(1)
				if tc.throttle {
					return stubAnswer{status: http.StatusTooManyRequests, header: map[string]string{"Retry-After": "1"}}
				}
				return created("u1")
			})
			c, _ := newStubClient(t, srv, nil)
			ctx := WithGuard(context.Background(), func() error {
				if tc.refuseAfter >= 0 && sent.Load() >= tc.refuseAfter {
					return errNotHolder
				}
				return nil
			})
			_, err := c.CreateUser(ctx, Properties{"userPrincipalName": "ada@contoso.com"})
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Errorf("CreateUser = %v, want %v", err, tc.wantErr)
			}
			if got := len(g.seen()); got != tc.wantSent {
				t.Errorf("Graph received %d requests, want %d", got, tc.wantSent)
			}
		})
	}
}
