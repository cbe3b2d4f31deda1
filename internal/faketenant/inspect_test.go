package faketenant

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"
)

func TestInspection(t *testing.T) {
	f := newFixture(t)
	f.createUser("seen", nil)
	inspect := func(method, path string) resp {
		req, _ := http.NewRequest(method, f.srv.URL+path, nil)
		return f.send(req)
	}

	t.Run("/_fake/users lists users without a token", func(t *testing.T) {
		r := inspect(http.MethodGet, "/_fake/users")
		var users []User
		if err := json.Unmarshal(r.raw, &users); err != nil || len(users) != 1 || users[0].UserPrincipalName != "seen@contoso.com" {
			t.Fatalf("%d %s", r.status, r.raw)
		}
	})

	t.Run("/_fake/counters counts requests by method, path template and status", func(t *testing.T) {
		r := inspect(http.MethodGet, "/_fake/counters?times=1")
		var c Counters
		if err := json.Unmarshal(r.raw, &c); err != nil {
			t.Fatal(err)
		}
		if c.Count(http.MethodPost, "/v1.0/users", 201) != 1 || c.WritesAccepted != 1 || len(c.WriteTimes) != 1 {
			t.Fatalf("%s", r.raw)
		}
	})

	t.Run("/_fake/clock/advance pushes tenant time", func(t *testing.T) {
		before := f.tenant.Now()
		want(t, inspect(http.MethodPost, "/_fake/clock/advance?by=720h"), http.StatusOK)
		if f.tenant.Now().Sub(before) != 720*time.Hour {
			t.Fatalf("advanced %v", f.tenant.Now().Sub(before))
		}
	})

	t.Run("/_fake/check reports a consistent directory", func(t *testing.T) {
		want(t, inspect(http.MethodGet, "/_fake/check"), http.StatusOK)
	})

	t.Run("/_fake/reset empties the directory and the counters", func(t *testing.T) {
		want(t, inspect(http.MethodPost, "/_fake/reset"), http.StatusOK)
		if len(f.tenant.Users()) != 0 || f.tenant.Counters().WritesAccepted != 0 {
			t.Fatal("reset left data")
		}
	})

	t.Run("seeded users are found by the queries a client uses for hard and soft match", func(t *testing.T) {
		id, err := f.tenant.AddUser(SeedUser{Properties: map[string]any{
			"userPrincipalName": "cloud@contoso.com", "displayName": "Cloud Only", "onPremisesImmutableId": "Q0xPVUQ=",
			"proxyAddresses": []string{"SMTP:cloud@contoso.com", "smtp:alias@contoso.com"}, "onPremisesSyncEnabled": true,
		}})
		if err != nil {
			t.Fatal(err)
		}
		for _, flt := range []string{"onPremisesImmutableId eq 'Q0xPVUQ='", "userPrincipalName eq 'cloud@contoso.com'", "proxyAddresses/any(p:p eq 'smtp:alias@contoso.com')"} {
			r := f.call(http.MethodGet, "/v1.0/users?$select=id,onPremisesSyncEnabled&$filter="+url.QueryEscape(flt), nil)
			if len(r.values()) != 1 || r.values()[0]["id"] != id || r.values()[0]["onPremisesSyncEnabled"] != true {
				t.Fatalf("%s: %s", flt, r.raw)
			}
		}
		if _, err := f.tenant.AddUser(SeedUser{Properties: map[string]any{"userPrincipalName": "cloud@contoso.com"}}); err == nil {
			t.Fatal("a seed may not duplicate a UPN")
		}
	})

	t.Run("a seeded group, manager and membership show up through Graph", func(t *testing.T) {
		a, _ := f.tenant.AddUser(SeedUser{Properties: map[string]any{"userPrincipalName": "a@contoso.com", "displayName": "A"}})
		b, _ := f.tenant.AddUser(SeedUser{Properties: map[string]any{"userPrincipalName": "b@contoso.com", "displayName": "B"}})
		g, err := f.tenant.AddGroup(SeedGroup{Properties: map[string]any{"displayName": "Existing", "mailNickname": "existing", "securityEnabled": true, "mailEnabled": false}, Members: []string{a}})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.tenant.SetManager(b, a); err != nil {
			t.Fatal(err)
		}
		if r := f.call(http.MethodGet, "/v1.0/groups/"+g+"/members", nil); len(r.values()) != 1 {
			t.Fatalf("%s", r.raw)
		}
		if r := f.call(http.MethodGet, "/v1.0/users/"+b+"/manager", nil); r.str("id") != a {
			t.Fatalf("%s", r.raw)
		}
		if err := f.tenant.CheckConsistency(); err != nil {
			t.Fatal(err)
		}
	})
}
