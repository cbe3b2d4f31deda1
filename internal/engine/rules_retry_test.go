package engine

import (
	"errors"
	"testing"
	"time"

	"github.com/o365prov/o365prov/internal/state"
)

// errUnavailable is a 5xx the client gave up on.
var errUnavailable = errors.New("503 Service Unavailable")

// failCalls fails every call named until healed.
func failCalls(names ...string) func(string) (error, bool) {
	return func(call string) (error, bool) {
		for _, n := range names {
			if call == n {
				return errUnavailable, false
			}
		}
		return nil, true
	}
}

const bossDN = "uid=boss,ou=people,dc=example,dc=com"

func TestRetries(t *testing.T) {
	t.Run("a rig provisions users with licences and managers", func(t *testing.T) {
		r := newRig(t, "")
		r.src.user("boss", true)
		r.src.user("ann", true, "manager", bossDN)
		res := r.sync(Full)
		if got := r.tgt.counts(); got != (counts{Users: 2, Enabled: 2, Licences: 2, Managers: 1}) {
			t.Fatalf("tenant holds %+v; problems %+v failures %+v", got, res.Plan.Problems, res.Failures)
		}
	})
	t.Run("a failed create is retried by an incremental cycle once its retry is due", func(t *testing.T) {
		r := newRig(t, "")
		r.src.user("boss", true)
		r.src.user("ann", true, "manager", bossDN)
		r.tgt.fault = failCalls("CreateUser")
		res := r.sync(Full)
		if res.Failed != 2 || res.Failing != 2 {
			t.Fatalf("failed %d, failing %d; want 2 and 2", res.Failed, res.Failing)
		}
		r.tgt.fault = nil
		r.advance(90 * time.Second)
		r.sync(Incremental)
		if got := r.tgt.counts(); got != (counts{Users: 2, Enabled: 2, Licences: 2, Managers: 1}) {
			t.Fatalf("after the retry the tenant holds %+v", got)
		}
	})
	t.Run("operations blocked by their own object's failure do not push its retry back", func(t *testing.T) {
		r := newRig(t, "")
		ann := r.src.user("ann", true, "manager", bossDN)
		r.src.user("boss", true)
		r.tgt.fault = failCalls("CreateUser")
		r.sync(Full)
		o := r.stateOf(state.KindUser, ann.GUID)
		if o.Attempts != 1 || !o.NextRetry.Equal(r.clock().Add(retryBase)) {
			t.Errorf("after one failed attempt: attempts %d, next retry in %v; want 1 and %v", o.Attempts, o.NextRetry.Sub(r.clock()), retryBase)
		}
		if o.Status != state.StatusFailed {
			t.Errorf("status %s, want failed: its own create failed", o.Status)
		}
	})
	t.Run("an object blocked by another's failure is retried when that one is", func(t *testing.T) {
		r := newRig(t, "")
		r.src.user("boss", true)
		r.src.user("ann", true, "manager", bossDN)
		r.src.group("Sales", "ann", "boss")
		r.tgt.fault = func(call string) (error, bool) {
			if call == "CreateUser" {
				return errUnavailable, false
			}
			return nil, true
		}
		res := r.sync(Full)
		if res.Blocked == 0 {
			t.Fatalf("nothing was blocked: %+v", res.Plan.Ops)
		}
		g := r.stateOf(state.KindGroup, guidOf("group:Sales"))
		if g.NextRetry.IsZero() || g.NextRetry.After(r.clock().Add(retryBase)) {
			t.Errorf("the blocked group retries in %v, want at most %v", g.NextRetry.Sub(r.clock()), retryBase)
		}
		r.tgt.fault = nil
		r.advance(90 * time.Second)
		res = r.sync(Incremental)
		if got := r.tgt.counts(); got != (counts{Users: 2, Enabled: 2, Groups: 1, Memberships: 2, Licences: 2, Managers: 1}) {
			t.Fatalf("after the retry the tenant holds %+v (failures %+v)", got, res.Failures)
		}
		if res.Failing != 0 {
			t.Errorf("%d objects still failing", res.Failing)
		}
	})
	t.Run("a cycle reports failing objects even when none is due", func(t *testing.T) {
		r := newRig(t, "")
		r.src.user("ann", true)
		r.tgt.fault = failCalls("CreateUser")
		r.sync(Full)
		r.tgt.fault = nil
		res := r.sync(Incremental)
		if len(res.Plan.Ops) != 0 || res.Failing != 1 {
			t.Errorf("a cycle before the retry is due: %d operations, %d failing; want 0 and 1", len(res.Plan.Ops), res.Failing)
		}
	})
}

func TestRetriesKeepWhatFailed(t *testing.T) {
	t.Run("a licence that failed is retried though the user's other operations succeeded", func(t *testing.T) {
		r := newRig(t, "")
		r.src.user("boss", true)
		r.src.user("ann", true, "manager", bossDN)
		r.tgt.fault = failCalls("AssignLicense")
		r.sync(Full)
		if got := r.tgt.counts(); got.Licences != 0 || got.Managers != 1 {
			t.Fatalf("under the fault the tenant holds %+v", got)
		}
		if o := r.stateOf(state.KindUser, guidOf("ann")); o.Status != state.StatusFailed || o.Attempts != 1 {
			t.Errorf("ann is %s after %d attempts; want failed after 1 (licence failed, manager set)", o.Status, o.Attempts)
		}
		r.tgt.fault = nil
		r.advance(90 * time.Second)
		r.sync(Incremental)
		if got := r.tgt.counts(); got != (counts{Users: 2, Enabled: 2, Licences: 2, Managers: 1}) {
			t.Fatalf("after the retry the tenant holds %+v", got)
		}
	})
}

func TestAFailedObjectThatLeavesTheScopeIsNotFailingForever(t *testing.T) {
	r := newRig(t, "")
	r.src.user("boss", true)
	ann := r.src.user("ann", true)
	r.tgt.fault = failCalls("CreateUser")
	r.sync(Full)
	r.tgt.fault = nil
	r.src.remove(ann.GUID)
	r.advance(2 * time.Hour)
	if res := r.sync(Incremental); res.Failing != 0 {
		t.Errorf("%d objects still failing after the one that failed left the directory", res.Failing)
	}
	if got := r.tgt.counts(); got.Users != 1 {
		t.Errorf("the tenant holds %+v, want boss only", got)
	}
}
