package faketenant

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func groupBody(name string, change func(map[string]any)) map[string]any {
	b := map[string]any{"displayName": name, "mailNickname": name, "mailEnabled": false, "securityEnabled": true, "groupTypes": []string{}}
	if change != nil {
		change(b)
	}
	return b
}

func TestCreateGroup(t *testing.T) {
	f := newFixture(t)

	t.Run("graph.md §4.1: a security group is 201 with the default properties", func(t *testing.T) {
		r := f.call(http.MethodPost, "/v1.0/groups", groupBody("sec1", nil))
		want(t, r, http.StatusCreated)
		for _, k := range []string{"id", "createdDateTime", "groupTypes", "securityIdentifier", "mailEnabled", "securityEnabled", "visibility", "proxyAddresses"} {
			if _, ok := r.body[k]; !ok {
				t.Fatalf("missing %s in %s", k, r.raw)
			}
		}
		if r.body["mail"] != nil {
			t.Fatalf("a security group has no mail: %s", r.raw)
		}
	})

	t.Run("graph.md §4.1: a Microsoft 365 group gets a mail address on the default domain", func(t *testing.T) {
		r := f.call(http.MethodPost, "/v1.0/groups", groupBody("team1", func(b map[string]any) {
			b["mailEnabled"], b["groupTypes"] = true, []string{"Unified"}
		}))
		want(t, r, http.StatusCreated)
		if r.str("mail") != "team1@contoso.com" {
			t.Fatalf("mail %q", r.str("mail"))
		}
	})

	cases := []struct {
		name    string
		change  func(map[string]any)
		message string
	}{
		{"graph.md §4.1: displayName is required", func(b map[string]any) { delete(b, "displayName") }, "A value is required for property 'displayName' of resource 'Group'."},
		{"graph.md §4.1: mailEnabled is required", func(b map[string]any) { delete(b, "mailEnabled") }, "A value is required for property 'mailEnabled' of resource 'Group'."},
		{"graph.md §4.1: mailNickname is required", func(b map[string]any) { delete(b, "mailNickname") }, "A value is required for property 'mailNickname' of resource 'Group'."},
		{"graph.md §4.1: securityEnabled is required", func(b map[string]any) { delete(b, "securityEnabled") }, "A value is required for property 'securityEnabled' of resource 'Group'."},
		{"graph.md §4.1: a mail-enabled security group cannot be created", func(b map[string]any) { b["mailEnabled"] = true }, msgMailEnabledWrite},
		{"graph.md §4.1: a dynamic group needs a membership rule", func(b map[string]any) { b["groupTypes"] = []string{"DynamicMembership"} }, "A value is required for property 'membershipRule'."},
		{"graph.md §4.1: mailNickname cannot contain a dot", func(b map[string]any) { b["mailNickname"] = "a.b" }, "Invalid value specified for property 'mailNickname' of resource 'Group'."},
		{"graph.md §4.1: at most 20 members and owners at creation", func(b map[string]any) {
			var refs []string
			for i := 0; i < 21; i++ {
				refs = append(refs, "https://graph.microsoft.com/v1.0/directoryObjects/00000000-0000-4000-8000-0000000000"+fmt.Sprintf("%02d", i))
			}
			b["members@odata.bind"] = refs
		}, "A maximum of 20 owners and members can be added in the same request when creating a group."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := f.call(http.MethodPost, "/v1.0/groups", groupBody("g", tc.change))
			want(t, r, http.StatusBadRequest, "Request_BadRequest")
			if r.errMessage() != tc.message {
				t.Fatalf("message %q", r.errMessage())
			}
		})
	}

	t.Run("graph.md §12.2: a Microsoft 365 group's mailNickname is unique", func(t *testing.T) {
		r := f.call(http.MethodPost, "/v1.0/groups", groupBody("team1", func(b map[string]any) {
			b["mailEnabled"], b["groupTypes"] = true, []string{"Unified"}
		}))
		want(t, r, http.StatusBadRequest)
		if r.errMessage() != "Another object with the same value for property mailNickname already exists." {
			t.Fatalf("message %q", r.errMessage())
		}
	})

	t.Run("graph.md §4.1: members@odata.bind at creation adds the members", func(t *testing.T) {
		u := f.createUser("binder", nil)
		r := f.call(http.MethodPost, "/v1.0/groups", groupBody("withmembers", func(b map[string]any) {
			b["members@odata.bind"] = []string{"https://graph.microsoft.com/v1.0/users/" + u}
		}))
		want(t, r, http.StatusCreated)
		if m := f.tenant.Members(r.str("id")); len(m) != 1 || m[0] != u {
			t.Fatalf("members %v", m)
		}
	})
}

func TestUpdateAndDeleteGroup(t *testing.T) {
	f := newFixture(t)
	sec := f.createGroup("secg", false)
	m365 := f.createGroup("m365g", true)

	t.Run("graph.md §4.2: PATCH is 204", func(t *testing.T) {
		want(t, f.call(http.MethodPatch, "/v1.0/groups/"+sec, map[string]any{"description": "Engineering"}), http.StatusNoContent)
		g, _ := f.tenant.Group(sec)
		if g.Properties["description"] != "Engineering" {
			t.Fatalf("group %+v", g)
		}
	})

	t.Run("graph.md §4.2: deleting a security group is permanent", func(t *testing.T) {
		want(t, f.call(http.MethodDelete, "/v1.0/groups/"+sec, nil), http.StatusNoContent)
		want(t, f.call(http.MethodGet, "/v1.0/directory/deletedItems/"+sec, nil), http.StatusNotFound)
		if _, ok := f.tenant.Group(sec); ok {
			t.Fatal("security group still exists")
		}
	})

	t.Run("graph.md §4.2: a Microsoft 365 group goes to deleted items and can be restored", func(t *testing.T) {
		want(t, f.call(http.MethodDelete, "/v1.0/groups/"+m365, nil), http.StatusNoContent)
		r := f.call(http.MethodGet, "/v1.0/directory/deletedItems/microsoft.graph.group", nil)
		if len(r.values()) != 1 || r.values()[0]["@odata.type"] != "#microsoft.graph.group" {
			t.Fatalf("deleted groups %s", r.raw)
		}
		r = f.call(http.MethodPost, "/v1.0/directory/deletedItems/"+m365+"/restore", nil)
		want(t, r, http.StatusOK)
		want(t, f.call(http.MethodGet, "/v1.0/groups/"+m365, nil), http.StatusOK)
	})

	t.Run("graph.md §4.2: a missing group is 404", func(t *testing.T) {
		want(t, f.call(http.MethodDelete, "/v1.0/groups/"+sec, nil), http.StatusNotFound, "Request_ResourceNotFound")
	})

	t.Run("graph.md §4.2: groups filter on groupTypes and displayName", func(t *testing.T) {
		r := f.call(http.MethodGet, "/v1.0/groups?$filter=groupTypes/any(c:c%20eq%20'Unified')", nil)
		if len(r.values()) != 1 || r.values()[0]["id"] != m365 {
			t.Fatalf("%s", r.raw)
		}
	})
}

func TestMembers(t *testing.T) {
	f := newFixture(t)
	g := f.createGroup("members", false)
	u1 := f.createUser("m1", nil)
	u2 := f.createUser("m2", nil)
	ref := func(id string) map[string]any {
		return map[string]any{"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/" + id}
	}

	t.Run("graph.md §4.3: adding a member by $ref is 204", func(t *testing.T) {
		want(t, f.call(http.MethodPost, "/v1.0/groups/"+g+"/members/$ref", ref(u1)), http.StatusNoContent)
	})

	t.Run("graph.md §4.3: adding an existing member is 400 with the documented message", func(t *testing.T) {
		r := f.call(http.MethodPost, "/v1.0/groups/"+g+"/members/$ref", ref(u1))
		want(t, r, http.StatusBadRequest, "Request_BadRequest")
		if r.errMessage() != msgMemberExists {
			t.Fatalf("message %q", r.errMessage())
		}
	})

	t.Run("graph.md §4.3: adding a missing object is 404", func(t *testing.T) {
		want(t, f.call(http.MethodPost, "/v1.0/groups/"+g+"/members/$ref", ref("00000000-0000-4000-8000-000000000001")), http.StatusNotFound, "Request_ResourceNotFound")
	})

	t.Run("graph.md §4.3: members@odata.bind is all or nothing", func(t *testing.T) {
		r := f.call(http.MethodPatch, "/v1.0/groups/"+g, map[string]any{"members@odata.bind": []string{
			"https://graph.microsoft.com/v1.0/directoryObjects/" + u2, "https://graph.microsoft.com/v1.0/directoryObjects/" + u1,
		}})
		want(t, r, http.StatusBadRequest, "Request_BadRequest")
		if len(f.tenant.Members(g)) != 1 {
			t.Fatalf("a failed bind added members: %v", f.tenant.Members(g))
		}
	})

	t.Run("graph.md §4.3: members@odata.bind takes at most 20", func(t *testing.T) {
		var refs []string
		for i := 0; i < 21; i++ {
			refs = append(refs, "https://graph.microsoft.com/v1.0/directoryObjects/"+u2)
		}
		want(t, f.call(http.MethodPatch, "/v1.0/groups/"+g, map[string]any{"members@odata.bind": refs}), http.StatusBadRequest)
	})

	t.Run("graph.md §4.3: removing a member is 204 and removing a non-member 404", func(t *testing.T) {
		want(t, f.call(http.MethodDelete, "/v1.0/groups/"+g+"/members/"+u1+"/$ref", nil), http.StatusNoContent)
		r := f.call(http.MethodDelete, "/v1.0/groups/"+g+"/members/"+u1+"/$ref", nil)
		want(t, r, http.StatusNotFound, "Request_ResourceNotFound")
	})

	t.Run("graph.md §4.3: nesting rules refuse M365 groups as members and security groups in M365 groups", func(t *testing.T) {
		m365 := f.createGroup("m365nest", true)
		sec := f.createGroup("secnest", false)
		want(t, f.call(http.MethodPost, "/v1.0/groups/"+g+"/members/$ref", ref(m365)), http.StatusBadRequest)
		want(t, f.call(http.MethodPost, "/v1.0/groups/"+m365+"/members/$ref", ref(sec)), http.StatusBadRequest)
		want(t, f.call(http.MethodPost, "/v1.0/groups/"+g+"/members/$ref", ref(sec)), http.StatusNoContent)
	})

	t.Run("graph.md §4.3: a mail-enabled security group's members cannot be written through Graph", func(t *testing.T) {
		dl, err := f.tenant.AddGroup(SeedGroup{Properties: map[string]any{"displayName": "DL", "mailNickname": "dl", "mailEnabled": true, "securityEnabled": false, "mail": "dl@contoso.com"}})
		if err != nil {
			t.Fatal(err)
		}
		r := f.call(http.MethodPost, "/v1.0/groups/"+dl+"/members/$ref", ref(u2))
		want(t, r, http.StatusBadRequest)
		if r.errMessage() != msgDistribution {
			t.Fatalf("message %q", r.errMessage())
		}
	})
}

func TestMemberList(t *testing.T) {
	f := newFixture(t)
	g := f.createGroup("big", false)
	var ids []string
	for i := 0; i < 250; i++ {
		id, _ := f.tenant.AddUser(SeedUser{Properties: map[string]any{"userPrincipalName": fmt.Sprintf("b%03d@contoso.com", i), "displayName": fmt.Sprintf("B %03d", i)}})
		ids = append(ids, id)
	}
	sub := f.createGroup("nested", false)
	if err := f.tenant.AddMembers(g, append(ids, sub)...); err != nil {
		t.Fatal(err)
	}

	t.Run("graph.md §4.3: members list 100 per page with @odata.type and nextLink", func(t *testing.T) {
		seen := 0
		types := map[string]int{}
		next := f.srv.URL + "/v1.0/groups/" + g + "/members"
		for next != "" {
			r := f.call(http.MethodGet, next, nil)
			want(t, r, http.StatusOK)
			if len(r.values()) > 100 || !strings.HasSuffix(r.str("@odata.context"), "$metadata#directoryObjects") {
				t.Fatalf("page %d, context %s", len(r.values()), r.str("@odata.context"))
			}
			for _, v := range r.values() {
				types[v["@odata.type"].(string)]++
			}
			seen += len(r.values())
			next, _ = r.body["@odata.nextLink"].(string)
		}
		if seen != 251 || types["#microsoft.graph.user"] != 250 || types["#microsoft.graph.group"] != 1 {
			t.Fatalf("seen %d, types %v", seen, types)
		}
	})

	t.Run("graph.md §4.3: $filter on members needs an advanced query", func(t *testing.T) {
		want(t, f.call(http.MethodGet, "/v1.0/groups/"+g+"/members?$filter=startsWith(displayName,'B%2001')", nil), http.StatusBadRequest, "Request_UnsupportedQuery")
		r := f.call(http.MethodGet, "/v1.0/groups/"+g+"/members?$count=true&$filter=startsWith(displayName,'B%2001')", nil, "ConsistencyLevel", "eventual")
		want(t, r, http.StatusOK)
		if r.body["@odata.count"] != float64(10) {
			t.Fatalf("%s", r.raw)
		}
	})

	t.Run("graph.md §8: a soft-deleted member keeps its membership but is not listed", func(t *testing.T) {
		want(t, f.call(http.MethodDelete, "/v1.0/users/"+ids[0], nil), http.StatusNoContent)
		r := f.call(http.MethodGet, "/v1.0/groups/"+g+"/members/$count", nil, "ConsistencyLevel", "eventual")
		if string(r.raw) != "250" {
			t.Fatalf("count %s", r.raw)
		}
		want(t, f.call(http.MethodPost, "/v1.0/directory/deletedItems/"+ids[0]+"/restore", nil), http.StatusOK)
		r = f.call(http.MethodGet, "/v1.0/groups/"+g+"/members/$count", nil, "ConsistencyLevel", "eventual")
		if string(r.raw) != "251" {
			t.Fatalf("count after restore %s", r.raw)
		}
	})
}
