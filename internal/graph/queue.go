package graph

import (
	"container/heap"
	"context"
	"net/http"
	"sync"
	"time"
)

// maxBatch is Graph's limit of requests per $batch (graph.md §5).
const maxBatch = 20

// callState tracks who owns a call: the queue, a worker sending it, or
// nobody any more (answered, or abandoned by its caller).
type callState int

const (
	queued callState = iota
	sending
	finished
)

// call is one request on its way through the dispatcher, with what its
// retries need to remember.
type call struct {
	req *Request
	ctx context.Context
	// dep is the call this one must follow inside the same $batch
	// (dependsOn); nil once dep has succeeded.
	dep *call

	mu    sync.Mutex
	state callState
	resp  *Response
	err   error
	done  chan struct{}

	// Retry bookkeeping, touched only by the worker holding the call.
	throttled, transient, lag int
	timedOut                  int // sends that got no answer within the timeout
	authRetried               bool
	// mayHaveApplied is set once an attempt failed without a trustworthy
	// answer: a later 404 on a DELETE then means the first one worked.
	mayHaveApplied bool
}

func newCall(ctx context.Context, r *Request) *call {
	return &call{req: r, ctx: ctx, done: make(chan struct{})}
}

// claim moves a queued call to sending; false if its caller gave up.
func (c *call) claim() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != queued {
		return false
	}
	c.state = sending
	return true
}

// release puts a call back in the queue's hands for a retry; false if its
// caller gave up meanwhile.
func (c *call) release() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != sending {
		return false
	}
	c.state = queued
	return true
}

// finish records the outcome once; later outcomes are ignored.
func (c *call) finish(resp *Response, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state == finished {
		return
	}
	c.state = finished
	c.resp, c.err = resp, err
	close(c.done)
}

// abandon ends a call whose caller's context is done. A call already on the
// wire may still be applied: for writes that is an unknown outcome.
func (c *call) abandon(cause error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch c.state {
	case finished:
		return
	case sending:
		if c.req.Method != http.MethodGet {
			cause = outcomeUnknown(cause)
		}
	}
	c.state = finished
	c.err = cause
	close(c.done)
}

func (c *call) result() (*Response, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.resp, c.err
}

// unit is what must travel in one $batch: a single request, or a chain of
// requests linked by dependsOn. Calls are in dependency order.
type unit struct {
	calls     []*call
	notBefore time.Time
	seq       uint64
}

func (u *unit) batchable() bool {
	return len(u.calls) > 1 || u.calls[0].req.batchable()
}

// queue holds units waiting to be sent: ready ones in arrival order (retries
// first), delayed ones (retries waiting out a backoff) by due time.
type queue struct {
	clock Clock

	mu      sync.Mutex
	ready   []*unit
	delayed delayHeap
	seq     uint64
	closed  bool
	// readyCalls counts the requests in ready.
	readyCalls int
	// wake has one slot per worker; a push signals one waiting worker.
	wake chan struct{}
	// wakeFull signals a worker that takes only full batches (flow.go)
	// that a full batch's worth is ready.
	wakeFull chan struct{}
}

func newQueue(clock Clock, workers int) *queue {
	return &queue{clock: clock, wake: make(chan struct{}, workers), wakeFull: make(chan struct{}, workers)}
}

// push adds a new unit at the back; false once the queue is closed.
func (q *queue) push(u *unit) bool {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return false
	}
	q.seq++
	u.seq = q.seq
	q.ready = append(q.ready, u)
	q.readyCalls += len(u.calls)
	full := q.readyCalls >= maxBatch
	q.mu.Unlock()
	q.signal()
	if full {
		q.signalFull()
	}
	return true
}

// retry puts a unit back, due at notBefore; it goes ahead of new work.
func (q *queue) retry(u *unit) bool {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return false
	}
	heap.Push(&q.delayed, u)
	q.mu.Unlock()
	q.signal()
	return true
}

func (q *queue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *queue) signalFull() {
	select {
	case q.wakeFull <- struct{}{}:
	default:
	}
}

// take waits for work and returns up to maxBatch requests' worth of units,
// or a single unbatchable unit. Having found fewer than maxBatch, it waits
// up to linger (wall time: it waits for other goroutines of this process)
// for more. A worker that takes only full batches (full) waits until a
// full batch's worth is ready and leaves the rest, retries and unbatchable
// requests to the others, so that it never splits work they would have
// sent together. take returns nil when stop is closed.
func (q *queue) take(stop <-chan struct{}, linger time.Duration, full bool) []*unit {
	if full {
		return q.takeFull(stop)
	}
	var got []*unit
	n := 0
	var lingerDone <-chan time.Time
	for {
		var next time.Duration
		got, n, next = q.pop(got, n)
		if n >= maxBatch || (len(got) == 1 && !got[0].batchable()) {
			return got
		}
		if len(got) > 0 {
			if linger <= 0 {
				return got
			}
			if lingerDone == nil {
				lingerDone = time.After(linger)
			}
		}
		var due <-chan time.Time
		if next > 0 {
			due = q.clock.After(next)
		}
		select {
		case <-stop:
			return nil
		case <-q.wake:
		case <-due:
		case <-lingerDone:
			return got
		}
	}
}

func (q *queue) takeFull(stop <-chan struct{}) []*unit {
	for {
		q.mu.Lock()
		enough := q.readyCalls >= maxBatch
		q.mu.Unlock()
		if enough {
			got, n, _ := q.pop(nil, 0)
			if n >= maxBatch || (len(got) > 0 && n > 0) {
				return got
			}
		}
		select {
		case <-stop:
			return nil
		case <-q.wakeFull:
		}
	}
}

// pop moves due retries to the front and takes ready units while they fit.
// next is how long until the earliest delayed unit is due (0: none).
func (q *queue) pop(got []*unit, n int) ([]*unit, int, time.Duration) {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.clock.Now()
	var due []*unit
	for len(q.delayed) > 0 && !q.delayed[0].notBefore.After(now) {
		due = append(due, heap.Pop(&q.delayed).(*unit))
	}
	if len(due) > 0 {
		q.ready = append(due, q.ready...)
		for _, u := range due {
			q.readyCalls += len(u.calls)
		}
	}
	i := 0
	for i < len(q.ready) {
		u := q.ready[i]
		if !u.batchable() {
			if len(got) == 0 {
				q.ready = append(q.ready[:i], q.ready[i+1:]...)
				q.readyCalls -= len(u.calls)
				return []*unit{u}, maxBatch, 0
			}
			i++
			continue
		}
		if n+len(u.calls) > maxBatch {
			break
		}
		got = append(got, u)
		n += len(u.calls)
		q.readyCalls -= len(u.calls)
		q.ready = append(q.ready[:i], q.ready[i+1:]...)
	}
	if len(q.ready) == 0 {
		q.ready = nil // let a drained backlog's array go
	}
	var next time.Duration
	if len(q.delayed) > 0 {
		next = q.delayed[0].notBefore.Sub(now)
	}
	// More work may be waiting for another worker.
	if len(q.ready) > 0 {
		q.signal()
	}
	if q.readyCalls >= maxBatch {
		q.signalFull()
	}
	return got, n, next
}

// close stops the queue and returns every unit still in it.
func (q *queue) close() []*unit {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	left := append(q.ready, q.delayed...)
	q.ready, q.delayed, q.readyCalls = nil, nil, 0
	return left
}

// delayHeap orders delayed units by due time, then age.
type delayHeap []*unit

func (h delayHeap) Len() int { return len(h) }
func (h delayHeap) Less(i, j int) bool {
	if h[i].notBefore.Equal(h[j].notBefore) {
		return h[i].seq < h[j].seq
	}
	return h[i].notBefore.Before(h[j].notBefore)
}
func (h delayHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *delayHeap) Push(x any)   { *h = append(*h, x.(*unit)) }
func (h *delayHeap) Pop() any {
	old := *h
	u := old[len(old)-1]
	*h = old[:len(old)-1]
	return u
}
