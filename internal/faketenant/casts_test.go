package faketenant

import (
	"net/http"
	"slices"
	"testing"
)

func ids(r resp) []string {
	var out []string
	for _, v := range r.values() {
		s, _ := v["id"].(string)
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

func sorted(s ...string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// docs/graph.md §14: Graph serves type casts as microsoft.graph.user and as
// the short graph.user the SDKs build; §4.3: a cast on members is an
// advanced query.
func TestTypeCastSegments(t *testing.T) {
	f := newFixture(t)
	alice := f.createUser("castalice", nil)
	bob := f.createUser("castbob", nil)
	carol := f.createUser("castcarol", nil)
	outer := f.createGroup("castouter", false)
	inner := f.createGroup("castinner", false)
	if err := f.tenant.AddMembers(outer, alice, inner); err != nil {
		t.Fatal(err)
	}
	if err := f.tenant.AddMembers(inner, bob, outer); err != nil {
		t.Fatal(err) // a cycle: transitive members must still end
	}
	gone := f.createUser("castgone", nil)
	want(t, f.call(http.MethodDelete, "/v1.0/users/"+gone, nil), http.StatusNoContent)
	adv := []string{"ConsistencyLevel", "eventual"}

	for _, cast := range []string{"microsoft.graph.user", "graph.user", "Microsoft.Graph.User"} {
		t.Run("deletedItems/"+cast+" lists deleted users", func(t *testing.T) {
			r := f.call(http.MethodGet, "/v1.0/directory/deletedItems/"+cast, nil)
			want(t, r, http.StatusOK)
			if got := ids(r); !slices.Equal(got, []string{gone}) {
				t.Fatalf("deleted users %v, want %v", got, gone)
			}
		})
		t.Run("members/"+cast+" with eventual and $count lists user members", func(t *testing.T) {
			r := f.call(http.MethodGet, "/v1.0/groups/"+outer+"/members/"+cast+"?$count=true", nil, adv...)
			want(t, r, http.StatusOK)
			if got := ids(r); !slices.Equal(got, []string{alice}) {
				t.Fatalf("user members %v, want [%s]", got, alice)
			}
			if r.body["@odata.count"] != float64(1) {
				t.Fatalf("@odata.count %v", r.body["@odata.count"])
			}
		})
		t.Run("members/"+cast+" without eventual and $count is refused", func(t *testing.T) {
			want(t, f.call(http.MethodGet, "/v1.0/groups/"+outer+"/members/"+cast, nil), http.StatusBadRequest, "Request_UnsupportedQuery")
			want(t, f.call(http.MethodGet, "/v1.0/groups/"+outer+"/members/"+cast, nil, adv...), http.StatusBadRequest, "Request_UnsupportedQuery")
		})
		t.Run("members/"+cast+"/$count counts user members", func(t *testing.T) {
			r := f.call(http.MethodGet, "/v1.0/groups/"+outer+"/members/"+cast+"/$count", nil, adv...)
			want(t, r, http.StatusOK)
			if string(r.raw) != "1" {
				t.Fatalf("count %q", r.raw)
			}
		})
		t.Run("transitiveMembers/"+cast+" lists users of nested groups", func(t *testing.T) {
			r := f.call(http.MethodGet, "/v1.0/groups/"+outer+"/transitiveMembers/"+cast+"?$count=true", nil, adv...)
			want(t, r, http.StatusOK)
			if got := ids(r); !slices.Equal(got, sorted(alice, bob)) {
				t.Fatalf("transitive users %v, want %v", got, sorted(alice, bob))
			}
		})
	}
	for _, cast := range []string{"microsoft.graph.group", "graph.group"} {
		t.Run("memberOf/"+cast+" lists the user's groups", func(t *testing.T) {
			r := f.call(http.MethodGet, "/v1.0/users/"+bob+"/memberOf/"+cast, nil)
			want(t, r, http.StatusOK)
			if got := ids(r); !slices.Equal(got, []string{inner}) {
				t.Fatalf("groups %v, want [%s]", got, inner)
			}
		})
		t.Run("members/"+cast+" lists nested groups", func(t *testing.T) {
			r := f.call(http.MethodGet, "/v1.0/groups/"+outer+"/members/"+cast+"?$count=true", nil, adv...)
			want(t, r, http.StatusOK)
			if got := ids(r); !slices.Equal(got, []string{inner}) {
				t.Fatalf("group members %v, want [%s]", got, inner)
			}
		})
		t.Run("deletedItems/"+cast+" lists no deleted groups", func(t *testing.T) {
			r := f.call(http.MethodGet, "/v1.0/directory/deletedItems/"+cast, nil)
			want(t, r, http.StatusOK)
			if len(r.values()) != 0 {
				t.Fatalf("deleted groups %s", r.raw)
			}
		})
	}
	t.Run("transitiveMembers lists every member once, across the cycle", func(t *testing.T) {
		r := f.call(http.MethodGet, "/v1.0/groups/"+outer+"/transitiveMembers", nil)
		want(t, r, http.StatusOK)
		if got := ids(r); !slices.Equal(got, sorted(alice, bob, inner, outer)) {
			t.Fatalf("transitive members %v", got)
		}
	})
	t.Run("a user that belongs to no group has an empty memberOf cast", func(t *testing.T) {
		r := f.call(http.MethodGet, "/v1.0/users/"+carol+"/memberOf/graph.group", nil)
		want(t, r, http.StatusOK)
		if len(r.values()) != 0 {
			t.Fatalf("groups %s", r.raw)
		}
	})
}
