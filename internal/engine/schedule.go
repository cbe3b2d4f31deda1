package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Watcher is a Source that can push changes (syncrepl, DirSync). Watch
// calls fn when something changed and returns when ctx ends; it returns an
// error wrapping ErrPushUnsupported when the server cannot push.
type Watcher interface {
	Watch(ctx context.Context, fn func(Push)) error
}

// Push is what a directory pushed.
type Push struct {
	// Gone: an entry left the scope (deleted, or no longer matching), or
	// changes may have been missed. Changes cannot report a deletion on
	// most directories, so the next incremental cycle enumerates the scope
	// by GUID and deprovisions what is gone.
	Gone bool
}

// ErrPushUnsupported is returned by Watch when the directory cannot push.
var ErrPushUnsupported = errors.New("the directory cannot push changes")

// Runner runs channels on their schedules until its context ends:
// incremental cycles every interval (sooner when the directory pushes a
// change), a full cycle every fullSyncInterval.
type Runner struct {
	Engines []*Engine
	Log     *slog.Logger
	// Debounce gathers pushed changes that arrive together into one cycle.
	Debounce time.Duration
	// OnCycle, when set, is told the outcome of every cycle (the console
	// and the demo use it).
	OnCycle func(channel string, res *Result, err error)
	// Cluster, when set, shares the channels with the other nodes of the
	// store: this node runs those whose leases it holds (see Cluster).
	Cluster *Cluster
	// StopTimeout bounds a stop: when ctx ends, cycles finish the
	// operations in flight and record them; after StopTimeout they are
	// abandoned (default DefaultStopTimeout).
	StopTimeout time.Duration

	mu       sync.Mutex
	triggers map[string]chan Mode // per running channel: a cycle asked for now
}

// ErrNotRunning: Trigger named a channel this runner does not run (unknown,
// inactive, or the runner has not started).
var ErrNotRunning = errors.New("channel is not run by this process")

// Trigger asks for a cycle of the channel in mode as soon as the running
// one (if any) ends; the console's "sync now". Going through the runner
// keeps one cycle per channel at a time in this process. A request made
// while another waits replaces it.
func (r *Runner) Trigger(channel string, mode Mode) error {
	r.mu.Lock()
	ch, ok := r.triggers[channel]
	r.mu.Unlock()
	if !ok {
		return fmt.Errorf("%w: %s", ErrNotRunning, channel)
	}
	for {
		select {
		case ch <- mode:
			return nil
		default:
		}
		select { // drop the waiting request for this newer one
		case <-ch:
		default:
		}
	}
}

func (r *Runner) triggerOf(channel string) chan Mode {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.triggers == nil {
		r.triggers = map[string]chan Mode{}
	}
	ch := make(chan Mode, 1)
	r.triggers[channel] = ch
	return ch
}

// DefaultStopTimeout is how long a stopping runner waits for the operations
// in flight.
const DefaultStopTimeout = 20 * time.Second

// Run blocks until ctx ends and the cycles in flight have stopped, then
// returns nil; cycle failures are logged and retried on the next tick,
// never fatal.
func (r *Runner) Run(ctx context.Context) error {
	if r.Log == nil {
		r.Log = slog.New(slog.DiscardHandler)
	}
	if r.Debounce == 0 {
		r.Debounce = 250 * time.Millisecond
	}
	if r.StopTimeout <= 0 {
		r.StopTimeout = DefaultStopTimeout
	}
	var active []*Engine
	for _, e := range r.Engines {
		if !e.ch.Active {
			r.Log.Info("channel inactive, not run", "channel", e.ch.Name)
			continue
		}
		active = append(active, e)
	}
	var wg sync.WaitGroup
	if c := r.Cluster; c != nil {
		if c.Log == nil {
			c.Log = r.Log
		}
		beat, stopBeat := context.WithCancel(context.WithoutCancel(ctx))
		defer func() { stopBeat(); wg.Wait() }()
		wg.Go(func() { c.heartbeat(beat) })
		var channels sync.WaitGroup
		for _, e := range active {
			channels.Go(func() {
				c.lead(ctx, e, len(active), r.StopTimeout, func(hard context.Context, stop <-chan struct{}) {
					r.runChannel(hard, e, stop)
				})
			})
		}
		channels.Wait()
		return nil
	}
	for _, e := range active {
		wg.Go(func() {
			hard, cancel := r.stopping(ctx)
			defer cancel()
			r.runChannel(hard, e, ctx.Done())
		})
	}
	wg.Wait()
	return nil
}

// stopping returns a context that outlives ctx by StopTimeout, so that a
// cycle told to stop can finish and record its operations in flight.
func (r *Runner) stopping(ctx context.Context) (context.Context, context.CancelFunc) {
	hard, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(r.StopTimeout, cancel)
		context.AfterFunc(hard, func() { t.Stop() })
	})
	return hard, func() { stop(); cancel() }
}

// runChannel runs a channel's cycles under ctx until ctx ends or stop is
// closed; a cycle in flight when stop closes finishes its operations in
// flight first.
func (r *Runner) runChannel(ctx context.Context, e *Engine, stop <-chan struct{}) {
	pushed := make(chan struct{}, 1)
	if w, ok := e.source.(Watcher); ok && e.ch.Source.ChangeDetection.Push != "off" {
		watchCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		go r.watch(watchCtx, e, w, pushed)
	}
	asked := r.triggerOf(e.ch.Name)
	var mode Mode // "": the schedule decides
	for {
		select {
		case <-stop:
			return
		default:
		}
		r.cycle(ctx, e, mode, stop)
		mode = ""
		timer := time.NewTimer(e.ch.Interval)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case mode = <-asked:
			timer.Stop()
		case <-stop:
			timer.Stop()
			return
		case <-timer.C:
		case <-pushed:
			timer.Stop()
			// Let a burst of changes settle into one cycle.
			select {
			case <-ctx.Done():
				return
			case <-stop:
				return
			case <-time.After(r.Debounce):
			}
		}
	}
}

// watch keeps a push subscription open, reconnecting after failures.
func (r *Runner) watch(ctx context.Context, e *Engine, w Watcher, pushed chan<- struct{}) {
	backoff := time.Second
	for ctx.Err() == nil {
		err := w.Watch(ctx, func(p Push) {
			if p.Gone {
				e.noteGone()
			}
			select {
			case pushed <- struct{}{}:
			default:
			}
		})
		if errors.Is(err, ErrPushUnsupported) {
			r.Log.Info("directory does not push changes; polling", "channel", e.ch.Name, "interval", e.ch.Interval)
			return
		}
		if ctx.Err() != nil {
			return
		}
		r.Log.Warn("push subscription ended; reconnecting", "channel", e.ch.Name, "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, time.Minute)
	}
}

// cycle runs one cycle of a channel (the engine takes the channel's lease,
// or works under the one the cluster holds), in mode, or in the mode its
// schedule says when mode is "".
func (r *Runner) cycle(ctx context.Context, e *Engine, mode Mode, stop <-chan struct{}) {
	if mode == "" {
		var err error
		if mode, err = e.dueMode(ctx); err != nil {
			r.Log.Error("read channel state", "channel", e.ch.Name, "err", err)
			return
		}
	}
	start := time.Now()
	res, err := e.Sync(ctx, SyncOptions{Mode: mode, Stop: stop})
	if r.OnCycle != nil {
		r.OnCycle(e.ch.Name, res, err)
	}
	if res != nil {
		for _, ar := range res.Approved {
			r.Log.Info("approved plan applied", "channel", e.ch.Name, "plan", ar.Plan.ID, "ops", len(ar.Plan.Ops),
				"succeeded", ar.Succeeded, "failed", ar.Failed, "writes", ar.Writes)
		}
	}
	switch {
	case ctx.Err() != nil:
	case errors.Is(err, ErrStopped):
		r.Log.Info("cycle stopped early; the operations in flight were recorded", "channel", e.ch.Name, "err", err)
	case errors.Is(err, ErrHeld):
		r.Log.Warn("cycle held for approval", "channel", e.ch.Name, "err", err)
	case errors.Is(err, ErrBusy):
		r.Log.Debug("another process runs this channel now", "channel", e.ch.Name, "err", err)
	case err != nil:
		r.Log.Error("cycle failed", "channel", e.ch.Name, "mode", mode, "err", err)
	case res.Plan.Empty():
		r.Log.Debug("cycle done, nothing to do", "channel", e.ch.Name, "mode", mode, "took", time.Since(start).Round(time.Millisecond))
	default:
		r.Log.Info("cycle done", "channel", e.ch.Name, "mode", mode, "ops", len(res.Plan.Ops),
			"succeeded", res.Succeeded, "failed", res.Failed, "writes", res.Writes, "took", time.Since(start).Round(time.Millisecond))
	}
}

// dueMode is Full when the channel has never had a full cycle, Reconcile
// when its fullSyncInterval has passed, Incremental otherwise.
func (e *Engine) dueMode(ctx context.Context) (Mode, error) {
	cs, err := e.store.Channel(ctx, e.ch.Name)
	if err != nil {
		return "", fmt.Errorf("read channel %s: %w", e.ch.Name, err)
	}
	if cs.LastFullSync.IsZero() || len(cs.Watermark) == 0 {
		return Full, nil
	}
	if e.ch.FullSyncInterval > 0 && e.clock().Sub(cs.LastFullSync) >= e.ch.FullSyncInterval {
		return Reconcile, nil
	}
	return Incremental, nil
}
