package graph_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/o365prov/o365prov/internal/config"
	"github.com/o365prov/o365prov/internal/faketenant"
	"github.com/o365prov/o365prov/internal/graph"
)

func TestLicences(t *testing.T) {
	f := newFixture(t, func(c *faketenant.Config, _ *config.Target, _ *graph.Options) {
		c.SKUs = []faketenant.SKUConfig{{SkuPartNumber: "ENTERPRISEPACK", Units: 250}, {SkuPartNumber: "AAD_PREMIUM", Units: 1}}
	})
	ctx := context.Background()
	c := f.client
	skus, err := c.SKUs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	e3, ok := skus.Find("enterprisepack")
	if !ok || e3.SkuID != "6fd2c87f-b296-42f0-b197-1e91e994b900" || e3.Available() <= 0 {
		t.Fatalf("E3: %+v %v", e3, ok)
	}
	t.Run("a SKU and plans named by their names resolve to GUIDs", func(t *testing.T) {
		l, err := skus.License("ENTERPRISEPACK", "EXCHANGE_S_ENTERPRISE", "43de0ff5-c92c-492b-9116-175376d08c38")
		if err != nil || l.SkuID != e3.SkuID || !slices.Equal(l.DisabledPlans, []string{"efb87545-963c-4e0d-99df-69c6916d9eb0", "43de0ff5-c92c-492b-9116-175376d08c38"}) {
			t.Errorf("got %+v %v", l, err)
		}
	})
	t.Run("an unknown SKU or plan is an error naming it", func(t *testing.T) {
		if _, err := skus.License("NOPE"); err == nil || !strings.Contains(err.Error(), "NOPE") {
			t.Errorf("sku: %v", err)
		}
		if _, err := skus.License("ENTERPRISEPACK", "NOPLAN"); err == nil || !strings.Contains(err.Error(), "NOPLAN") {
			t.Errorf("plan: %v", err)
		}
	})
	t.Run("the catalogue is read once", func(t *testing.T) {
		f.stats.Reset()
		if _, err := c.SKUs(ctx); err != nil {
			t.Fatal(err)
		}
		if n := f.stats.Snapshot().Requests; n != 0 {
			t.Errorf("%d requests for a cached catalogue", n)
		}
	})
	u, err := c.CreateUser(ctx, userProps("licensed"))
	if err != nil {
		t.Fatal(err)
	}
	lic, _ := skus.License("ENTERPRISEPACK", "EXCHANGE_S_ENTERPRISE")
	t.Run("a licence for a user without usage location is Graph's 400", func(t *testing.T) {
		_, err := c.AssignLicense(ctx, u.ID, []graph.AssignedLicense{lic}, nil)
		if !graph.IsNoUsageLocation(err) || graph.IsNoFreeLicenses(err) {
			t.Errorf("got %v", err)
		}
	})
	t.Run("usage location and licence go in one batch, the licence after", func(t *testing.T) {
		f.stats.Reset()
		got, err := c.AssignLicenseWithUsageLocation(ctx, u.ID, "GB", []graph.AssignedLicense{lic}, nil)
		if err != nil || got.ID != u.ID {
			t.Fatalf("%+v %v", got, err)
		}
		snap, _ := f.tenant.User(u.ID)
		if snap.UsageLocation != "GB" || len(snap.Licenses) != 1 || snap.Licenses[0].SkuID != e3.SkuID {
			t.Errorf("tenant holds %+v", snap)
		}
		if s := f.stats.Snapshot(); s.Batches != 1 || s.HTTPRequests != 1 {
			t.Errorf("%d HTTP exchanges, %d batches", s.HTTPRequests, s.Batches)
		}
	})
	t.Run("current assignments are read back", func(t *testing.T) {
		ls, err := c.GetLicenses(ctx, u.ID)
		if err != nil || len(ls) != 1 || ls[0].SkuID != e3.SkuID || len(ls[0].DisabledPlans) != 1 {
			t.Errorf("got %+v %v", ls, err)
		}
	})
	t.Run("a licence is removed", func(t *testing.T) {
		if _, err := c.AssignLicense(ctx, u.ID, nil, []string{e3.SkuID}); err != nil {
			t.Fatal(err)
		}
		if snap, _ := f.tenant.User(u.ID); len(snap.Licenses) != 0 {
			t.Errorf("tenant holds %+v", snap.Licenses)
		}
	})
	t.Run("a subscription without free units is told apart", func(t *testing.T) {
		p1, _ := skus.License("AAD_PREMIUM")
		other := userProps("other")
		other["usageLocation"] = "GB"
		o, err := c.CreateUser(ctx, other)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.AssignLicense(ctx, o.ID, []graph.AssignedLicense{p1}, nil); err != nil {
			t.Fatal(err)
		}
		_, err = c.AssignLicenseWithUsageLocation(ctx, u.ID, "GB", []graph.AssignedLicense{p1}, nil)
		if !graph.IsNoFreeLicenses(err) || graph.IsNoUsageLocation(err) {
			t.Errorf("got %v", err)
		}
	})
	t.Run("a SKU the tenant lacks is Graph's 400", func(t *testing.T) {
		_, err := c.AssignLicense(ctx, u.ID, []graph.AssignedLicense{{SkuID: "00000000-0000-0000-0000-00000000beef"}}, nil)
		var ge *graph.Error
		if !errors.As(err, &ge) || ge.Status != 400 || !strings.Contains(ge.Message, "valid company License") {
			t.Errorf("got %v", err)
		}
	})
}

func securityGroup(name string) graph.Properties {
	return graph.Properties{"displayName": name, "mailNickname": name, "mailEnabled": false, "securityEnabled": true}
}

func TestGroups(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := f.client
	g, err := c.CreateGroup(ctx, securityGroup("engineers"))
	if err != nil {
		t.Fatal(err)
	}
	t.Run("a created group comes back with its id", func(t *testing.T) {
		if g.ID == "" || !g.SecurityEnabled || g.MailEnabled {
			t.Errorf("got %+v", g)
		}
	})
	t.Run("a group is read and listed by filter", func(t *testing.T) {
		got, err := c.GetGroup(ctx, g.ID)
		if err != nil || got.DisplayName != "engineers" {
			t.Errorf("get: %+v %v", got, err)
		}
		n := 0
		for x, err := range c.ListGroups(ctx, graph.Query{Filter: graph.Eq("displayName", "engineers")}) {
			if err != nil || x.ID != g.ID {
				t.Errorf("list: %+v %v", x, err)
			}
			n++
		}
		if n != 1 {
			t.Errorf("listed %d", n)
		}
	})
	t.Run("a patch changes the group", func(t *testing.T) {
		if err := c.PatchGroup(ctx, g.ID, graph.Properties{"description": "People who build"}); err != nil {
			t.Fatal(err)
		}
		got, _ := f.tenant.Group(g.ID)
		if got.Properties["description"] != "People who build" {
			t.Errorf("tenant holds %+v", got)
		}
	})
	t.Run("a duplicate mailNickname of a Microsoft 365 group is a conflict", func(t *testing.T) {
		m365 := graph.Properties{"displayName": "Team", "mailNickname": "team", "mailEnabled": true, "securityEnabled": false, "groupTypes": []string{"Unified"}}
		if _, err := c.CreateGroup(ctx, m365); err != nil {
			t.Fatal(err)
		}
		_, err := c.CreateGroup(ctx, m365)
		if prop, ok := graph.IsConflict(err); !ok || prop != "mailNickname" {
			t.Errorf("got %v (%q)", err, prop)
		}
	})
	t.Run("a group missing a required property is Graph's 400", func(t *testing.T) {
		_, err := c.CreateGroup(ctx, graph.Properties{"displayName": "x", "mailNickname": "x", "mailEnabled": false})
		var ge *graph.Error
		if !errors.As(err, &ge) || ge.Status != 400 || !strings.Contains(ge.Message, "securityEnabled") {
			t.Errorf("got %v", err)
		}
	})
	t.Run("a deleted group is not found", func(t *testing.T) {
		if err := c.DeleteGroup(ctx, g.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := c.GetGroup(ctx, g.ID); !graph.IsNotFound(err) {
			t.Errorf("got %v", err)
		}
		if err := c.DeleteGroup(ctx, g.ID); !graph.IsNotFound(err) {
			t.Errorf("a second delete: %v", err)
		}
	})
}

func TestMembers(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := f.client
	g, err := c.CreateGroup(ctx, securityGroup("all"))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range 130 {
		p := userProps(fmt.Sprintf("m%03d", i))
		delete(p, "passwordProfile")
		id, err := f.tenant.AddUser(seed(p))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	t.Run("adding one member twice succeeds twice", func(t *testing.T) {
		for range 2 {
			if err := c.AddMember(ctx, g.ID, ids[0]); err != nil {
				t.Error(err)
			}
		}
	})
	t.Run("members are added 20 per PATCH, one by one where a chunk holds a member already", func(t *testing.T) {
		f.stats.Reset()
		if err := c.AddMembers(ctx, g.ID, ids[:45]); err != nil {
			t.Fatal(err)
		}
		if got := len(f.tenant.Members(g.ID)); got != 45 {
			t.Errorf("%d members, want 45", got)
		}
		// Chunks of 20, 20, 5; the first holds ids[0] already and falls
		// back to 20 single adds.
		if n := f.stats.Snapshot().Requests; n != 3+20 {
			t.Errorf("%d requests, want 23", n)
		}
	})
	t.Run("a chunk with a missing member adds the others and names the missing one", func(t *testing.T) {
		err := c.AddMembers(ctx, g.ID, []string{ids[50], "00000000-0000-0000-0000-00000000dead", ids[51]})
		if !graph.IsNotFound(err) || !strings.Contains(err.Error(), "dead") {
			t.Errorf("got %v", err)
		}
		if got := len(f.tenant.Members(g.ID)); got != 47 {
			t.Errorf("%d members, want 47", got)
		}
	})
	t.Run("batched member adds return the request-ids to audit", func(t *testing.T) {
		// Two chunks go in one $batch, whose inner answers carry no
		// request-id of their own: each takes the $batch's.
		rids, err := c.AddMembersTraced(ctx, g.ID, ids[52:90])
		if err != nil {
			t.Fatal(err)
		}
		if len(rids) == 0 || slices.Contains(rids, "") {
			t.Errorf("request-ids %q", rids)
		}
	})
	t.Run("the full member list is read", func(t *testing.T) {
		if err := c.AddMembers(ctx, g.ID, ids[45:]); err != nil {
			t.Fatal(err)
		}
		var got []string
		for m, err := range c.ListMembers(ctx, g.ID) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, m.ID)
		}
		slices.Sort(got)
		want := slices.Clone(ids)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("listed %d members, want %d", len(got), len(want))
		}
	})
	t.Run("removing a member twice succeeds twice", func(t *testing.T) {
		for range 2 {
			if err := c.RemoveMember(ctx, g.ID, ids[0]); err != nil {
				t.Error(err)
			}
		}
		if slices.Contains(f.tenant.Members(g.ID), ids[0]) {
			t.Error("still a member")
		}
	})
}
