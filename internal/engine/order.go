package engine

import "sort"

// rank orders operation types in a plan: objects exist before anything
// refers to them, and access is taken away last, after the references to
// the objects going away.
var rank = map[OpType]int{
	OpCreateUser: 0, OpLinkUser: 0, OpRestoreUser: 0, OpEnableUser: 1, OpUpdateUser: 1,
	OpCreateGroup: 2, OpLinkGroup: 2, OpUpdateGroup: 3,
	OpAssignLicense: 4, OpSetManager: 5, OpRemoveManager: 5,
	OpAddMembers: 6, OpRemoveMember: 7,
	OpDeleteGroup: 8, OpForgetGroup: 8, OpDisableUser: 9, OpDeleteUser: 9,
}

// finalize sorts the plan for reading — by rank, managers before the people
// who report to them, then by name — and renumbers the operations, keeping
// dependencies pointing at the same operations.
func finalize(p *Plan, depth func(guid string) int) {
	sort.SliceStable(p.Ops, func(i, j int) bool {
		a, b := p.Ops[i], p.Ops[j]
		if rank[a.Type] != rank[b.Type] {
			return rank[a.Type] < rank[b.Type]
		}
		if a.Type == OpCreateUser || a.Type == OpSetManager {
			if da, db := depth(a.GUID), depth(b.GUID); da != db {
				return da < db
			}
		}
		return a.Name < b.Name
	})
	renumber := make(map[int]int, len(p.Ops))
	for i := range p.Ops {
		renumber[p.Ops[i].ID] = i + 1
	}
	for i := range p.Ops {
		p.Ops[i].ID = i + 1
		deps := p.Ops[i].DependsOn
		for j, d := range deps {
			deps[j] = renumber[d]
		}
		sort.Ints(deps)
	}
}

// managerDepth is how many managers are above a user in this cycle's
// references: the CEO is 0.
func managerDepth(managerOf map[string]string) func(string) int {
	memo := map[string]int{}
	var depth func(g string, n int) int
	depth = func(g string, n int) int {
		if d, ok := memo[g]; ok {
			return d
		}
		m, ok := managerOf[g]
		if !ok || n > 1000 {
			return 0
		}
		d := depth(m, n+1) + 1
		memo[g] = d
		return d
	}
	return func(g string) int { return depth(g, 0) }
}
