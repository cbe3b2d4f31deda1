package provision_test

import (
	"testing"

	"github.com/o365prov/o365prov/internal/engine"
	"github.com/o365prov/o365prov/internal/graph"
)

// TestVerifyRepairsDriftMadeInEntra changes users in the tenant by hand —
// a property, an account, a licence, a user deleted — and checks a full
// cycle leaves them (it trusts state) while a verify cycle repairs them.
func TestVerifyRepairsDriftMadeInEntra(t *testing.T) {
	w := newWorld(t)
	w.sync(engine.Full)
	g := w.sys.Graph
	if err := g.PatchUser(w.ctx, w.mustUser(userUPN(3)).ID, graph.Properties{"jobTitle": "Hacked"}); err != nil {
		t.Fatal(err)
	}
	if err := g.PatchUser(w.ctx, w.mustUser(userUPN(4)).ID, graph.Properties{"accountEnabled": false}); err != nil {
		t.Fatal(err)
	}
	if _, err := g.AssignLicense(w.ctx, w.mustUser(userUPN(5)).ID, []graph.AssignedLicense{}, []string{e3SkuID}); err != nil {
		t.Fatal(err)
	}
	gone := w.mustUser(userUPN(6)).ID
	if err := g.DeleteUser(w.ctx, gone); err != nil {
		t.Fatal(err)
	}
	if res := w.sync(engine.Full); !res.Plan.Empty() {
		t.Fatalf("a full cycle trusts state and plans nothing, got %+v", res.Plan.Ops)
	}
	res := w.sync(engine.Verify)
	if res.Failed > 0 {
		t.Fatalf("failures %v", res.Failures)
	}
	if got := w.mustUser(userUPN(3)).Properties["jobTitle"]; got != "Engineer" {
		t.Errorf("jobTitle = %v, want Engineer back", got)
	}
	if !w.mustUser(userUPN(4)).AccountEnabled {
		t.Error("account disabled in Entra not enabled again")
	}
	if len(w.mustUser(userUPN(5)).Licenses) != 1 {
		t.Error("licence removed in Entra not assigned again")
	}
	if u := w.mustUser(userUPN(6)); u.ID != gone {
		t.Errorf("user deleted in Entra: got id %s, want %s restored from deleted items", u.ID, gone)
	}
	if res := w.sync(engine.Verify); !res.Plan.Empty() {
		t.Errorf("a second verify cycle still plans %+v", res.Plan.Ops)
	}
}
