package faketenant

import (
	"net/http"
	"slices"
	"testing"
)

func detailTarget(r resp) string {
	e, _ := r.body["error"].(map[string]any)
	details, _ := e["details"].([]any)
	if len(details) == 0 {
		return ""
	}
	d0, _ := details[0].(map[string]any)
	s, _ := d0["target"].(string)
	return s
}

// docs/graph.md §14: another user may take a soft-deleted user's UPN or
// addresses; restoring the deleted one then conflicts unless it is given a
// new UPN or told to drop the conflicting proxy addresses.
func TestRestoreAfterTheUPNWasTaken(t *testing.T) {
	f := newFixture(t)
	old := f.createUser("pat", map[string]any{"mail": "pat@contoso.com", "onPremisesImmutableId": "UEFU"})
	want(t, f.call(http.MethodDelete, "/v1.0/users/"+old, nil), http.StatusNoContent)
	taker := f.createUser("pat", nil)

	t.Run("a plain restore is the duplicate-value error on userPrincipalName", func(t *testing.T) {
		r := f.call(http.MethodPost, "/v1.0/directory/deletedItems/"+old+"/restore", nil)
		want(t, r, http.StatusBadRequest, "Request_BadRequest")
		if detailTarget(r) != "userPrincipalName" {
			t.Fatalf("conflict on %q: %s", detailTarget(r), r.raw)
		}
		if u, ok := f.tenant.User(old); !ok || u.Deleted.IsZero() {
			t.Fatal("a refused restore brought the user back")
		}
	})
	t.Run("a new UPN on a domain the tenant lacks is refused", func(t *testing.T) {
		r := f.call(http.MethodPost, "/v1.0/directory/deletedItems/"+old+"/restore", map[string]any{"newUserPrincipalName": "pat@nosuch.example"})
		want(t, r, http.StatusBadRequest, "Request_BadRequest")
	})
	t.Run("an unknown option is refused with the allowed ones named", func(t *testing.T) {
		r := f.call(http.MethodPost, "/v1.0/directory/deletedItems/"+old+"/restore", map[string]any{"force": true})
		want(t, r, http.StatusBadRequest, "Request_BadRequest")
	})
	t.Run("a restore with a new UPN brings the user back under it", func(t *testing.T) {
		r := f.call(http.MethodPost, "/v1.0/directory/deletedItems/"+old+"/microsoft.graph.restore", map[string]any{"newUserPrincipalName": "pat.returned@contoso.com"})
		want(t, r, http.StatusOK)
		if r.str("id") != old || r.str("userPrincipalName") != "pat.returned@contoso.com" {
			t.Fatalf("restored %s", r.raw)
		}
		if u, _ := f.tenant.User(taker); u.UserPrincipalName != "pat@contoso.com" || !u.Deleted.IsZero() {
			t.Fatalf("the user holding the UPN changed: %+v", u)
		}
	})
	if err := f.tenant.CheckConsistency(); err != nil {
		t.Fatal(err)
	}
}

func TestRestoreWithAProxyAddressConflict(t *testing.T) {
	f := newFixture(t)
	old := f.createUser("sam", map[string]any{"mail": "sam@contoso.com"})
	want(t, f.call(http.MethodDelete, "/v1.0/users/"+old, nil), http.StatusNoContent)
	f.createUser("samuel", map[string]any{"mail": "sam@contoso.com"})

	t.Run("a plain restore is the duplicate-value error on proxyAddresses", func(t *testing.T) {
		r := f.call(http.MethodPost, "/v1.0/directory/deletedItems/"+old+"/restore", nil)
		want(t, r, http.StatusBadRequest, "Request_BadRequest")
		if detailTarget(r) != "proxyAddresses" {
			t.Fatalf("conflict on %q: %s", detailTarget(r), r.raw)
		}
	})
	t.Run("autoReconcileProxyConflict drops the taken addresses and restores", func(t *testing.T) {
		r := f.call(http.MethodPost, "/v1.0/directory/deletedItems/"+old+"/graph.restore", map[string]any{"autoReconcileProxyConflict": true})
		want(t, r, http.StatusOK)
		u, _ := f.tenant.User(old)
		if !u.Deleted.IsZero() || u.Mail != "" {
			t.Fatalf("restored user %+v", u)
		}
		if addrs, _ := u.Properties["proxyAddresses"].([]string); slices.Contains(addrs, "SMTP:sam@contoso.com") {
			t.Fatalf("proxyAddresses %v keep the taken address", addrs)
		}
	})
	if err := f.tenant.CheckConsistency(); err != nil {
		t.Fatal(err)
	}
}

// A restore with nothing in the way still takes no body, as graph.md §1.5
// documents, and the SDK sends none.
func TestRestoreWithoutConflictNeedsNoBody(t *testing.T) {
	f := newFixture(t)
	id := f.createUser("kim", map[string]any{"mail": "kim@contoso.com"})
	want(t, f.call(http.MethodDelete, "/v1.0/users/"+id, nil), http.StatusNoContent)
	r := f.call(http.MethodPost, "/v1.0/directory/deletedItems/"+id+"/restore", nil)
	want(t, r, http.StatusOK)
	if u, _ := f.tenant.User(id); u.Mail != "kim@contoso.com" || u.UserPrincipalName != "kim@contoso.com" {
		t.Fatalf("restored %+v", u)
	}
	if err := f.tenant.CheckConsistency(); err != nil {
		t.Fatal(err)
	}
}
