package faketenant

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// deltaRound follows nextLinks from start until a deltaLink arrives and
// returns every item with the deltaLink.
func (f *fixture) deltaRound(start string) ([]map[string]any, string) {
	f.t.Helper()
	var items []map[string]any
	next := start
	for pages := 0; pages < 100; pages++ {
		r := f.call(http.MethodGet, next, nil)
		want(f.t, r, http.StatusOK)
		items = append(items, r.values()...)
		if dl := r.str("@odata.deltaLink"); dl != "" {
			if r.str("@odata.nextLink") != "" {
				f.t.Fatal("a page has both a nextLink and a deltaLink")
			}
			return items, dl
		}
		next = r.str("@odata.nextLink")
		if next == "" {
			f.t.Fatalf("a delta page has neither link: %s", r.raw)
		}
	}
	f.t.Fatal("delta round did not end")
	return nil, ""
}

func byID(items []map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, it := range items {
		out[it["id"].(string)] = it
	}
	return out
}

// docs/graph.md §8: users delta — an initial round over every user in
// pages, then only what changed, with @removed for deletions.
func TestUsersDelta(t *testing.T) {
	f := newFixture(t)
	var ids []string
	for i := range 130 {
		ids = append(ids, f.createUser(fmt.Sprintf("delta%03d", i), nil))
	}
	boss := ids[0]
	items, link := f.deltaRound("/v1.0/users/delta?$select=displayName,userPrincipalName,jobTitle,manager")
	t.Run("the initial round lists every user once, across pages", func(t *testing.T) {
		if got := len(byID(items)); got != 130 || len(items) != 130 {
			t.Fatalf("%d items, %d distinct, want 130", len(items), got)
		}
		if _, ok := items[0]["userPrincipalName"]; !ok {
			t.Fatalf("selected property missing: %v", items[0])
		}
		if !strings.Contains(link, "/v1.0/users/delta?$deltatoken=") {
			t.Fatalf("deltaLink %s", link)
		}
	})
	t.Run("a round with no change is empty but still ends in a deltaLink", func(t *testing.T) {
		items, next := f.deltaRound(link)
		if len(items) != 0 || next == "" {
			t.Fatalf("items %v, link %q", items, next)
		}
		link = next
	})
	want(t, f.call(http.MethodPatch, "/v1.0/users/"+ids[1], map[string]any{"jobTitle": "Changed"}), http.StatusNoContent)
	want(t, f.call(http.MethodPut, "/v1.0/users/"+ids[2]+"/manager/$ref", map[string]any{"@odata.id": "https://graph.microsoft.com/v1.0/users/" + boss}), http.StatusNoContent)
	want(t, f.call(http.MethodDelete, "/v1.0/users/"+ids[3], nil), http.StatusNoContent)
	want(t, f.call(http.MethodDelete, "/v1.0/users/"+ids[4], nil), http.StatusNoContent)
	want(t, f.call(http.MethodDelete, "/v1.0/directory/deletedItems/"+ids[4], nil), http.StatusNoContent)
	added := f.createUser("deltanew", nil)
	t.Run("the next round holds only the changes", func(t *testing.T) {
		items, next := f.deltaRound(link)
		got := byID(items)
		if len(got) != 5 {
			t.Fatalf("%d items, want 5: %v", len(got), items)
		}
		if got[ids[1]]["jobTitle"] != "Changed" {
			t.Errorf("changed user %v", got[ids[1]])
		}
		md, _ := got[ids[2]]["manager@delta"].([]any)
		if len(md) != 1 || md[0].(map[string]any)["id"] != boss {
			t.Errorf("manager@delta %v", got[ids[2]])
		}
		if r, _ := got[ids[3]]["@removed"].(map[string]any); r["reason"] != "changed" {
			t.Errorf("soft-deleted user %v, want @removed reason changed", got[ids[3]])
		}
		if r, _ := got[ids[4]]["@removed"].(map[string]any); r["reason"] != "deleted" {
			t.Errorf("purged user %v, want @removed reason deleted", got[ids[4]])
		}
		if got[added]["userPrincipalName"] != "deltanew@contoso.com" {
			t.Errorf("new user %v", got[added])
		}
		link = next
	})
	t.Run("a restored user comes back in the next round", func(t *testing.T) {
		want(t, f.call(http.MethodPost, "/v1.0/directory/deletedItems/"+ids[3]+"/restore", nil), http.StatusOK)
		items, _ := f.deltaRound(link)
		if len(items) != 1 || items[0]["id"] != ids[3] || items[0]["@removed"] != nil {
			t.Fatalf("items %v", items)
		}
	})
	t.Run("$deltatoken=latest skips the initial round", func(t *testing.T) {
		r := f.call(http.MethodGet, "/v1.0/users/microsoft.graph.delta?$deltaToken=latest", nil)
		want(t, r, http.StatusOK)
		if len(r.values()) != 0 || r.str("@odata.deltaLink") == "" {
			t.Fatalf("%s", r.raw)
		}
	})
	t.Run("unsupported options and bad tokens are refused", func(t *testing.T) {
		want(t, f.call(http.MethodGet, "/v1.0/users/delta?$top=5", nil), http.StatusBadRequest, "Request_UnsupportedQuery")
		want(t, f.call(http.MethodGet, "/v1.0/users/delta?$expand=manager", nil), http.StatusBadRequest, "Request_UnsupportedQuery")
		want(t, f.call(http.MethodGet, "/v1.0/users/delta?$deltatoken=bogus", nil), http.StatusBadRequest, "syncStateNotFound")
		want(t, f.call(http.MethodGet, "/v1.0/groups/delta?"+link[strings.Index(link, "$deltatoken"):], nil), http.StatusBadRequest, "syncStateNotFound")
	})
	t.Run("a delta link older than seven days must resync", func(t *testing.T) {
		_, fresh := f.deltaRound("/v1.0/users/delta?$deltatoken=latest")
		f.tenant.Advance(8 * 24 * time.Hour)
		want(t, f.call(http.MethodGet, fresh, nil), http.StatusBadRequest, "syncStateNotFound")
	})
}

// docs/graph.md §8: groups delta with members tracks membership changes
// in members@delta, removals marked @removed.
func TestGroupsDeltaMembers(t *testing.T) {
	f := newFixture(t)
	a, b, c := f.createUser("gda", nil), f.createUser("gdb", nil), f.createUser("gdc", nil)
	g := f.createGroup("deltagroup", false)
	other := f.createGroup("deltaother", false)
	if err := f.tenant.AddMembers(g, a, b); err != nil {
		t.Fatal(err)
	}
	items, link := f.deltaRound("/v1.0/groups/graph.delta?$select=displayName,members")
	t.Run("the initial round lists each group with all its members", func(t *testing.T) {
		got := byID(items)
		md, _ := got[g]["members@delta"].([]any)
		if len(got) != 2 || len(md) != 2 || got[g]["displayName"] != "deltagroup" {
			t.Fatalf("items %v", items)
		}
		if _, ok := got[other]["members@delta"]; ok {
			t.Errorf("an empty group carries members@delta: %v", got[other])
		}
	})
	want(t, f.call(http.MethodDelete, "/v1.0/groups/"+g+"/members/"+a+"/$ref", nil), http.StatusNoContent)
	want(t, f.call(http.MethodPost, "/v1.0/groups/"+g+"/members/$ref", map[string]any{"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/" + c}), http.StatusNoContent)
	t.Run("a membership change lists the group with members@delta only for the changes", func(t *testing.T) {
		items, _ := f.deltaRound(link)
		if len(items) != 1 || items[0]["id"] != g {
			t.Fatalf("items %v", items)
		}
		md, _ := items[0]["members@delta"].([]any)
		seen := map[string]bool{}
		for _, m := range md {
			mm := m.(map[string]any)
			_, removed := mm["@removed"]
			seen[fmt.Sprintf("%s removed=%v", mm["id"], removed)] = true
			if mm["@odata.type"] != "#microsoft.graph.user" {
				t.Errorf("member %v lacks its type", mm)
			}
		}
		if len(md) != 2 || !seen[c+" removed=false"] || !seen[a+" removed=true"] {
			t.Fatalf("members@delta %v", md)
		}
	})
}
