package engine

// builder accumulates a plan's operations and the dependencies between
// them.
type builder struct {
	plan *Plan
	// exists maps a source GUID to the operation that makes its object exist
	// in Entra in this plan (create, link, restore, enable): what references
	// to the object wait for.
	exists map[string]int
}

func newBuilder(p *Plan) *builder {
	return &builder{plan: p, exists: map[string]int{}}
}

// add appends an operation and returns its id.
func (b *builder) add(op Op) int {
	op.ID = len(b.plan.Ops) + 1
	b.plan.Ops = append(b.plan.Ops, op)
	switch op.Type {
	case OpCreateUser, OpLinkUser, OpRestoreUser, OpCreateGroup, OpLinkGroup:
		b.exists[op.GUID] = op.ID
	}
	return op.ID
}

// after returns the ids of operations that create any of guids in this plan.
func (b *builder) after(guids ...string) []int {
	var ids []int
	for _, g := range guids {
		if id, ok := b.exists[g]; ok {
			ids = append(ids, id)
		}
	}
	return ids
}

// problem records an entry the plan leaves out.
func (b *builder) problem(kind Kind, guid, dn, format string, args ...any) {
	b.plan.Problems = append(b.plan.Problems, Problem{Kind: kind, GUID: guid, DN: dn, Reason: sprintf(format, args...)})
}
