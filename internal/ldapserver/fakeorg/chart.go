package fakeorg

// chart is the org chart as arithmetic on user indexes, so that a user's
// department, manager and reports are computed, never stored: the generator
// streams 100,000 users in constant memory.
//
// User 0 is the CEO. Users 1..D head the D departments and report to the
// CEO. Every later user j (counted from D+1) joins the department
// pattern[j mod W], where the pattern interleaves departments in proportion
// to their weights (W is the sum), as member k = 1, 2, ... of it. Within a
// department the members form a tree of fan-out span in heap order: member
// k reports to member (k-1)/span, member 0 being the head. A manager always
// has a smaller index than their reports, so the file lists managers first.
type chart struct {
	users int
	span  int
	depts []department
	// pattern[p] is the department of slot p; slot[p] is how many earlier
	// slots in the pattern belong to the same department.
	pattern, slot []int
	// positions[d][o] is the slot of the o-th occurrence of department d.
	positions [][]int
}

// position is a user's place in the chart.
type position struct {
	dept int // -1 for the CEO
	k    int // 0 for a department head
}

func newChart(users, span int, depts []department) *chart {
	c := &chart{users: users, span: span, depts: depts, positions: make([][]int, len(depts))}
	maxWeight := 0
	for _, d := range depts {
		maxWeight = max(maxWeight, d.weight)
	}
	for round := range maxWeight {
		for i, d := range depts {
			if d.weight > round {
				c.positions[i] = append(c.positions[i], len(c.pattern))
				c.slot = append(c.slot, len(c.positions[i])-1)
				c.pattern = append(c.pattern, i)
			}
		}
	}
	return c
}

func (c *chart) heads() int { return len(c.depts) }

func (c *chart) position(i int) position {
	switch {
	case i == 0:
		return position{dept: -1}
	case i <= c.heads():
		return position{dept: i - 1}
	}
	j := i - c.heads() - 1
	w := len(c.pattern)
	p := j % w
	d := c.pattern[p]
	return position{dept: d, k: (j/w)*c.depts[d].weight + c.slot[p] + 1}
}

// index is the inverse of position.
func (c *chart) index(pos position) int {
	switch {
	case pos.dept < 0:
		return 0
	case pos.k == 0:
		return pos.dept + 1
	}
	w := c.depts[pos.dept].weight
	r, o := (pos.k-1)/w, (pos.k-1)%w
	return r*len(c.pattern) + c.positions[pos.dept][o] + c.heads() + 1
}

// size is the number of members of department d with k >= 1.
func (c *chart) size(d int) int {
	m := c.users - c.heads() - 1
	if m <= 0 {
		return 0
	}
	w := len(c.pattern)
	n := (m / w) * c.depts[d].weight
	for p := range m % w {
		if c.pattern[p] == d {
			n++
		}
	}
	return n
}

// manager returns the index of i's manager, or -1 for the CEO.
func (c *chart) manager(i int) int {
	pos := c.position(i)
	switch {
	case pos.dept < 0:
		return -1
	case pos.k == 0:
		return 0
	}
	return c.index(position{dept: pos.dept, k: (pos.k - 1) / c.span})
}

// hasReports tells whether anyone reports to i.
func (c *chart) hasReports(i int) bool {
	pos := c.position(i)
	switch {
	case pos.dept < 0:
		return c.users > 1
	case pos.k == 0:
		return c.size(pos.dept) > 0
	}
	return c.span*pos.k+1 <= c.size(pos.dept)
}

// level is the depth below the CEO: 1 for heads, 2 for their reports...
func (c *chart) level(i int) int {
	n := 0
	for m := i; m > 0; m = c.manager(m) {
		n++
	}
	return n
}
