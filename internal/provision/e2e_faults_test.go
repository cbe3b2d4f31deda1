package provision_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/o365prov/o365prov/internal/engine"
	"github.com/o365prov/o365prov/internal/faketenant"
	"github.com/o365prov/o365prov/internal/graph"
)

// tenantCounts is what the tenant holds of what o365prov provisions: the
// numbers a fault must not change.
type tenantCounts struct {
	users, groups, memberships, licences, managers int
	groupsByName                                   map[string]int
}

func (c tenantCounts) String() string {
	return fmt.Sprintf("%d users, %d groups, %d memberships, %d licences, %d managers", c.users, c.groups, c.memberships, c.licences, c.managers)
}

func countTenant(w *world) tenantCounts {
	c := tenantCounts{groupsByName: map[string]int{}}
	for _, u := range w.tenant.Users() {
		if !u.Deleted.IsZero() {
			continue
		}
		c.users++
		c.licences += len(u.Licenses)
		if u.Manager != "" {
			c.managers++
		}
	}
	for _, g := range w.tenant.Groups() {
		if !g.Deleted.IsZero() {
			continue
		}
		c.groups++
		c.groupsByName[g.DisplayName]++
		c.memberships += len(w.tenant.Members(g.ID))
	}
	return c
}

// duplicates lists the group names the tenant holds more than once.
func (c tenantCounts) duplicates() []string {
	var out []string
	for n, k := range c.groupsByName {
		if k > 1 {
			out = append(out, fmt.Sprintf("%s ×%d", n, k))
		}
	}
	return out
}

// tenGroups is an organisation of 8 users and 10 groups of 2 or 3 members.
func tenGroups() string {
	ldif := orgLDIF(8)
	for i := 0; i < 10; i++ {
		ldif += groupLDIF(fmt.Sprintf("Team%02d", i), userDN(i%8), userDN((i+3)%8))
	}
	return ldif
}

// wantTenGroups is what tenGroups provisions.
var wantTenGroups = tenantCounts{users: 8, groups: 10, memberships: 20, licences: 8, managers: 7}

func checkCounts(t *testing.T, got, want tenantCounts) {
	t.Helper()
	if d := got.duplicates(); len(d) > 0 {
		t.Errorf("groups created twice: %s", strings.Join(d, ", "))
	}
	if got.users != want.users || got.groups != want.groups || got.memberships != want.memberships || got.licences != want.licences || got.managers != want.managers {
		t.Errorf("tenant holds %v, want %v", got, want)
	}
}

func TestGroupsAreNeverCreatedTwice(t *testing.T) {
	if testing.Short() {
		t.Skip("heavy end to end: skipped with -short, run once by make e2e")
	}
	t.Run("a group create answered 504 whose write was applied is looked up, not sent again", func(t *testing.T) {
		w := newWorld(t, withLDIF(tenGroups()), withSource(groupsScope))
		// Every request fails half the time with a 504 whose write was
		// nevertheless applied: creates lose their answers.
		if err := w.tenant.SetFaults(faketenant.FaultConfig{GatewayTimeoutRate: 0.5, GatewayTimeoutAppliedRate: 1}); err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if _, err := w.engine().Sync(w.ctx, engine.SyncOptions{Mode: engine.Full}); err != nil {
				t.Logf("cycle under faults: %v", err)
			}
			w.clock.advance(2 * time.Hour) // every retry is due
		}
		if err := w.tenant.SetFaults(faketenant.FaultConfig{}); err != nil {
			t.Fatal(err)
		}
		w.sync(engine.Full)
		if res := w.sync(engine.Full); !res.Plan.Empty() {
			t.Errorf("after the faults, a full cycle still plans %d operations", len(res.Plan.Ops))
		}
		checkCounts(t, countTenant(w), wantTenGroups)
	})
	t.Run("fresh state against a tenant already provisioned links every group it created", func(t *testing.T) {
		w := newWorld(t, withLDIF(tenGroups()), withSource(groupsScope))
		w.sync(engine.Full)
		checkCounts(t, countTenant(w), wantTenGroups)
		if err := w.sys.Store.ResetChannel(w.ctx, "staff", true); err != nil {
			t.Fatal(err)
		}
		res := w.sync(engine.Full)
		if n := countOps(res, engine.OpCreateGroup); n != 0 {
			t.Errorf("fresh state created %d groups again", n)
		}
		if n := countOps(res, engine.OpLinkGroup); n != 10 {
			t.Errorf("fresh state linked %d groups, want 10", n)
		}
		checkCounts(t, countTenant(w), wantTenGroups)
		if res := w.sync(engine.Full); !res.Plan.Empty() {
			t.Errorf("a further full cycle plans %d operations: %+v", len(res.Plan.Ops), res.Plan.Ops)
		}
	})
	t.Run("a cloud group o365prov did not create is not taken for one of its own", func(t *testing.T) {
		w := newWorld(t, withLDIF(orgLDIF(8)+groupLDIF("Sales", userDN(1))), withSource(groupsScope))
		if _, err := w.tenant.AddGroup(faketenant.SeedGroup{Properties: map[string]any{"displayName": "Sales", "mailNickname": "Sales", "mailEnabled": false, "securityEnabled": true}}); err != nil {
			t.Fatal(err)
		}
		res := w.sync(engine.Full)
		if countOps(res, engine.OpCreateGroup) != 1 || countOps(res, engine.OpLinkGroup) != 0 {
			t.Errorf("without adoptExistingGroups a same-named cloud group was linked: %+v", res.Plan.Ops)
		}
	})
}

func TestEveryFailedObjectIsRetriedByAnIncrementalCycle(t *testing.T) {
	if testing.Short() {
		t.Skip("heavy end to end: skipped with -short, run once by make e2e")
	}
	w := newWorld(t, withLDIF(tenGroups()), withSource(groupsScope))
	if err := w.tenant.SetFaults(faketenant.FaultConfig{ServiceUnavailableRate: 0.6}); err != nil {
		t.Fatal(err)
	}
	res, err := w.engine().Sync(w.ctx, engine.SyncOptions{Mode: engine.Full})
	t.Logf("cycle under a 5xx burst: %v", err)
	if res != nil && res.Failing == 0 && (res.Failed > 0 || res.Blocked > 0) {
		t.Errorf("the cycle had %d failed and %d blocked operations but reports no failing objects", res.Failed, res.Blocked)
	}
	if err := w.tenant.SetFaults(faketenant.FaultConfig{}); err != nil {
		t.Fatal(err)
	}
	// Before any retry is due, the objects are still reported failing.
	res = w.sync(engine.Incremental)
	if got := countTenant(w); got.users < 8 || got.groups < 10 {
		if res.Failing == 0 {
			t.Errorf("the tenant holds %v, yet a cycle before the retries are due reports no failing objects", got)
		}
	}
	for i := 0; i < 4; i++ {
		w.clock.advance(2 * time.Hour)
		w.sync(engine.Incremental)
	}
	checkCounts(t, countTenant(w), wantTenGroups)
	res = w.sync(engine.Incremental)
	if res.Failing != 0 {
		t.Errorf("after the retries %d objects are still failing", res.Failing)
	}
	if res := w.sync(engine.Full); !res.Plan.Empty() {
		t.Errorf("incremental retries left work for a full cycle: %+v", res.Plan.Ops)
	}
}

// TestTheChannelTimeoutBoundsEachGraphRequest: with a tenant slower than
// the channel's timeout, every request times out; each is sent at most
// twice (graph.RetryPolicy.TimeoutAttempts), not as often as a 5xx, and
// the cycle fails saying the tenant cannot be reached.
func TestTheChannelTimeoutBoundsEachGraphRequest(t *testing.T) {
	if testing.Short() {
		t.Skip("heavy end to end: skipped with -short, run once by make e2e")
	}
	w := newWorld(t, withReplaced("    maxThreads: 8\n", "    maxThreads: 8\n    timeout: 1s\n"))
	if err := w.tenant.SetLatency(faketenant.LatencyConfig{Distribution: "uniform", Min: 30 * time.Second, Max: 30 * time.Second}); err != nil {
		t.Fatal(err)
	}
	_, err := w.engine().Sync(w.ctx, engine.SyncOptions{Mode: engine.Full})
	if err == nil || !strings.Contains(err.Error(), "the tenant cannot be reached") || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("with 30 s of latency and a 1 s timeout the cycle ended with %v, want the tenant unreachable for a timeout", err)
	}
	// Before the lookups of the 8 users, the cycle reads the app's
	// credentials, the domains and the deleted users once each.
	retried := w.graph.retried(graph.RetryTransient)
	for path, n := range retried {
		if calls := map[string]int{"/users": 8}[path]; n > max(calls, 1) {
			t.Errorf("requests to %s were sent again %d times: a timed-out request must be sent at most twice", path, n)
		}
	}
	if retried["/users"] == 0 {
		t.Errorf("no timed-out lookup was sent again (retries %v): one resend covers a lost exchange", retried)
	}
}

func TestAStaleApprovalDeprovisionsNoOneWhoIsBack(t *testing.T) {
	const users = 40
	filter := `users: {filter: "(objectClass=inetOrgPerson)"}`
	w := newWorld(t, withLDIF(orgLDIF(users)+tenGroups()[len(orgLDIF(8)):]), withSource(groupsScope))
	w.sync(engine.Full)
	want := countTenant(w)
	// A bind that suddenly sees a quarter of the users (an ACL, a filter):
	// the plan to disable the rest is held.
	w.reconfigure(filter, `users: {filter: "(&(objectClass=inetOrgPerson)(uid=user1*))"}`)
	res, err := w.engine().Sync(w.ctx, engine.SyncOptions{Mode: engine.Full})
	if !errors.Is(err, engine.ErrHeld) {
		t.Fatalf("hiding most users was not held: %v", err)
	}
	// Repaired, then approved late.
	w.reconfigure(`users: {filter: "(&(objectClass=inetOrgPerson)(uid=user1*))"}`, filter)
	if err := engine.Approve(w.ctx, w.sys.Store, "staff", res.Plan.ID, "admin", time.Now()); err != nil {
		t.Fatal(err)
	}
	w.sync(engine.Incremental)
	got := countTenant(w)
	checkCounts(t, got, want)
	enabled := 0
	for _, u := range w.tenant.Users() {
		if u.Deleted.IsZero() && u.AccountEnabled {
			enabled++
		}
	}
	if enabled != users {
		t.Errorf("%d of %d users enabled after the stale approval", enabled, users)
	}
}
