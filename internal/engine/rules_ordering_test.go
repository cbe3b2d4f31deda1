package engine

import (
	"slices"
	"testing"
)

func TestOrdering(t *testing.T) {
	r := newRig(t, "")
	r.src.user("boss", true)
	r.src.user("ann", true, "manager", bossDN)
	r.src.group("Sales", "ann", "boss")
	plan, err := r.e.Plan(r.ctx, Full)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[int]Op{}
	creates := map[string]int{} // GUID → id of the op that makes it exist
	for _, op := range plan.Ops {
		byID[op.ID] = op
		if op.Type == OpCreateUser || op.Type == OpCreateGroup {
			creates[op.GUID] = op.ID
		}
	}
	find := func(typ OpType, guid string) Op {
		t.Helper()
		for _, op := range plan.Ops {
			if op.Type == typ && op.GUID == guid {
				return op
			}
		}
		t.Fatalf("no %s of %s in %+v", typ, guid, plan.Ops)
		return Op{}
	}
	ann, boss, sales := guidOf("ann"), guidOf("boss"), guidOf("group:Sales")
	tests := []struct {
		name string
		op   Op
		want []int // operations it must wait for
	}{
		{"a licence is assigned after its user is created", find(OpAssignLicense, ann), []int{creates[ann]}},
		{"a manager is set after the user and the manager exist", find(OpSetManager, ann), []int{creates[ann], creates[boss]}},
		{"a group is created after the first members it carries", find(OpCreateGroup, sales), []int{creates[ann], creates[boss]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, w := range tt.want {
				if !slices.Contains(tt.op.DependsOn, w) {
					t.Errorf("%s #%d depends on %v, not on #%d (%s)", tt.op.Type, tt.op.ID, tt.op.DependsOn, w, byID[w].Type)
				}
				if w >= tt.op.ID {
					t.Errorf("%s #%d is listed before #%d, which it waits for", tt.op.Type, tt.op.ID, w)
				}
			}
		})
	}
	t.Run("managers are created before the people who report to them", func(t *testing.T) {
		if creates[boss] > creates[ann] {
			t.Errorf("boss created as #%d after ann #%d", creates[boss], creates[ann])
		}
	})
	t.Run("access is taken away last", func(t *testing.T) {
		r.sync(Full)
		r.src.remove(ann)
		r.src.user("boss", true, "title", "CEO")
		plan, err := r.e.Plan(r.ctx, Full)
		if err != nil {
			t.Fatal(err)
		}
		last := plan.Ops[len(plan.Ops)-1]
		if last.Type != OpDisableUser || last.GUID != ann {
			t.Errorf("the last operation is %s of %s, want ann's disable: %+v", last.Type, last.Name, plan.Ops)
		}
	})
}
