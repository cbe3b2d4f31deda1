package engine

import (
	"fmt"
	"sort"
	"time"
)

// schedule tracks which operations of a plan may run: those whose
// dependencies succeeded, once any settling time after a create has passed.
type schedule struct {
	byID       map[int]*Op
	waiting    map[int]int
	dependents map[int][]int
	blocked    map[int]bool
	queue      []settling // FIFO: every delay is the same, so release times only grow
}

// settling is operations released at a time.
type settling struct {
	at  time.Time
	ops []*Op
}

// newSchedule indexes a plan's dependencies. A plan whose operations wait
// for each other in a loop would never finish: it is refused.
func newSchedule(plan *Plan) (*schedule, error) {
	s := &schedule{byID: map[int]*Op{}, waiting: map[int]int{}, dependents: map[int][]int{}, blocked: map[int]bool{}}
	for i := range plan.Ops {
		op := &plan.Ops[i]
		s.byID[op.ID] = op
		s.waiting[op.ID] = len(op.DependsOn)
		for _, d := range op.DependsOn {
			s.dependents[d] = append(s.dependents[d], op.ID)
		}
	}
	if loop := s.loop(); len(loop) > 0 {
		return nil, fmt.Errorf("plan %s: operations %v wait for each other (a bug: please report it)", plan.ID, loop)
	}
	return s, nil
}

// loop returns the operations that can never run because they wait, directly
// or not, for each other (Kahn's algorithm: what is left unsorted).
func (s *schedule) loop() []int {
	waiting := make(map[int]int, len(s.waiting))
	var queue []int
	for id, n := range s.waiting {
		waiting[id] = n
		if n == 0 {
			queue = append(queue, id)
		}
	}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		for _, d := range s.dependents[id] {
			if waiting[d]--; waiting[d] == 0 {
				queue = append(queue, d)
			}
		}
	}
	var stuck []int
	for id, n := range waiting {
		if n > 0 {
			stuck = append(stuck, id)
		}
	}
	sort.Ints(stuck)
	return stuck
}

// initial is the operations that depend on nothing.
func (s *schedule) initial() []*Op {
	var out []*Op
	for id, n := range s.waiting {
		if n == 0 {
			out = append(out, s.byID[id])
		}
	}
	return out
}

// release notes that op succeeded and returns the dependents now free to
// run; those that may only run at a later time are queued until then.
func (s *schedule) release(op *Op, at time.Time) []*Op {
	var free []*Op
	for _, d := range s.dependents[op.ID] {
		if s.waiting[d]--; s.waiting[d] == 0 {
			free = append(free, s.byID[d])
		}
	}
	if len(free) == 0 || !at.After(time.Now()) {
		return free
	}
	s.queue = append(s.queue, settling{at: at, ops: free})
	return nil
}

// nextSettled is when the next queued operations may run.
func (s *schedule) nextSettled() (time.Time, bool) {
	if len(s.queue) == 0 {
		return time.Time{}, false
	}
	return s.queue[0].at, true
}

// settled returns the queued operations whose time has come.
func (s *schedule) settled(now time.Time) []*Op {
	var out []*Op
	for len(s.queue) > 0 && !s.queue[0].at.After(now) {
		out = append(out, s.queue[0].ops...)
		s.queue = s.queue[1:]
	}
	return out
}

// block marks every operation that depends, directly or not, on a failed
// one as blocked, calls mark for each, and returns how many there were.
func (s *schedule) block(failed *Op, mark func(*Op)) int {
	n := 0
	var walk func(id int)
	walk = func(id int) {
		for _, d := range s.dependents[id] {
			if s.blocked[d] {
				continue
			}
			s.blocked[d] = true
			n++
			mark(s.byID[d])
			walk(d)
		}
	}
	walk(failed.ID)
	return n
}
