package graph

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// sender is one of MaxThreads goroutines (more when Graph is slow, see
// flow.go): it takes a batch's worth of
// queued units, waits for the pacing budget, sends, and sorts out each
// request's outcome.
//
// The first MaxThreads senders take whatever is queued; those started
// because Graph is slow run only while the latency calls for them, and
// take only full batches, so they add exchanges only when a backlog needs
// them and never split work the others would have sent together.
func (c *Client) sender(index int) {
	defer c.wg.Done()
	extra := index >= c.minSenders
	for {
		if extra && !c.awaitTurn(index) {
			return
		}
		units := c.queue.take(c.ctx.Done(), c.linger, extra)
		if units == nil {
			return
		}
		c.sendUnits(units)
	}
}

// attempt is one send of one call: its answer or failure.
type attempt struct {
	c    *call
	resp *Response
	err  error // *Error for an error answer, *TransportError for none
	// ru is what Graph said the request cost, else what it was expected to.
	ru int
}

func (c *Client) sendUnits(units []*unit) {
	writes, ru := 0, 0
	for _, u := range units {
		w, r := unitCost(u)
		writes, ru = writes+w, ru+r
	}
	tk, err := c.pacer.wait(c.ctx, writes, ru)
	if err != nil {
		for _, u := range units {
			for _, cl := range u.calls {
				cl.finish(nil, ErrClosed)
			}
		}
		return
	}
	// Claim calls whose callers are still waiting and whose guard lets them
	// go; a unit whose caller gave up is dropped whole (its calls share one
	// context).
	var live []*unit
	var calls []*call
	for _, u := range units {
		cause := u.calls[0].ctx.Err()
		if cause == nil {
			cause = guardErr(u.calls[0].ctx) // see WithGuard
		}
		if cause != nil || !claimAll(u) {
			if cause == nil {
				cause = ErrClosed // only Close ends a queued call otherwise
			}
			for _, cl := range u.calls {
				cl.abandon(cause)
			}
			w, r := unitCost(u)
			c.pacer.cancel(tk, w, r)
			continue
		}
		live = append(live, u)
		calls = append(calls, u.calls...)
	}
	if len(calls) == 0 {
		return
	}
	var results []attempt
	if len(calls) == 1 {
		results = []attempt{c.sendOne(calls[0])}
	} else {
		results = c.sendBatch(calls)
	}
	byCall := make(map[*call]attempt, len(results))
	ru = 0
	for _, a := range results {
		byCall[a.c] = a
		ru += a.ru
	}
	c.pacer.finish(tk, ru)
	for _, u := range live {
		c.settle(u, byCall)
	}
}

// claimAll claims every call of a unit, or none.
func claimAll(u *unit) bool {
	for i, cl := range u.calls {
		if !cl.claim() {
			for _, prev := range u.calls[:i] {
				prev.release()
			}
			return false
		}
	}
	return true
}

// unitCost is what a unit was charged: writes and estimated RU.
func unitCost(u *unit) (writes, ru int) {
	for _, cl := range u.calls {
		if cl.req.Method != http.MethodGet {
			writes++
		}
		ru += estimateRU(cl.req)
	}
	return writes, ru
}

// settle judges each call of a unit, in dependency order, finishes those
// with a final outcome and queues the rest again as one unit.
func (c *Client) settle(u *unit, byCall map[*call]attempt) {
	now := c.clock.Now()
	var again []*call
	var wait time.Duration
	retrying := map[*call]bool{}
	for _, cl := range u.calls {
		a := byCall[cl]
		if cl.dep != nil {
			if retrying[cl.dep] {
				// Graph skipped it (424) because its dependency failed
				// for a reason that passes: send both again.
				retrying[cl] = true
				again = append(again, cl)
				c.metrics.Retried(cl.req.Method, cl.req.Template, RetryFailedBatch)
				continue
			}
			if _, depErr := cl.dep.result(); depErr != nil && isFinished(cl.dep) {
				cl.finish(nil, dependencyFailed(depErr))
				continue
			}
		}
		d, ok := c.judgeAttempt(cl, a, now)
		if !ok {
			continue
		}
		retrying[cl] = true
		again = append(again, cl)
		wait = max(wait, d)
	}
	c.requeue(again, retrying, now.Add(wait))
}

func isFinished(cl *call) bool {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.state == finished
}

// judgeAttempt finishes cl if its attempt was final; otherwise it returns
// how long to wait before sending it again.
func (c *Client) judgeAttempt(cl *call, a attempt, now time.Time) (time.Duration, bool) {
	ge, _ := a.err.(*Error)
	v := judge(cl, a.err, cl.lag+1 < c.retry.LagAttempts && c.lagging(now, cl.req, ge))
	switch v {
	case done:
		if a.err == nil && cl.req.creates {
			c.noteCreated(now, a.resp)
		}
		if a.err != nil {
			// The goal already holds (duplicate add, missing remove).
			a.resp = &Response{Status: ge.Status, RequestID: ge.RequestID}
		}
		cl.finish(a.resp, nil)
		return 0, false
	case retryThrottled:
		cl.throttled++
		if cl.throttled >= c.retry.ThrottledAttempts {
			cl.finish(nil, a.err)
			return 0, false
		}
		d := ge.RetryAfter
		if d <= 0 {
			d = c.jitter.apply(exponential(c.retry.TransientBase, c.retry.TransientCap, cl.throttled))
		}
		c.pacer.throttled(d, ge.ThrottleInformation)
		c.metrics.Throttled(cl.req.Method, cl.req.Template, d)
		return c.again(cl, RetryThrottled, d)
	case retryTransient:
		cl.transient++
		cl.mayHaveApplied = cl.mayHaveApplied || !(ge != nil && ge.Status == http.StatusServiceUnavailable)
		if errors.Is(a.err, context.DeadlineExceeded) {
			cl.timedOut++
		}
		if cl.transient >= c.retry.TransientAttempts || cl.timedOut >= c.retry.TimeoutAttempts {
			cl.finish(nil, a.err)
			return 0, false
		}
		d := c.jitter.apply(exponential(c.retry.TransientBase, c.retry.TransientCap, cl.transient))
		if ge != nil && ge.RetryAfter > 0 {
			d = ge.RetryAfter
		}
		return c.again(cl, RetryTransient, d)
	case retryLag:
		cl.lag++
		if cl.lag >= c.retry.LagAttempts {
			cl.finish(nil, a.err)
			return 0, false
		}
		return c.again(cl, RetryLag, exponential(c.retry.LagBase, c.retry.LagCap, cl.lag))
	case retryAuth:
		cl.authRetried = true
		return c.again(cl, RetryAuth, 0)
	case unknown:
		cl.finish(nil, outcomeUnknown(a.err))
		return 0, false
	default:
		if cl.mayHaveApplied && ge != nil && ge.Status < 500 {
			// An earlier attempt whose answer was lost may have done
			// what this one is now refused for (a licence removed twice).
			cl.finish(nil, outcomeUnknown(a.err))
			return 0, false
		}
		cl.finish(nil, a.err)
		return 0, false
	}
}

// lagging reports whether a 404 may be replication lag: it names an object
// this client created a moment ago ("Resource '<id>' does not exist…",
// graph.md §7), or, when it names none, the request refers to one.
func (c *Client) lagging(now time.Time, r *Request, e *Error) bool {
	if e == nil || e.Status != http.StatusNotFound {
		return false
	}
	if m := missingResource.FindStringSubmatch(e.Message); m != nil {
		return c.created.recent(now, []string{m[1]})
	}
	return c.created.recent(now, r.refs)
}

func (c *Client) again(cl *call, reason RetryReason, d time.Duration) (time.Duration, bool) {
	c.metrics.Retried(cl.req.Method, cl.req.Template, reason)
	return d, true
}

// requeue sends calls again as one unit due at notBefore; a dependency
// that has succeeded is dropped from dependsOn.
func (c *Client) requeue(calls []*call, retrying map[*call]bool, notBefore time.Time) {
	var keep []*call
	for _, cl := range calls {
		if !cl.release() {
			continue // the caller gave up while it was on the wire
		}
		if cl.dep != nil && !retrying[cl.dep] {
			cl.dep = nil
		}
		keep = append(keep, cl)
	}
	if len(keep) == 0 {
		return
	}
	if !c.queue.retry(&unit{calls: keep, notBefore: notBefore}) {
		for _, cl := range keep {
			cl.finish(nil, ErrClosed)
		}
	}
}

// noteCreated remembers a new object's id and UPN for replication-lag
// retries.
func (c *Client) noteCreated(now time.Time, resp *Response) {
	if resp == nil {
		return
	}
	var o struct {
		ID  string `json:"id"`
		UPN string `json:"userPrincipalName"`
	}
	if resp.Decode(&o) == nil {
		c.created.add(now, o.ID, o.UPN)
	}
}
