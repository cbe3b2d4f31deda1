package provision

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/o365prov/o365prov/internal/directory"
)

// Backoff between attempts to reach a directory that did not answer.
const (
	reconnectMin = time.Second
	reconnectMax = 5 * time.Minute
)

// lazyDirectory is a channel's directory, connected on first use. A
// directory that cannot be reached is tried again on a later use, no sooner
// than a backoff that doubles after each failure, so a daemon started while
// its directory is down runs its channel once the directory answers.
type lazyDirectory struct {
	open func(context.Context) (*directory.Directory, error)
	log  *slog.Logger
	now  func() time.Time

	mu   sync.Mutex
	d    *directory.Directory
	last error         // the last failure to connect
	wait time.Duration // the current backoff
	next time.Time     // no attempt before this
	done bool
}

// get returns the connected directory, connecting when it is not yet.
func (l *lazyDirectory) get(ctx context.Context) (*directory.Directory, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.done:
		return nil, directory.ErrClosed
	case l.d != nil:
		return l.d, nil
	case l.last != nil && l.now().Before(l.next):
		return nil, fmt.Errorf("%w (next attempt in %v)", l.last, l.next.Sub(l.now()).Round(time.Second))
	}
	d, err := l.open(ctx)
	if err != nil {
		l.wait = min(max(l.wait*2, reconnectMin), reconnectMax)
		l.next = l.now().Add(l.wait)
		l.last = err
		return nil, err
	}
	if l.last != nil {
		l.log.Info("directory reached", "after", l.last)
	}
	l.d, l.last = d, nil
	return d, nil
}

// retryIn is the backoff before the next attempt.
func (l *lazyDirectory) retryIn() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.wait
}

func (l *lazyDirectory) close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.done = true
	if l.d == nil {
		return nil
	}
	return l.d.Close()
}
