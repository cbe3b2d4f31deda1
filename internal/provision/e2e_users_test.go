package provision_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/o365prov/o365prov/internal/engine"
	"github.com/o365prov/o365prov/internal/faketenant"
	"github.com/o365prov/o365prov/internal/ldapserver"
	"github.com/o365prov/o365prov/internal/state"
)

func TestInitialSyncCreatesEveryUserWithOneWriteEach(t *testing.T) {
	w := newWorld(t, withReplaced("skuId: '${o365Sku}'", "skuId: ''\n        manager: ''"))
	res := w.sync(engine.Full)
	if res.Failed > 0 || len(res.Plan.Problems) > 0 {
		t.Fatalf("failures %v problems %v", res.Failures, res.Plan.Problems)
	}
	for i := 0; i < 8; i++ {
		u := w.mustUser(userUPN(i))
		if !u.AccountEnabled || u.DisplayName != "User "+itoa(i) || u.UsageLocation != "GB" || u.OnPremisesImmutableID == "" {
			t.Errorf("user %d: %+v", i, u)
		}
	}
	if got := w.writes(); got != 8 {
		t.Errorf("writes = %d, want 8 (one POST per user without licence or manager)", got)
	}
}

func TestAnAttributeChangeIsOnePatchOfThatField(t *testing.T) {
	w := newWorld(t)
	w.sync(engine.Full)
	before := w.writes()
	w.modify(userDN(3), ldapserver.Replace("title", "Architect"))
	res := w.sync(engine.Incremental)
	if len(res.Plan.Ops) != 1 || res.Plan.Ops[0].Type != engine.OpUpdateUser {
		t.Fatalf("plan = %+v, want one updateUser", res.Plan.Ops)
	}
	if f := res.Plan.Ops[0].Fields; len(f) != 1 || f["jobTitle"] != "Architect" {
		t.Errorf("patched fields = %v, want only jobTitle", f)
	}
	if got := w.writes() - before; got != 1 {
		t.Errorf("writes = %d, want 1", got)
	}
	if p, _ := w.mustUser(userUPN(3)).Properties["jobTitle"].(string); p != "Architect" {
		t.Errorf("jobTitle in the tenant = %q", p)
	}
	t.Run("the audit log says what, why, and Graph's request-id", func(t *testing.T) {
		entries, err := w.sys.Store.QueryAudit(w.ctx, state.AuditQuery{Channel: "staff", Operation: "updateUser"})
		if err != nil || len(entries) != 1 {
			t.Fatalf("audit %v %v", entries, err)
		}
		e := entries[0]
		if e.DN != userDN(3) || e.Result != "ok" || e.RequestID == "" || !strings.Contains(e.Detail, "jobTitle — changed in the directory") {
			t.Errorf("audit entry %+v", e)
		}
	})
}

func TestANoChangeCycleWritesNothing(t *testing.T) {
	w := newWorld(t)
	w.sync(engine.Full)
	before := w.writes()
	for _, mode := range []engine.Mode{engine.Incremental, engine.Full} {
		res := w.sync(mode)
		if !res.Plan.Empty() {
			t.Errorf("%s cycle planned %v", mode, res.Plan.Ops)
		}
	}
	if got := w.writes() - before; got != 0 {
		t.Errorf("writes = %d, want 0", got)
	}
}

func TestDisabledInTheDirectoryIsDisabledThenEnabledAgain(t *testing.T) {
	w := newWorld(t)
	w.sync(engine.Full)
	w.modify(userDN(4), ldapserver.Replace("nsAccountLock", "true"))
	w.sync(engine.Incremental)
	if w.mustUser(userUPN(4)).AccountEnabled {
		t.Fatal("user 4 still enabled after being disabled in the directory")
	}
	w.modify(userDN(4), ldapserver.Replace("nsAccountLock", "false"), ldapserver.Replace("title", "Back"))
	res := w.sync(engine.Incremental)
	if len(res.Plan.Ops) != 1 || res.Plan.Ops[0].Type != engine.OpEnableUser {
		t.Fatalf("plan = %+v, want one enableUser carrying the change too", res.Plan.Ops)
	}
	u := w.mustUser(userUPN(4))
	if !u.AccountEnabled || u.Properties["jobTitle"] != "Back" {
		t.Errorf("user 4 = %+v", u)
	}
}

func TestRemovedUsersFollowRemoveUserAction(t *testing.T) {
	if testing.Short() {
		t.Skip("heavy end to end: skipped with -short, run once by make e2e")
	}
	t.Run("disable blocks sign-in and keeps the user", func(t *testing.T) {
		w := newWorld(t)
		w.sync(engine.Full)
		if err := w.ldap.Delete(userDN(5)); err != nil {
			t.Fatal(err)
		}
		w.sync(engine.Full)
		u := w.mustUser(userUPN(5))
		if u.AccountEnabled {
			t.Error("deleted from the directory, but still enabled in the tenant")
		}
	})
	t.Run("delete moves the user to deleted items", func(t *testing.T) {
		w := newWorld(t, withChannel("    options: {removeUserAction: delete}\n"))
		w.sync(engine.Full)
		if err := w.ldap.Delete(userDN(5)); err != nil {
			t.Fatal(err)
		}
		w.sync(engine.Full)
		if _, ok := w.user(userUPN(5)); ok {
			t.Error("still a live user in the tenant")
		}
		if !deleted(w.tenant, "User 5") {
			t.Error("not in deleted items")
		}
	})
}

func TestOptionsSwitchedOff(t *testing.T) {
	if testing.Short() {
		t.Skip("heavy end to end: skipped with -short, run once by make e2e")
	}
	t.Run("userCreate off creates nobody", func(t *testing.T) {
		w := newWorld(t, withChannel("    options: {userCreate: false}\n"))
		res := w.sync(engine.Full)
		if len(w.tenant.Users()) != 0 || len(res.Plan.Skipped) != 8 {
			t.Errorf("users %d, skipped %d", len(w.tenant.Users()), len(res.Plan.Skipped))
		}
	})
	t.Run("userUpdate off leaves changes alone", func(t *testing.T) {
		w := newWorld(t, withChannel("    options: {userUpdate: false}\n"))
		w.sync(engine.Full)
		w.modify(userDN(3), ldapserver.Replace("title", "Architect"))
		w.sync(engine.Incremental)
		if w.mustUser(userUPN(3)).Properties["jobTitle"] != "Engineer" {
			t.Error("updated although userUpdate is off")
		}
	})
	t.Run("userDisableDelete off leaves disabled users enabled", func(t *testing.T) {
		w := newWorld(t, withChannel("    options: {userDisableDelete: false}\n"))
		w.sync(engine.Full)
		w.modify(userDN(4), ldapserver.Replace("nsAccountLock", "true"))
		res := w.sync(engine.Incremental)
		if !w.mustUser(userUPN(4)).AccountEnabled || len(res.Plan.Skipped) != 1 {
			t.Errorf("enabled %v, skipped %v", w.mustUser(userUPN(4)).AccountEnabled, res.Plan.Skipped)
		}
	})
	t.Run("provisionDisabledUsers off does not create disabled users", func(t *testing.T) {
		w := newWorld(t, withChannel("    options: {provisionDisabledUsers: false}\n"))
		w.modify(userDN(6), ldapserver.Replace("nsAccountLock", "true"))
		w.sync(engine.Full)
		if _, ok := w.user(userUPN(6)); ok {
			t.Error("a disabled user was created")
		}
		if _, ok := w.user(userUPN(5)); !ok {
			t.Error("an enabled user was not created")
		}
	})
	t.Run("provisionDisabledUsers on creates them disabled", func(t *testing.T) {
		w := newWorld(t)
		w.modify(userDN(6), ldapserver.Replace("nsAccountLock", "true"))
		w.sync(engine.Full)
		if w.mustUser(userUPN(6)).AccountEnabled {
			t.Error("created enabled")
		}
	})
}

func TestLeavingTheScopeGroupDeprovisions(t *testing.T) {
	ldif := orgLDIF(6) + `dn: cn=o365,ou=groups,dc=contoso,dc=com
objectClass: groupOfNames
cn: o365
member: ` + userDN(0) + `
member: ` + userDN(1) + `
member: ` + userDN(2) + `
member: ` + userDN(3) + `

`
	w := newWorld(t, withLDIF(ldif), withReplaced(`users: {filter: "(objectClass=inetOrgPerson)"}`, `users: {groupDN: "cn=o365,ou=groups,dc=contoso,dc=com"}`))
	w.sync(engine.Full)
	if len(w.tenant.Users()) != 4 {
		t.Fatalf("users = %d, want the 4 members of the scope group", len(w.tenant.Users()))
	}
	w.modify("cn=o365,ou=groups,dc=contoso,dc=com", ldapserver.DeleteValues("member", userDN(3)))
	res := w.sync(engine.Incremental)
	if w.mustUser(userUPN(3)).AccountEnabled {
		t.Errorf("left the scope group but still enabled; plan %+v", res.Plan.Ops)
	}
	if !w.mustUser(userUPN(2)).AccountEnabled {
		t.Error("a member still in scope was disabled")
	}
	t.Run("joining the scope group provisions", func(t *testing.T) {
		w.modify("cn=o365,ou=groups,dc=contoso,dc=com", ldapserver.AddValues("member", userDN(3), userDN(5)))
		w.sync(engine.Incremental)
		if !w.mustUser(userUPN(3)).AccountEnabled {
			t.Error("back in the scope group but still disabled")
		}
		if _, ok := w.user(userUPN(5)); !ok {
			t.Error("new in the scope group but not created")
		}
	})
}

func TestFirstContactWithExistingCloudUsers(t *testing.T) {
	if testing.Short() {
		t.Skip("heavy end to end: skipped with -short, run once by make e2e")
	}
	t.Run("a hard match on onPremisesImmutableId links without creating", func(t *testing.T) {
		w := newWorld(t)
		iid := immutableIDOf(t, w, userDN(2))
		if _, err := w.tenant.AddUser(faketenant.SeedUser{Properties: map[string]any{
			"userPrincipalName": "someone.else@contoso.com", "displayName": "Old Name", "mailNickname": "old",
			"accountEnabled": true, "onPremisesImmutableId": iid, "usageLocation": "GB",
		}}); err != nil {
			t.Fatal(err)
		}
		res := w.sync(engine.Full)
		if n := countOps(res, engine.OpLinkUser); n != 1 {
			t.Fatalf("links = %d, want 1", n)
		}
		u := w.mustUser(userUPN(2))
		if u.OnPremisesImmutableID != iid || u.DisplayName != "User 2" || len(w.tenant.Users()) != 8 {
			t.Errorf("linked user %+v; users %d", u, len(w.tenant.Users()))
		}
	})
	t.Run("a soft match on userPrincipalName links and anchors it", func(t *testing.T) {
		w := newWorld(t)
		if _, err := w.tenant.AddUser(faketenant.SeedUser{Properties: map[string]any{
			"userPrincipalName": userUPN(2), "displayName": "User 2", "mailNickname": "user2", "accountEnabled": true,
		}}); err != nil {
			t.Fatal(err)
		}
		res := w.sync(engine.Full)
		if n := countOps(res, engine.OpLinkUser); n != 1 {
			t.Fatalf("links = %d, want 1", n)
		}
		if u := w.mustUser(userUPN(2)); u.OnPremisesImmutableID != immutableIDOf(t, w, userDN(2)) {
			t.Errorf("not anchored: %+v", u)
		}
		if len(w.tenant.Users()) != 8 {
			t.Errorf("users = %d, want 8 (no duplicate)", len(w.tenant.Users()))
		}
	})
	t.Run("a UPN held by a user anchored elsewhere is not taken over", func(t *testing.T) {
		w := newWorld(t)
		if _, err := w.tenant.AddUser(faketenant.SeedUser{Properties: map[string]any{
			"userPrincipalName": userUPN(2), "displayName": "Impostor", "mailNickname": "imp", "accountEnabled": true,
			"onPremisesImmutableId": "c29tZW9uZS1lbHNl",
		}}); err != nil {
			t.Fatal(err)
		}
		res := w.sync(engine.Full)
		if len(res.Plan.Problems) != 1 || !strings.Contains(res.Plan.Problems[0].Reason, "anchored to another") {
			t.Errorf("problems = %v", res.Plan.Problems)
		}
		if w.mustUser(userUPN(2)).DisplayName != "Impostor" {
			t.Error("the other user was changed")
		}
	})
}

func TestAUserBackWithin30DaysIsRestored(t *testing.T) {
	w := newWorld(t, withChannel("    options: {removeUserAction: delete}\n"),
		withReplaced(`users: {filter: "(objectClass=inetOrgPerson)"}`, `users: {filter: "(&(objectClass=inetOrgPerson)(!(description=on leave)))"}`))
	w.sync(engine.Full)
	id := w.mustUser(userUPN(5)).ID
	w.modify(userDN(5), ldapserver.Replace("description", "on leave"))
	w.sync(engine.Incremental)
	if !deleted(w.tenant, "User 5") {
		t.Fatal("out of scope, but not deleted")
	}
	w.clock.advance(10 * 24 * time.Hour)
	w.modify(userDN(5), ldapserver.Replace("description"))
	res := w.sync(engine.Incremental)
	if n := countOps(res, engine.OpRestoreUser); n != 1 {
		t.Fatalf("restores = %d, plan %+v", n, res.Plan.Ops)
	}
	u := w.mustUser(userUPN(5))
	if u.ID != id || !u.AccountEnabled {
		t.Errorf("restored %+v, want id %s enabled", u, id)
	}
	t.Run("after 30 days it is created again", func(t *testing.T) {
		w.modify(userDN(5), ldapserver.Replace("description", "on leave"))
		w.sync(engine.Incremental)
		w.clock.advance(31 * 24 * time.Hour)
		w.tenant.Advance(31 * 24 * time.Hour)
		w.modify(userDN(5), ldapserver.Replace("description"))
		res := w.sync(engine.Incremental)
		if n := countOps(res, engine.OpCreateUser); n != 1 {
			t.Fatalf("creates = %d, plan %+v, failures %v", n, res.Plan.Ops, res.Failures)
		}
		if u := w.mustUser(userUPN(5)); u.ID == id {
			t.Error("same id after Entra purged the user")
		}
	})
}

func TestAMassRemovalIsHeldUntilApproved(t *testing.T) {
	w := newWorld(t, withLDIF(orgLDIF(30)), withChannel("    options: {deleteThreshold: {count: 5, percent: 0}}\n"))
	w.sync(engine.Full)
	for i := 10; i < 30; i++ {
		if err := w.ldap.Delete(userDN(i)); err != nil {
			t.Fatal(err)
		}
	}
	_, err := w.engine().Sync(w.ctx, engine.SyncOptions{Mode: engine.Full})
	if !errors.Is(err, engine.ErrHeld) {
		t.Fatalf("err = %v, want the plan held", err)
	}
	if !w.mustUser(userUPN(20)).AccountEnabled {
		t.Fatal("applied although held")
	}
	plans, err := w.sys.Store.Plans(w.ctx, "staff")
	if err != nil || len(plans) != 1 || plans[0].Status != "held" {
		t.Fatalf("plans %v %v", plans, err)
	}
	t.Run("the same plan held again keeps its id", func(t *testing.T) {
		_, err := w.engine().Sync(w.ctx, engine.SyncOptions{Mode: engine.Full})
		if !errors.Is(err, engine.ErrHeld) || !strings.Contains(err.Error(), plans[0].ID) {
			t.Fatalf("err = %v, want plan %s held again", err, plans[0].ID)
		}
	})
	if err := engine.Approve(w.ctx, w.sys.Store, "staff", plans[0].ID, "tester", w.clock.now()); err != nil {
		t.Fatal(err)
	}
	w.sync(engine.Incremental)
	for i := 10; i < 30; i++ {
		if w.mustUser(userUPN(i)).AccountEnabled {
			t.Fatalf("user %d still enabled after approval", i)
		}
	}
	if !w.mustUser(userUPN(9)).AccountEnabled {
		t.Error("a user still in the directory was disabled")
	}
}

func TestABadMappingExpressionFailsAtStart(t *testing.T) {
	w := newWorld(t)
	w.yaml = strings.Replace(w.yaml, "skuId: '${o365Sku}'", `skuId: {expr: 'split(attr("o365Sku")'}`, 1)
	cfg, err := parseWorld(w)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := engine.New(cfg.Channels[0], nil, nil, nil); err == nil || !strings.Contains(err.Error(), "skuId") {
		t.Fatalf("err = %v, want the field named", err)
	}
}

func countOps(res *engine.Result, typ engine.OpType) int {
	n := 0
	for _, op := range res.Plan.Ops {
		if op.Type == typ {
			n++
		}
	}
	return n
}

// deleted reports whether the tenant holds the user with this display name
// in deleted items.
func deleted(t *faketenant.Tenant, displayName string) bool {
	for _, d := range t.DeletedItems() {
		if d.Kind == "user" && d.DisplayName == displayName {
			return true
		}
	}
	return false
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestAScheduledReconciliationFindsDeletionsByEnumeration(t *testing.T) {
	w := newWorld(t)
	w.sync(engine.Full)
	if err := w.ldap.Delete(userDN(5)); err != nil {
		t.Fatal(err)
	}
	if res := w.sync(engine.Incremental); !res.Plan.Empty() {
		t.Fatalf("an incremental cycle cannot see a deletion in this directory, yet planned %+v", res.Plan.Ops)
	}
	res := w.sync(engine.Reconcile)
	if len(res.Plan.Ops) != 1 || res.Plan.Ops[0].Type != engine.OpDisableUser || res.Plan.Ops[0].DN != userDN(5) {
		t.Fatalf("plan = %+v, want user 5 disabled", res.Plan.Ops)
	}
}

// TestAnUnreadableEntryIsReportedNotDeprovisioned: an entry whose account
// status cannot be parsed is skipped by the directory; it must be reported,
// and the user provisioned for it left alone — an entry that cannot be read
// is not an entry that is gone.
func TestAnUnreadableEntryIsReportedNotDeprovisioned(t *testing.T) {
	w := newWorld(t, withReplaced(`accountStatus: {algorithm: FLAG, attribute: nsAccountLock, flagValue: "true", flagMeansDisabled: true}`,
		`accountStatus: {algorithm: AD, attribute: employeeType}`))
	w.sync(engine.Full)
	w.modify(userDN(4), ldapserver.Replace("employeeType", "not a number"))
	for _, mode := range []engine.Mode{engine.Incremental, engine.Full, engine.Reconcile} {
		res := w.sync(mode)
		if !res.Plan.Empty() {
			t.Errorf("%s cycle planned %+v for an unreadable entry", mode, res.Plan.Ops)
		}
		// A reconciliation enumerates GUIDs only, so it finds the entry in
		// scope without reading (or reporting) its status.
		if mode != engine.Reconcile && (len(res.Plan.Problems) != 1 || res.Plan.Problems[0].DN != userDN(4)) {
			t.Errorf("%s cycle problems = %+v, want the entry reported", mode, res.Plan.Problems)
		}
	}
	if !w.mustUser(userUPN(4)).AccountEnabled {
		t.Fatal("an unreadable entry's user was deprovisioned")
	}
}
