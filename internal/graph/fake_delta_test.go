package graph_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/o365prov/o365prov/internal/faketenant"
	"github.com/o365prov/o365prov/internal/graph"
)

// docs/graph.md §8: the client runs an initial delta round over every
// page, then reads only what changed since the link it kept.
func TestDelta(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := f.client
	var ids []string
	for i := range 120 {
		u, err := c.CreateUser(ctx, userProps(fmt.Sprintf("dl%03d", i)))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	seen := map[string]graph.DeltaItem{}
	collect := func(it graph.DeltaItem) error { seen[it.ID] = it; return nil }
	link, err := c.Delta(ctx, graph.DeltaUsers, []string{"userPrincipalName", "jobTitle", "manager"}, "", collect)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("the initial round reads every user", func(t *testing.T) {
		if len(seen) != 120 || link == "" {
			t.Fatalf("%d users, link %q", len(seen), link)
		}
		if string(seen[ids[0]].Properties["userPrincipalName"]) != `"dl000@contoso.com"` {
			t.Fatalf("item %+v", seen[ids[0]])
		}
	})
	if err := c.PatchUser(ctx, ids[5], graph.Properties{"jobTitle": "Drifted"}); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteUser(ctx, ids[6]); err != nil {
		t.Fatal(err)
	}
	t.Run("the next round reads only the changes", func(t *testing.T) {
		clear(seen)
		next, err := c.Delta(ctx, graph.DeltaUsers, nil, link, collect)
		if err != nil {
			t.Fatal(err)
		}
		if len(seen) != 2 || string(seen[ids[5]].Properties["jobTitle"]) != `"Drifted"` || seen[ids[6]].Removed != "changed" {
			t.Fatalf("changes %+v", seen)
		}
		link = next
	})
	t.Run("an expired link is ErrDeltaExpired", func(t *testing.T) {
		f.tenant.Advance(8 * 24 * time.Hour)
		_, err := c.Delta(ctx, graph.DeltaUsers, nil, link, collect)
		if !errors.Is(err, graph.ErrDeltaExpired) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("a link to another host is refused before the token is sent", func(t *testing.T) {
		_, err := c.Delta(ctx, graph.DeltaUsers, nil, "https://elsewhere.example/v1.0/users/delta?$deltatoken=x", collect)
		if err == nil {
			t.Fatal("followed a link to another host")
		}
	})
}

// docs/graph.md §8: group rounds carry membership changes.
func TestGroupDeltaMembers(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := f.client
	u, err := c.CreateUser(ctx, userProps("gm1"))
	if err != nil {
		t.Fatal(err)
	}
	g, err := f.tenant.AddGroup(faketenant.SeedGroup{Properties: map[string]any{
		"displayName": "deltagroup", "mailNickname": "deltagroup", "mailEnabled": false, "securityEnabled": true, "groupTypes": []string{},
	}})
	if err != nil {
		t.Fatal(err)
	}
	var items []graph.DeltaItem
	link, err := c.Delta(ctx, graph.DeltaGroups, []string{"displayName", "members"}, "", func(it graph.DeltaItem) error { items = append(items, it); return nil })
	if err != nil || len(items) != 1 {
		t.Fatalf("initial round: %v, %+v", err, items)
	}
	if err := f.tenant.AddMembers(g, u.ID); err != nil {
		t.Fatal(err)
	}
	items = nil
	if _, err := c.Delta(ctx, graph.DeltaGroups, nil, link, func(it graph.DeltaItem) error { items = append(items, it); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 || len(items[0].Members) != 1 || items[0].Members[0].ID != u.ID || items[0].Members[0].Removed {
		t.Fatalf("round after a member joined: %+v", items)
	}
}
