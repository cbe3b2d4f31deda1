package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"

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
// their dependencies allow. Results are recorded in state one at a time, by
// this goroutine, before any operation that depends on them is released: a
// crash repeats at most the operations in flight.
func (e *Engine) apply(ctx context.Context, plan *Plan, cycle int64) (*Result, error) {
	res := &Result{Plan: plan}
	n := len(plan.Ops)
	if n == 0 {
		return res, e.recordProblems(ctx, plan)
	}
	byID := make(map[int]*Op, n)
	waiting := make(map[int]int, n)
	dependents := map[int][]int{}
	for i := range plan.Ops {
		op := &plan.Ops[i]
		byID[op.ID] = op
		waiting[op.ID] = len(op.DependsOn)
		for _, d := range op.DependsOn {
			dependents[d] = append(dependents[d], op.ID)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ready := make(chan *Op, n)
	results := make(chan opResult, n)
	ids := &idCache{e: e, known: map[string]string{}}
	blockedSet := map[int]bool{}
	var wg sync.WaitGroup
	for w := 0; w < min(e.workers, n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for op := range ready {
				results <- e.run(ctx, op, ids)
			}
		}()
	}
	defer func() { close(ready); wg.Wait() }()
	for _, op := range plan.Ops {
		if waiting[op.ID] == 0 {
			ready <- byID[op.ID]
		}
	}
	e.progress.Start(n)
	defer e.progress.Finish()
	for done := 0; done < n; {
		var r opResult
		select {
		case r = <-results:
		case <-ctx.Done():
			return res, ctx.Err()
		}
		done++
		e.progress.Done(1)
		res.Writes += r.writes
		if r.err != nil {
			res.Failed++
			res.Failures = append(res.Failures, OpFailure{Op: r.op.ID, DN: r.op.DN, Err: r.err.Error()})
			if err := e.recordFailure(ctx, r, cycle); err != nil {
				return res, err
			}
			blocked := e.block(ctx, r.op, dependents, byID, blockedSet, cycle)
			res.Blocked += blocked
			done += blocked
			e.progress.Done(blocked)
			continue
		}
		res.Succeeded++
		if r.graphID != "" {
			ids.set(r.op.GUID, r.graphID)
		}
		if err := e.recordSuccess(ctx, r, cycle); err != nil {
			return res, err
		}
		for _, d := range dependents[r.op.ID] {
			if waiting[d]--; waiting[d] == 0 {
				ready <- byID[d]
			}
		}
	}
	return res, e.recordProblems(ctx, plan)
}

// block marks every operation that depends, directly or not, on a failed
// one as waiting, and returns how many there were.
func (e *Engine) block(ctx context.Context, failed *Op, dependents map[int][]int, byID map[int]*Op, seen map[int]bool, cycle int64) int {
	n := 0
	var walk func(id int)
	walk = func(id int) {
		for _, d := range dependents[id] {
			if seen[d] {
				continue
			}
			seen[d] = true
			n++
			e.recordBlocked(ctx, byID[d], failed, cycle)
			walk(d)
		}
	}
	walk(failed.ID)
	return n
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
