package faketenant

import (
	"net/http"
	"testing"
	"time"
)

func TestDeletedItems(t *testing.T) {
	f := newFixture(t)
	u := f.createUser("gone", nil)
	want(t, f.call(http.MethodDelete, "/v1.0/users/"+u, nil), http.StatusNoContent)

	t.Run("graph.md §1.5: listing deleted items without a type is refused", func(t *testing.T) {
		r := f.call(http.MethodGet, "/v1.0/directory/deletedItems", nil)
		want(t, r, http.StatusBadRequest, "Request_UnsupportedQuery")
		if r.errMessage() != "Searches against this resource are not supported. Only specific instances can be queried." {
			t.Fatalf("message %q", r.errMessage())
		}
	})

	t.Run("graph.md §1.5: the typed list carries @odata.type and deletedDateTime", func(t *testing.T) {
		r := f.call(http.MethodGet, "/v1.0/directory/deletedItems/microsoft.graph.user?$select=id,deletedDateTime,userPrincipalName", nil)
		want(t, r, http.StatusOK)
		v := r.values()
		if len(v) != 1 || v[0]["@odata.type"] != "#microsoft.graph.user" || v[0]["deletedDateTime"] == nil {
			t.Fatalf("%s", r.raw)
		}
	})

	t.Run("graph.md §1.5: a deleted item is read by id", func(t *testing.T) {
		r := f.call(http.MethodGet, "/v1.0/directory/deletedItems/"+u, nil)
		want(t, r, http.StatusOK)
		if r.str("id") != u || r.str("deletedDateTime") == "" {
			t.Fatalf("%s", r.raw)
		}
	})

	t.Run("graph.md §1.5: restore is 200 with the object and its @odata.type", func(t *testing.T) {
		r := f.call(http.MethodPost, "/v1.0/directory/deletedItems/"+u+"/restore", nil)
		want(t, r, http.StatusOK)
		if r.str("@odata.type") != "#microsoft.graph.user" || r.str("id") != u || !endsWith(r.str("@odata.context"), "#directoryObjects/$entity") {
			t.Fatalf("%s", r.raw)
		}
		want(t, f.call(http.MethodGet, "/v1.0/users/"+u, nil), http.StatusOK)
	})

	t.Run("graph.md §1.5: a permanent delete is 204 and the item is gone", func(t *testing.T) {
		want(t, f.call(http.MethodDelete, "/v1.0/users/"+u, nil), http.StatusNoContent)
		want(t, f.call(http.MethodDelete, "/v1.0/directory/deletedItems/"+u, nil), http.StatusNoContent)
		want(t, f.call(http.MethodGet, "/v1.0/directory/deletedItems/"+u, nil), http.StatusNotFound)
	})

	t.Run("graph.md §1.5: deleted items expire after 30 days of tenant time", func(t *testing.T) {
		v := f.createUser("expiring", nil)
		want(t, f.call(http.MethodDelete, "/v1.0/users/"+v, nil), http.StatusNoContent)
		f.tenant.Advance(29 * 24 * time.Hour)
		want(t, f.call(http.MethodGet, "/v1.0/directory/deletedItems/"+v, nil), http.StatusOK)
		f.tenant.Advance(25 * time.Hour)
		want(t, f.call(http.MethodGet, "/v1.0/directory/deletedItems/"+v, nil), http.StatusNotFound)
		f.createUser("expiring", nil) // the UPN is free again
	})

	t.Run("restoring needs User.ReadWrite.All, not just Directory.ReadWrite.All", func(t *testing.T) {
		f2 := newFixture(t, withTestApps)
		w := f2.createUser("dironly", nil)
		want(t, f2.call(http.MethodDelete, "/v1.0/users/"+w, nil), http.StatusNoContent)
		want(t, f2.callWith(f2.tokenFor(dirClientID), http.MethodPost, "/v1.0/directory/deletedItems/"+w+"/restore", nil), http.StatusForbidden)
	})
}

func endsWith(s, suffix string) bool {
	return len(s) >= len(suffix) && s[len(s)-len(suffix):] == suffix
}
