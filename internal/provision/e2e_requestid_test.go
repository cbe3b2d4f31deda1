package provision_test

import (
	"testing"
	"time"

	"github.com/o365prov/o365prov/internal/engine"
	"github.com/o365prov/o365prov/internal/ldapserver"
	"github.com/o365prov/o365prov/internal/state"
)

// TestEveryWriteIsAuditedWithItsRequestID syncs users with managers and
// licences and groups with members, as the demo does, and checks that the
// audit entry of every write Graph accepted names Graph's request-id: it
// is what Microsoft support asks for, and the console's object page shows
// it.
func TestEveryWriteIsAuditedWithItsRequestID(t *testing.T) {
	ldif := orgLDIF(8) + groupLDIF("Sales", userDN(1), userDN(2), userDN(3)) + groupLDIF("Support", userDN(4))
	w := newWorld(t, withLDIF(ldif), withSource(groupsScope))
	if res := w.sync(engine.Full); res.Failed > 0 {
		t.Fatalf("failures %v", res.Failures)
	}
	// A minute on, as the next cycle would be (Entra's replicas know the
	// groups by then), one member joins and one leaves.
	w.tenant.Advance(time.Minute)
	w.modify(groupDN("Sales"), ldapserver.AddValues("member", userDN(5)), ldapserver.DeleteValues("member", userDN(1)))
	if res := w.sync(engine.Incremental); res.Failed > 0 {
		t.Fatalf("failures %v", res.Failures)
	}
	entries, err := w.sys.Store.QueryAudit(w.ctx, state.AuditQuery{Result: "ok", Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	// Links and forgets record what o365prov found; they write nothing.
	noWrite := map[string]bool{string(engine.OpLinkUser): true, string(engine.OpLinkGroup): true, string(engine.OpForgetGroup): true}
	seen := map[string]int{}
	for _, e := range entries {
		if noWrite[e.Operation] {
			continue
		}
		seen[e.Operation]++
		if e.RequestID == "" {
			t.Errorf("%s %s (%s) audited without a request-id", e.Operation, e.DN, e.Detail)
		}
	}
	for _, op := range []engine.OpType{engine.OpCreateUser, engine.OpSetManager, engine.OpAssignLicense, engine.OpCreateGroup, engine.OpAddMembers, engine.OpRemoveMember} {
		if seen[string(op)] == 0 {
			t.Errorf("no %s in the audit log (%v): the sync is not demo-like", op, seen)
		}
	}
}
