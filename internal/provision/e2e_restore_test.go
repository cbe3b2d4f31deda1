package provision_test

import (
	"strings"
	"testing"
	"time"

	"github.com/o365prov/o365prov/internal/engine"
	"github.com/o365prov/o365prov/internal/faketenant"
	"github.com/o365prov/o365prov/internal/ldapserver"
)

// deleteUserFiveByScope takes user 5 out of scope so o365prov deletes it,
// and returns its Entra id.
func deleteUserFiveByScope(t *testing.T, w *world) string {
	t.Helper()
	w.sync(engine.Full)
	id := w.mustUser(userUPN(5)).ID
	w.modify(userDN(5), ldapserver.Replace("description", "on leave"))
	w.sync(engine.Incremental)
	if !deleted(w.tenant, "User 5") {
		t.Fatal("out of scope, but not deleted")
	}
	w.clock.advance(24 * time.Hour)
	return id
}

func restoreWorld(t *testing.T) *world {
	return newWorld(t, withChannel("    options: {removeUserAction: delete}\n"),
		withReplaced(`users: {filter: "(objectClass=inetOrgPerson)"}`, `users: {filter: "(&(objectClass=inetOrgPerson)(!(description=on leave)))"}`))
}

// docs/graph.md §14: Entra lets another user take a deleted user's
// addresses; the restore then conflicts, and o365prov restores again
// dropping the addresses the other user holds.
func TestAUserBackWhoseMailAnotherTookIsRestoredWithoutIt(t *testing.T) {
	w := restoreWorld(t)
	id := deleteUserFiveByScope(t, w)
	other, err := w.tenant.AddUser(faketenant.SeedUser{Properties: map[string]any{
		"userPrincipalName": "someone.else@contoso.com", "displayName": "Someone Else", "mailNickname": "someoneelse",
		"accountEnabled": true, "mail": userUPN(5),
	}})
	if err != nil {
		t.Fatal(err)
	}
	w.modify(userDN(5), ldapserver.Replace("description"))
	res := w.sync(engine.Incremental)
	if len(res.Failures) != 0 {
		t.Fatalf("failures %v", res.Failures)
	}
	u := w.mustUser(userUPN(5))
	if u.ID != id || !u.Deleted.IsZero() {
		t.Fatalf("user 5 %+v, want id %s restored", u, id)
	}
	if o, _ := w.tenant.User(other); !strings.EqualFold(o.Mail, userUPN(5)) {
		t.Fatalf("the other user lost its mail: %+v", o)
	}
	if err := w.tenant.CheckConsistency(); err != nil {
		t.Fatal(err)
	}
}

// docs/graph.md §14: when another active user holds the UPN the directory
// wants, the restore is refused, the failure is reported, and neither user
// is changed.
func TestAUserBackWhoseUPNAnotherTookIsReportedNotForced(t *testing.T) {
	w := restoreWorld(t)
	id := deleteUserFiveByScope(t, w)
	other, err := w.tenant.AddUser(faketenant.SeedUser{Properties: map[string]any{
		"userPrincipalName": userUPN(5), "displayName": "Hand Made", "mailNickname": "handmade", "accountEnabled": true,
	}})
	if err != nil {
		t.Fatal(err)
	}
	w.modify(userDN(5), ldapserver.Replace("description"))
	res := w.sync(engine.Incremental)
	if len(res.Failures) != 1 || !strings.Contains(res.Failures[0].Err, "userPrincipalName") {
		t.Fatalf("failures %v, want one naming the userPrincipalName conflict", res.Failures)
	}
	if !deleted(w.tenant, "User 5") {
		t.Error("user 5 left deleted items although its UPN is taken")
	}
	if o, ok := w.tenant.User(other); !ok || o.DisplayName != "Hand Made" || !o.Deleted.IsZero() {
		t.Errorf("the user holding the UPN changed: %+v", o)
	}
	if u, ok := w.tenant.User(id); !ok || u.Deleted.IsZero() {
		t.Errorf("user 5 %+v, want still deleted", u)
	}
}
