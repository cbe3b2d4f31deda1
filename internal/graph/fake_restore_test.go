package graph_test

import (
	"context"
	"testing"

	"github.com/o365prov/o365prov/internal/graph"
)

// docs/graph.md §14: once another user took a deleted user's UPN and mail,
// a plain restore is a conflict the client can name, and a restore with
// options brings the user back.
func TestRestoreWithOptions(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := f.client
	p := userProps("back")
	p["mail"] = "back@contoso.com"
	u, err := c.CreateUser(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	q := userProps("back")
	q["mail"] = "back@contoso.com"
	if _, err := c.CreateUser(ctx, q); err != nil {
		t.Fatalf("a deleted user's UPN should be free: %v", err)
	}

	t.Run("a plain restore is a conflict on userPrincipalName", func(t *testing.T) {
		_, err := c.Restore(ctx, u.ID)
		if prop, ok := graph.IsConflict(err); !ok || prop != "userPrincipalName" {
			t.Fatalf("got %v (conflict on %q)", err, prop)
		}
	})
	t.Run("a restore under a new UPN reconciling addresses succeeds", func(t *testing.T) {
		o, err := c.RestoreWithOptions(ctx, u.ID, graph.RestoreOptions{NewUserPrincipalName: "back.again@contoso.com", AutoReconcileProxyConflict: true})
		if err != nil || o.ID != u.ID {
			t.Fatalf("restore: %+v %v", o, err)
		}
		got, ok := f.tenant.User(u.ID)
		if !ok || got.UserPrincipalName != "back.again@contoso.com" || got.Mail != "" {
			t.Fatalf("restored %+v", got)
		}
	})
}
