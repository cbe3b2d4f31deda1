package provision

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/o365prov/o365prov/internal/directory"
)

func TestADirectoryDownIsTriedAgainAfterABackoffThatDoubles(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	down := errors.New("connection refused")
	opens := 0
	l := &lazyDirectory{
		log: slog.New(slog.DiscardHandler),
		now: func() time.Time { return now },
		open: func(context.Context) (*directory.Directory, error) {
			opens++
			return nil, down
		},
	}
	ctx := context.Background()
	for i, step := range []struct {
		advance time.Duration
		tries   bool
	}{
		{0, true},                        // first use: tries, waits 1 s
		{500 * time.Millisecond, false},  // within the backoff: the last error, no dial
		{600 * time.Millisecond, true},   // after 1 s: tries, waits 2 s
		{1900 * time.Millisecond, false}, //
		{200 * time.Millisecond, true},   // after 2 s: tries, waits 4 s
		{3900 * time.Millisecond, false}, //
	} {
		now = now.Add(step.advance)
		before := opens
		_, err := l.get(ctx)
		if !errors.Is(err, down) {
			t.Fatalf("step %d: %v", i, err)
		}
		if tried := opens > before; tried != step.tries {
			t.Fatalf("step %d: tried %v, want %v (backoff %v)", i, tried, step.tries, l.retryIn())
		}
		if !step.tries && !strings.Contains(err.Error(), "next attempt in") {
			t.Fatalf("step %d: %v does not say when it tries again", i, err)
		}
	}
	for range 20 {
		now = now.Add(time.Hour)
		_, _ = l.get(ctx)
	}
	if l.retryIn() != reconnectMax {
		t.Fatalf("backoff %v after many failures, want it capped at %v", l.retryIn(), reconnectMax)
	}
	if err := l.close(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.get(ctx); !errors.Is(err, directory.ErrClosed) {
		t.Fatalf("after close: %v", err)
	}
}
