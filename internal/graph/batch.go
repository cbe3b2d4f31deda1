package graph

import (
	"context"
	"errors"
	"fmt"
)

// Batch submits several requests at once, some of which must run after
// another (dependsOn): PATCH usageLocation, then assignLicense; DELETE the
// manager reference, then delete the user. Requests linked by dependencies
// always travel in the same $batch, so a chain may hold at most 20;
// independent requests and chains are packed with whatever else is queued,
// from this batch or concurrent callers, up to 20 per $batch.
//
// Graph's $batch cannot feed a created object's id into a later request, so
// "create, then set its manager" is two submissions: the second once the
// first's id is known.
//
// A Batch is used once: Add and AddAfter, then Send (or Start and Wait),
// then read each Step.
type Batch struct {
	c       *Client
	steps   []*Step
	started bool
}

// Step is one request of a Batch and, once done, its outcome.
type Step struct {
	b    *Batch
	req  *Request
	dep  *Step
	call *call
}

// NewBatch starts an empty batch.
func (c *Client) NewBatch() *Batch { return &Batch{c: c} }

// Add queues an independent request.
func (b *Batch) Add(r *Request) *Step {
	s := &Step{b: b, req: r}
	b.steps = append(b.steps, s)
	return s
}

// AddAfter queues a request that Graph runs only if dep succeeded (one
// dependency per request: graph.md §5 documents no more). If dep fails for
// good, this step fails with ErrDependencyFailed wrapping dep's error; if dep
// is retried (throttled, lag, 5xx), both are sent again together.
func (b *Batch) AddAfter(dep *Step, r *Request) *Step {
	s := b.Add(r)
	s.dep = dep
	return s
}

// Len is the number of requests added.
func (b *Batch) Len() int { return len(b.steps) }

// Send submits every request and waits for all of them. It returns nil if
// every step succeeded, else the steps' errors joined; read each Step for
// its own outcome.
func (b *Batch) Send(ctx context.Context) error {
	if err := b.Start(ctx); err != nil {
		return err
	}
	return b.Wait(ctx)
}

// Start submits every request without waiting; each Step's Done channel
// closes when its outcome is known.
func (b *Batch) Start(ctx context.Context) error {
	if b.started {
		return errors.New("batch: already sent")
	}
	units, err := b.units(ctx)
	if err != nil {
		return err
	}
	b.started = true
	for i, u := range units {
		if err := b.c.submit(ctx, u); err != nil {
			for _, rest := range units[i:] {
				for _, cl := range rest.calls {
					cl.finish(nil, err)
				}
			}
			return err
		}
	}
	return nil
}

// units validates the batch and groups its steps into dependency chains.
func (b *Batch) units(ctx context.Context) ([]*unit, error) {
	root := map[*Step]*Step{}
	byRoot := map[*Step]*unit{}
	var units []*unit
	for i, s := range b.steps {
		if s.req.bodyErr != nil {
			return nil, fmt.Errorf("batch request %d (%s %s): encode body: %w", i+1, s.req.Method, s.req.Template, s.req.bodyErr)
		}
		s.call = newCall(ctx, s.req)
		r := s
		if s.dep != nil {
			if s.dep.b != b || s.dep.call == nil {
				return nil, fmt.Errorf("batch request %d: depends on a request not added before it to this batch", i+1)
			}
			if !s.req.batchable() || !s.dep.req.batchable() {
				return nil, fmt.Errorf("batch request %d: a paged read cannot take part in dependsOn", i+1)
			}
			s.call.dep = s.dep.call
			r = root[s.dep]
		}
		root[s] = r
		u := byRoot[r]
		if u == nil {
			u = &unit{}
			byRoot[r] = u
			units = append(units, u)
		}
		u.calls = append(u.calls, s.call)
		if len(u.calls) > maxBatch {
			return nil, fmt.Errorf("batch request %d: a chain of dependent requests holds more than %d", i+1, maxBatch)
		}
	}
	return units, nil
}

// Wait waits for every step; if ctx ends first, steps not yet answered end
// with ctx's error (wrapped in ErrOutcomeUnknown for writes on the wire).
func (b *Batch) Wait(ctx context.Context) error {
	var errs []error
	for i, s := range b.steps {
		if s.call == nil {
			continue
		}
		if _, err := b.c.await(ctx, s.call); err != nil {
			errs = append(errs, fmt.Errorf("batch request %d (%s %s): %w", i+1, s.req.Method, s.req.Template, err))
		}
	}
	return errors.Join(errs...)
}

// Done is closed once the step's outcome is known.
func (s *Step) Done() <-chan struct{} {
	if s.call == nil {
		closed := make(chan struct{})
		close(closed)
		return closed
	}
	return s.call.done
}

// Result returns the step's answer or error.
func (s *Step) Result() (*Response, error) {
	if s.call == nil {
		return nil, errors.New("batch: not sent")
	}
	select {
	case <-s.call.done:
		return s.call.result()
	default:
		return nil, errors.New("batch: step not done")
	}
}

// Err returns the step's error, nil on success.
func (s *Step) Err() error {
	_, err := s.Result()
	return err
}

// Decode decodes the step's answer into v.
func (s *Step) Decode(v any) error {
	resp, err := s.Result()
	if err != nil {
		return err
	}
	return resp.Decode(v)
}
