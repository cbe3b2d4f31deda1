package graph_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/o365prov/o365prov/internal/graph"
)

// userProps is a user with every property Graph requires (graph.md §1.1).
func userProps(nick string) graph.Properties {
	return graph.Properties{
		"accountEnabled": true, "displayName": "User " + nick, "mailNickname": nick,
		"userPrincipalName": nick + "@contoso.com",
		"passwordProfile":   map[string]any{"forceChangePasswordNextSignIn": true, "password": "xWwvJ]6NMw+bWH-d"},
	}
}

func TestUsers(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := f.client
	props := userProps("adele")
	props["onPremisesImmutableId"] = "AbC+dEf/GhI=="
	props["usageLocation"] = "GB"
	adele, err := c.CreateUser(ctx, props)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("a created user comes back with its id and the properties sent", func(t *testing.T) {
		if adele.ID == "" || adele.UserPrincipalName != "adele@contoso.com" {
			t.Errorf("got %+v", adele)
		}
		snap, ok := f.tenant.User(adele.ID)
		if !ok || snap.UsageLocation != "GB" || snap.OnPremisesImmutableID != "AbC+dEf/GhI==" {
			t.Errorf("tenant holds %+v", snap)
		}
	})
	t.Run("a duplicate UPN is a conflict naming userPrincipalName", func(t *testing.T) {
		_, err := c.CreateUser(ctx, userProps("adele"))
		if prop, ok := graph.IsConflict(err); !ok || prop != "userPrincipalName" {
			t.Errorf("got %v (conflict %v on %q)", err, ok, prop)
		}
		if graph.IsRetryable(err) {
			t.Error("a conflict is called retryable")
		}
	})
	t.Run("a UPN on an unverified domain is a bad request, not a conflict", func(t *testing.T) {
		p := userProps("nobody")
		p["userPrincipalName"] = "nobody@example.org"
		_, err := c.CreateUser(ctx, p)
		var ge *graph.Error
		if !errors.As(err, &ge) || ge.Status != 400 || ge.Code != "Request_BadRequest" || ge.RequestID == "" {
			t.Errorf("got %v", err)
		}
		if _, ok := graph.IsConflict(err); ok {
			t.Error("called a conflict")
		}
	})
	t.Run("a user is read by id and by UPN, with the properties selected", func(t *testing.T) {
		byID, err := c.GetUser(ctx, adele.ID, "id", "accountEnabled", "usageLocation", "onPremisesImmutableId")
		if err != nil || byID.AccountEnabled == nil || !*byID.AccountEnabled || byID.UsageLocation != "GB" {
			t.Errorf("by id: %+v %v", byID, err)
		}
		byUPN, err := c.GetUser(ctx, "Adele@contoso.com")
		if err != nil || byUPN.ID != adele.ID {
			t.Errorf("by UPN: %+v %v", byUPN, err)
		}
		var dept any
		if ok, err := byID.Property("onPremisesImmutableId", &dept); !ok || err != nil || dept != "AbC+dEf/GhI==" {
			t.Errorf("raw property: %v %v %v", ok, err, dept)
		}
	})
	t.Run("a user is found by an immutableId with plus and slash in it", func(t *testing.T) {
		u, err := c.FindUserByImmutableID(ctx, "AbC+dEf/GhI==", "id", "onPremisesImmutableId")
		if err != nil || u.ID != adele.ID {
			t.Errorf("got %+v %v", u, err)
		}
	})
	t.Run("a lookup that matches nobody is ErrNotFound", func(t *testing.T) {
		_, err := c.FindUserByImmutableID(ctx, "nobody")
		if !errors.Is(err, graph.ErrNotFound) || !graph.IsNotFound(err) {
			t.Errorf("got %v", err)
		}
		_, err = c.FindUserByUPN(ctx, "O'Brien@contoso.com")
		if !errors.Is(err, graph.ErrNotFound) {
			t.Errorf("a quote in the UPN: %v", err)
		}
	})
	t.Run("a missing user read by path is a 404", func(t *testing.T) {
		_, err := c.GetUser(ctx, "ghost@contoso.com")
		if !graph.IsNotFound(err) {
			t.Errorf("got %v", err)
		}
	})
	t.Run("a patch writes only the properties given", func(t *testing.T) {
		if err := c.PatchUser(ctx, adele.ID, graph.Properties{"jobTitle": "Engineer", "accountEnabled": false}); err != nil {
			t.Fatal(err)
		}
		snap, _ := f.tenant.User(adele.ID)
		if snap.AccountEnabled || snap.Properties["jobTitle"] != "Engineer" || snap.UsageLocation != "GB" {
			t.Errorf("tenant holds %+v", snap)
		}
	})
	t.Run("a patch Graph refuses is a typed error", func(t *testing.T) {
		err := c.PatchUser(ctx, adele.ID, graph.Properties{"usageLocation": "not a country"})
		var ge *graph.Error
		if !errors.As(err, &ge) || ge.Status != 400 {
			t.Errorf("got %v", err)
		}
	})
}

func TestListUsersPages(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for i := range 12 {
		p := userProps(fmt.Sprintf("page%02d", i))
		delete(p, "passwordProfile")
		if _, err := f.tenant.AddUser(seed(p)); err != nil {
			t.Fatal(err)
		}
	}
	f.stats.Reset()
	var got []graph.User
	for u, err := range f.client.ListUsers(ctx, graph.Query{Filter: "startsWith(userPrincipalName,'page')", Select: []string{"id", "userPrincipalName"}, Top: 5}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, u)
	}
	if len(got) != 12 {
		t.Errorf("listed %d users, want 12", len(got))
	}
	if n := f.stats.Snapshot().Requests; n != 3 {
		t.Errorf("%d requests for 12 users 5 a page, want 3", n)
	}
	t.Run("an advanced query resends ConsistencyLevel on every page", func(t *testing.T) {
		n := 0
		for _, err := range f.client.ListUsers(ctx, graph.Query{Filter: "endsWith(userPrincipalName,'@contoso.com')", Top: 5, Advanced: true}) {
			if err != nil {
				t.Fatal(err)
			}
			n++
		}
		if n != 12 {
			t.Errorf("listed %d", n)
		}
	})
	t.Run("an advanced filter without the header is Graph's error", func(t *testing.T) {
		for _, err := range f.client.ListUsers(ctx, graph.Query{Filter: "endsWith(userPrincipalName,'@contoso.com')"}) {
			var ge *graph.Error
			if !errors.As(err, &ge) || ge.Code != "Request_UnsupportedQuery" {
				t.Errorf("got %v", err)
			}
		}
	})
}

func TestDeleteRestorePurge(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := f.client
	p := userProps("gone")
	p["onPremisesImmutableId"] = "Z29uZQ=="
	u, err := c.CreateUser(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	t.Run("a deleted user is no longer found", func(t *testing.T) {
		if _, err := c.GetUser(ctx, u.ID); !graph.IsNotFound(err) {
			t.Errorf("got %v", err)
		}
	})
	t.Run("a deleted user is found in deleted items by UPN and by immutableId", func(t *testing.T) {
		d, err := c.FindDeletedUserByUPN(ctx, "gone@contoso.com")
		if err != nil || d.ID != u.ID || d.DeletedDateTime == nil {
			t.Errorf("by UPN: %+v %v", d, err)
		}
		d, err = c.FindDeletedUserByImmutableID(ctx, "Z29uZQ==")
		if err != nil || d.ID != u.ID {
			t.Errorf("by immutableId: %+v %v", d, err)
		}
	})
	t.Run("a restored user is back", func(t *testing.T) {
		o, err := c.Restore(ctx, u.ID)
		if err != nil || o.ID != u.ID || o.Type != "#microsoft.graph.user" {
			t.Fatalf("restore: %+v %v", o, err)
		}
		if got, err := c.GetUser(ctx, u.ID); err != nil || got.ID != u.ID {
			t.Errorf("after restore: %v", err)
		}
	})
	t.Run("restoring what is not deleted is a 404", func(t *testing.T) {
		if _, err := c.Restore(ctx, u.ID); !graph.IsNotFound(err) {
			t.Errorf("got %v", err)
		}
	})
	t.Run("a purged user is gone from deleted items", func(t *testing.T) {
		if err := c.DeleteUser(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		if err := c.Purge(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := c.FindDeletedUserByUPN(ctx, "gone@contoso.com"); !errors.Is(err, graph.ErrNotFound) {
			t.Errorf("got %v", err)
		}
		if len(f.tenant.DeletedItems()) != 0 {
			t.Errorf("tenant still holds %+v", f.tenant.DeletedItems())
		}
	})
}

func TestManager(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := f.client
	boss, err := c.CreateUser(ctx, userProps("boss"))
	if err != nil {
		t.Fatal(err)
	}
	worker, err := c.CreateUser(ctx, userProps("worker"))
	if err != nil {
		t.Fatal(err)
	}
	t.Run("no manager reads as nil", func(t *testing.T) {
		m, err := c.GetManager(ctx, worker.ID)
		if err != nil || m != nil {
			t.Errorf("got %+v %v", m, err)
		}
	})
	t.Run("a manager set is read back", func(t *testing.T) {
		if err := c.SetManager(ctx, worker.ID, boss.ID); err != nil {
			t.Fatal(err)
		}
		m, err := c.GetManager(ctx, worker.ID)
		if err != nil || m == nil || m.ID != boss.ID || m.UserPrincipalName != "boss@contoso.com" {
			t.Errorf("got %+v %v", m, err)
		}
	})
	t.Run("removing the manager twice succeeds twice", func(t *testing.T) {
		for i := range 2 {
			if err := c.RemoveManager(ctx, worker.ID); err != nil {
				t.Errorf("remove %d: %v", i+1, err)
			}
		}
		if snap, _ := f.tenant.User(worker.ID); snap.Manager != "" {
			t.Errorf("manager still %s", snap.Manager)
		}
	})
	t.Run("a manager that does not exist is not found", func(t *testing.T) {
		err := c.SetManager(ctx, worker.ID, "00000000-0000-0000-0000-000000000001")
		if !graph.IsNotFound(err) {
			t.Errorf("got %v", err)
		}
	})
	t.Run("the manager of a missing user is not found, not nil", func(t *testing.T) {
		if _, err := c.GetManager(ctx, "00000000-0000-0000-0000-000000000002"); !graph.IsNotFound(err) {
			t.Errorf("got %v", err)
		}
	})
}
