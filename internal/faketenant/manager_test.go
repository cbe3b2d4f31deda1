package faketenant

import (
	"net/http"
	"testing"
)

func TestManager(t *testing.T) {
	f := newFixture(t)
	boss := f.createUser("boss", nil)
	emp := f.createUser("emp", nil)
	ref := func(id string) map[string]any {
		return map[string]any{"@odata.id": "https://graph.microsoft.com/v1.0/users/" + id}
	}

	t.Run("graph.md §2: without a manager GET manager is 404 with the 'manager' message", func(t *testing.T) {
		r := f.call(http.MethodGet, "/v1.0/users/"+emp+"/manager", nil)
		want(t, r, http.StatusNotFound, "Request_ResourceNotFound")
		if r.errMessage() != "Resource 'manager' does not exist or one of its queried reference-property objects are not present." {
			t.Fatalf("message %q", r.errMessage())
		}
	})

	t.Run("graph.md §2: PUT manager/$ref is 204 and GET manager returns the directoryObject", func(t *testing.T) {
		want(t, f.call(http.MethodPut, "/v1.0/users/"+emp+"/manager/$ref", ref(boss)), http.StatusNoContent)
		r := f.call(http.MethodGet, "/v1.0/users/emp@contoso.com/manager", nil)
		want(t, r, http.StatusOK)
		if r.str("id") != boss || r.str("@odata.type") != "#microsoft.graph.user" {
			t.Fatalf("%s", r.raw)
		}
	})

	t.Run("graph.md §2: $expand=manager embeds the manager", func(t *testing.T) {
		r := f.call(http.MethodGet, "/v1.0/users/"+emp+"?$select=id&$expand=manager($select=id,displayName)", nil)
		m, _ := r.body["manager"].(map[string]any)
		if m["id"] != boss || m["displayName"] != "User boss" {
			t.Fatalf("%s", r.raw)
		}
	})

	t.Run("graph.md §2: a manager that does not exist is 404", func(t *testing.T) {
		want(t, f.call(http.MethodPut, "/v1.0/users/"+emp+"/manager/$ref", ref("00000000-0000-4000-8000-00000000beef")), http.StatusNotFound, "Request_ResourceNotFound")
	})

	t.Run("a user cannot be their own manager", func(t *testing.T) {
		want(t, f.call(http.MethodPut, "/v1.0/users/"+emp+"/manager/$ref", ref(emp)), http.StatusBadRequest)
	})

	t.Run("graph.md §2: DELETE manager/$ref is 204 and the manager is gone", func(t *testing.T) {
		want(t, f.call(http.MethodDelete, "/v1.0/users/"+emp+"/manager/$ref", nil), http.StatusNoContent)
		want(t, f.call(http.MethodGet, "/v1.0/users/"+emp+"/manager", nil), http.StatusNotFound)
	})

	t.Run("deleting the manager for good clears the link", func(t *testing.T) {
		want(t, f.call(http.MethodPut, "/v1.0/users/"+emp+"/manager/$ref", ref(boss)), http.StatusNoContent)
		want(t, f.call(http.MethodDelete, "/v1.0/users/"+boss, nil), http.StatusNoContent)
		want(t, f.call(http.MethodGet, "/v1.0/users/"+emp+"/manager", nil), http.StatusNotFound)
		want(t, f.call(http.MethodDelete, "/v1.0/directory/deletedItems/"+boss, nil), http.StatusNoContent)
		if u, _ := f.tenant.User(emp); u.Manager != "" {
			t.Fatalf("manager %q survived a permanent delete", u.Manager)
		}
		if err := f.tenant.CheckConsistency(); err != nil {
			t.Fatal(err)
		}
	})
}
