package fakeorg

import "testing"

func TestTheChartIsATreeWithManagersBeforeReports(t *testing.T) {
	for _, users := range []int{1, 2, 5, 12, 13, 200, 10_000} {
		c := newChart(users, fanOut, newTables().depts)
		for i := range users {
			if got := c.index(c.position(i)); got != i {
				t.Fatalf("users=%d: index(position(%d)) = %d", users, i, got)
			}
			m := c.manager(i)
			switch {
			case i == 0 && m != -1:
				t.Fatalf("users=%d: the CEO has manager %d", users, m)
			case i > 0 && (m < 0 || m >= i):
				t.Fatalf("users=%d: user %d has manager %d, want an earlier user", users, i, m)
			case i > 0 && !c.hasReports(m):
				t.Fatalf("users=%d: %d manages %d but hasReports says no", users, m, i)
			}
		}
	}
}

func TestTheChartIsSeveralLevelsDeep(t *testing.T) {
	c := newChart(200, fanOut, newTables().depts)
	deepest := 0
	for i := range 200 {
		deepest = max(deepest, c.level(i))
	}
	if deepest < 3 {
		t.Errorf("deepest level %d: want a chart at least three levels below the CEO", deepest)
	}
}

func TestNamesAreDistinctAcrossTheWholePermutation(t *testing.T) {
	g := newGenerator(Options{Users: 1, Seed: 5, Domain: "contoso.com"})
	combos := len(g.t.first) * len(g.t.last)
	seen := make(map[string]int, combos+100)
	for i := range combos + 100 {
		_, _, uid := g.name(i)
		if j, dup := seen[uid]; dup {
			t.Fatalf("users %d and %d are both %s", j, i, uid)
		}
		seen[uid] = i
	}
}
