package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/o365prov/o365prov/internal/state"
)

// Result is what applying a plan did.
type Result struct {
	Plan      *Plan
	Succeeded int
	Failed    int
	Blocked   int // not attempted: an operation they depend on failed
	Writes    int
	Failures  []OpFailure
	// Approved are the held plans an operator approved that this cycle
	// applied, exactly as held, before planning anew.
	Approved []*Result
	// Failing is how many of the channel's objects are failed or wait for
	// an operation that failed, after the cycle: they are retried later,
	// whether or not their retry was due in this cycle. At most
	// failingLimit are counted.
	Failing int
}

// OpFailure is an operation that failed, and why.
type OpFailure struct {
	Op  int    `json:"op"`
	DN  string `json:"dn"`
	Err string `json:"error"`
}

// opResult is what a worker reports back about one operation.
type opResult struct {
	op      *Op
	graphID string // the object's id after the operation
	request string
	writes  int
	err     error
}

// apply runs a plan's operations through the target, as many at once as
// their dependencies allow. Results are recorded in state by this goroutine,
// in groups (whatever has arrived), before any operation that depends on
// them is released: a crash repeats at most the operations in flight.
//
// What depends on a new object waits e.settle after its creation: Entra's
// replicas answer 404 for a while to references to a new object (graph.md
// §7), and every such attempt would spend a write. Other work goes on
// meanwhile, so the wait costs no throughput.
func (e *Engine) apply(ctx context.Context, plan *Plan, cycle int64) (*Result, error) {
	res := &Result{Plan: plan}
	rc := e.newRecorder(cycle)
	n := len(plan.Ops)
	if n == 0 {
		return res, rc.problems(ctx, plan)
	}
	s, err := newSchedule(plan)
	if err != nil {
		return res, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ready := make(chan *Op, n)
	results := make(chan opResult, n)
	ids := &idCache{e: e, known: map[string]string{}}
	stop := stopOf(ctx)
	// The loop below clears stop once it has seen it; the workers keep
	// their own copy, so they read no variable the loop writes.
	workerStop := stop
	var wg sync.WaitGroup
	started := 0
	// grow starts workers up to what the target needs in flight (its rate
	// times its latency) and at least e.workers; workers never outnumber
	// operations.
	grow := func() {
		want := e.workers
		if f, ok := e.target.(inFlight); ok {
			want = max(want, f.InFlight())
		}
		for ; started < min(want, n); started++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for op := range ready {
					results <- e.runHeld(ctx, op, ids, workerStop)
				}
			}()
		}
	}
	grow()
	defer func() { close(ready); wg.Wait() }()
	// pending counts operations handed to the workers whose result has not
	// come back. Once the process is told to stop, no more are handed out,
	// and the apply ends when those in flight are recorded.
	pending, stopping := 0, false
	dispatch := func(ops []*Op) {
		if stopping {
			return
		}
		for _, op := range ops {
			ready <- op
			pending++
		}
	}
	dispatch(s.initial())
	e.progress.Start(n)
	defer e.progress.Finish()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var leaseErr error // the lease was in doubt: stop as if told to
	for done := 0; done < n; {
		if stopping && pending == 0 {
			if leaseErr != nil {
				return res, fmt.Errorf("stopped after %d of %d operations: %w", done, n, leaseErr)
			}
			return res, fmt.Errorf("%w after %d of %d operations", ErrStopped, done, n)
		}
		var wake <-chan time.Time
		if at, ok := s.nextSettled(); ok && !stopping {
			timer.Reset(time.Until(at))
			wake = timer.C
		}
		var batch []opResult
		select {
		case r := <-results:
			batch = append(batch, r)
		case <-wake:
			dispatch(s.settled(time.Now()))
			continue
		case <-stop:
			stopping, stop = true, nil
			continue
		case <-ctx.Done():
			return res, ctx.Err()
		}
		batch = drain(results, batch)
		pending -= len(batch)
		batch, err := attempted(batch)
		if err != nil && leaseErr == nil {
			leaseErr, stopping = err, true
		}
		freed, finished, err := e.record(ctx, rc, s, res, batch, ids)
		if err != nil {
			return res, err
		}
		done += finished
		e.progress.Done(finished)
		dispatch(freed)
		grow()
	}
	return res, rc.problems(ctx, plan)
}

// inFlight is a target that says how many operations to keep running at
// once to reach its rate at its current latency (bandwidth × delay): the
// Graph client, whose latency may call for more than e.workers.
type inFlight interface {
	InFlight() int
}

// drain adds the results that have already arrived, without waiting.
func drain(results <-chan opResult, batch []opResult) []opResult {
	for {
		select {
		case r := <-results:
			batch = append(batch, r)
		default:
			return batch
		}
	}
}

// record writes a group of results to state and returns the operations they
// free (after the write), and how many operations they finished (blocked
// dependents of failures included).
func (e *Engine) record(ctx context.Context, rc *recorder, s *schedule, res *Result, batch []opResult, ids *idCache) ([]*Op, int, error) {
	finished := 0
	var succeeded []opResult
	for _, r := range batch {
		finished++
		res.Writes += r.writes
		if r.err != nil {
			res.Failed++
			res.Failures = append(res.Failures, OpFailure{Op: r.op.ID, DN: r.op.DN, Err: r.err.Error()})
			if err := rc.failure(ctx, r); err != nil {
				return nil, 0, err
			}
			var berr error
			blocked := s.block(r.op, func(op *Op) {
				if err := rc.blocked(ctx, op, r.op); err != nil && berr == nil {
					berr = err
				}
			})
			if berr != nil {
				return nil, 0, berr
			}
			res.Blocked += blocked
			finished += blocked
			continue
		}
		res.Succeeded++
		if r.graphID != "" {
			ids.set(r.op.GUID, r.graphID)
		}
		if err := rc.success(ctx, r); err != nil {
			return nil, 0, err
		}
		succeeded = append(succeeded, r)
	}
	if err := rc.flush(ctx); err != nil {
		return nil, 0, err
	}
	var freed []*Op
	for _, r := range succeeded {
		delay := time.Duration(0)
		if r.op.Type == OpCreateUser || r.op.Type == OpCreateGroup {
			delay = e.settle
		}
		freed = append(freed, s.release(r.op, time.Now().Add(delay))...)
	}
	return freed, finished, nil
}

// idCache resolves source GUIDs to Entra ids: those created in this apply,
// then state.
type idCache struct {
	e     *Engine
	mu    sync.Mutex
	known map[string]string
}

func (c *idCache) set(guid, id string) {
	c.mu.Lock()
	c.known[guid] = id
	c.mu.Unlock()
}

func (c *idCache) get(ctx context.Context, kind Kind, guid string) (string, error) {
	c.mu.Lock()
	id, ok := c.known[guid]
	c.mu.Unlock()
	if ok {
		return id, nil
	}
	o, err := c.e.store.Object(ctx, c.e.ch.Name, stateKind(kind), guid)
	if errors.Is(err, state.ErrNotFound) && kind == KindUser {
		// A member may be a nested group (flattenNested off).
		o, err = c.e.store.Object(ctx, c.e.ch.Name, state.KindGroup, guid)
	}
	if err != nil {
		return "", fmt.Errorf("%s %s is not provisioned: %w", kind, guid, err)
	}
	if o.GraphID == "" {
		return "", fmt.Errorf("%s %s (%s) is not provisioned yet", kind, o.DN, guid)
	}
	c.set(guid, o.GraphID)
	return o.GraphID, nil
}

// errBlocked marks operations not attempted because one they need failed.
var errBlocked = errors.New("waiting for an operation that failed")
