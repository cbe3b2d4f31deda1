package faketenant

import (
	"net/http"
	"net/url"
	"testing"
	"time"
)

func TestReplicationLag(t *testing.T) {
	f := newFixture(t)
	// Seeded objects replicate at once, so only the new ones lag.
	boss, _ := f.tenant.AddUser(SeedUser{Properties: map[string]any{"userPrincipalName": "boss@contoso.com", "displayName": "Boss"}})
	seeded, _ := f.tenant.AddGroup(SeedGroup{Properties: map[string]any{"displayName": "Seeded", "mailNickname": "seeded", "securityEnabled": true, "mailEnabled": false}})
	f.tenant.SetReplicationLag(5 * time.Second)
	u := f.createUser("lagging", map[string]any{"usageLocation": "US"})
	g := f.createGroup("laggroup", false)
	ref := func(id string) map[string]any {
		return map[string]any{"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/" + id}
	}

	cases := []struct {
		name   string
		method string
		path   string
		body   any
	}{
		{"graph.md §7: GET by id", http.MethodGet, "/v1.0/users/" + u, nil},
		{"graph.md §7: GET by UPN", http.MethodGet, "/v1.0/users/lagging@contoso.com", nil},
		{"graph.md §7: PATCH", http.MethodPatch, "/v1.0/users/" + u, map[string]any{"jobTitle": "x"}},
		{"graph.md §7: assignLicense", http.MethodPost, "/v1.0/users/" + u + "/assignLicense", assign([]map[string]any{{"skuId": e3}}, nil)},
		{"graph.md §7: adding it to a group", http.MethodPost, "/v1.0/groups/" + seeded + "/members/$ref", ref(u)},
		{"graph.md §7: setting it as a manager", http.MethodPut, "/v1.0/users/" + boss + "/manager/$ref", ref(u)},
		{"graph.md §7: a group that is still replicating", http.MethodGet, "/v1.0/groups/" + g, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name+" of a new object is 404 until replication catches up", func(t *testing.T) {
			r := f.call(tc.method, tc.path, tc.body)
			want(t, r, http.StatusNotFound, "Request_ResourceNotFound")
		})
	}

	t.Run("graph.md §7: an eq filter sees the new object at once (served from the primary)", func(t *testing.T) {
		r := f.call(http.MethodGet, "/v1.0/users?$filter="+url.QueryEscape("userPrincipalName eq 'lagging@contoso.com'"), nil)
		if len(r.values()) != 1 {
			t.Fatalf("%s", r.raw)
		}
	})

	t.Run("graph.md §7: a duplicate create fails even during the lag", func(t *testing.T) {
		want(t, f.call(http.MethodPost, "/v1.0/users", newUserBody("lagging")), http.StatusBadRequest)
	})

	t.Run("graph.md §7: once the lag has passed on the tenant clock the object is there", func(t *testing.T) {
		f.tenant.Advance(5 * time.Second)
		want(t, f.call(http.MethodGet, "/v1.0/users/"+u, nil), http.StatusOK)
		want(t, f.call(http.MethodPost, "/v1.0/groups/"+g+"/members/$ref", ref(u)), http.StatusNoContent)
	})
}

func TestFaults(t *testing.T) {
	f := newFixture(t)

	t.Run("graph.md §11: an injected 503 is serviceNotAvailable with Retry-After", func(t *testing.T) {
		if err := f.tenant.SetFaults(FaultConfig{ServiceUnavailableRate: 1, RetryAfter: 2 * time.Second}); err != nil {
			t.Fatal(err)
		}
		r := f.call(http.MethodGet, "/v1.0/users", nil)
		want(t, r, http.StatusServiceUnavailable, "serviceNotAvailable")
		if r.header.Get("Retry-After") != "2" {
			t.Fatalf("Retry-After %q", r.header.Get("Retry-After"))
		}
	})

	t.Run("graph.md §11: an injected 504 may still have applied the write", func(t *testing.T) {
		_ = f.tenant.SetFaults(FaultConfig{GatewayTimeoutRate: 1, GatewayTimeoutAppliedRate: 1})
		want(t, f.call(http.MethodPost, "/v1.0/users", newUserBody("ghost")), http.StatusGatewayTimeout)
		_ = f.tenant.SetFaults(FaultConfig{})
		want(t, f.call(http.MethodGet, "/v1.0/users/ghost@contoso.com", nil), http.StatusOK)
	})

	t.Run("fault rates apply by proportion", func(t *testing.T) {
		_ = f.tenant.SetFaults(FaultConfig{ServiceUnavailableRate: 0.3})
		defer func() { _ = f.tenant.SetFaults(FaultConfig{}) }()
		n := 0
		for i := 0; i < 300; i++ {
			if f.call(http.MethodGet, "/v1.0/domains", nil).status == 503 {
				n++
			}
		}
		if n < 60 || n > 120 {
			t.Fatalf("%d of 300 failed, want about 90", n)
		}
	})

	t.Run("faults are counted", func(t *testing.T) {
		if f.tenant.Counters().Faults < 2 {
			t.Fatalf("faults %d", f.tenant.Counters().Faults)
		}
	})
}

func TestLatency(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.TimeScale = 10 })

	t.Run("a fixed latency delays each request by latency / time scale", func(t *testing.T) {
		if err := f.tenant.SetLatency(LatencyConfig{Distribution: "fixed", Mean: 400 * time.Millisecond}); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		want(t, f.call(http.MethodGet, "/v1.0/domains", nil), http.StatusOK)
		// 400 ms of tenant time at 10x is 40 ms of wall time; a loaded
		// machine may add to that but can never take less.
		if d := time.Since(start); d < 40*time.Millisecond || d > 2*time.Second {
			t.Fatalf("took %v, want about 40 ms", d)
		}
	})

	t.Run("the distributions draw plausible values", func(t *testing.T) {
		for _, l := range []LatencyConfig{
			{Distribution: "uniform", Min: 10 * time.Millisecond, Max: 20 * time.Millisecond},
			{Distribution: "normal", Mean: 15 * time.Millisecond, StdDev: 2 * time.Millisecond},
			{Distribution: "lognormal", Median: 15 * time.Millisecond, Sigma: 0.1},
		} {
			_ = f.tenant.SetLatency(l)
			var sum time.Duration
			for i := 0; i < 1000; i++ {
				d := f.tenant.sampleLatency()
				if d < 0 {
					t.Fatalf("%s drew %v", l.Distribution, d)
				}
				sum += d
			}
			if mean := sum / 1000; mean < 13*time.Millisecond || mean > 17*time.Millisecond {
				t.Fatalf("%s mean %v", l.Distribution, mean)
			}
		}
	})
}
