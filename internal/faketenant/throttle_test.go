package faketenant

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestWindow(t *testing.T) {
	t0 := epoch
	t.Run("graph.md §6.2: a quota refuses the unit past its limit and names the exact wait", func(t *testing.T) {
		w := newWindow(3, 10*time.Second)
		for i := 0; i < 3; i++ {
			w.expire(t0.Add(time.Duration(i) * time.Second))
			if w.wait(t0.Add(time.Duration(i)*time.Second), 1) != 0 {
				t.Fatalf("unit %d refused", i)
			}
			w.take(t0.Add(time.Duration(i)*time.Second), 1)
		}
		now := t0.Add(3500 * time.Millisecond)
		w.expire(now)
		if got := w.wait(now, 1); got != 6500*time.Millisecond {
			t.Fatalf("wait %v, want 6.5s", got)
		}
		now = t0.Add(10 * time.Second)
		w.expire(now)
		if w.wait(now, 1) != 0 {
			t.Fatal("the first unit should be back after one window")
		}
	})

	t.Run("no window of the quota's length ever accepts more than the quota", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(7, 7))
		w := newWindow(50, 10*time.Second)
		var accepted []time.Time
		now := t0
		for i := 0; i < 20000; i++ {
			now = now.Add(time.Duration(rng.IntN(400)) * time.Millisecond)
			w.expire(now)
			if w.wait(now, 1) == 0 {
				w.take(now, 1)
				accepted = append(accepted, now)
			}
		}
		if got := (Counters{WriteTimes: accepted}).MaxWritesIn(10 * time.Second); got != 50 {
			t.Fatalf("max accepted in a 10 s window %d, want exactly 50", got)
		}
	})
}

// throttled builds a fixture with custom limits on a frozen manual clock.
func throttledFixture(t *testing.T, l Limits, scale float64) *fixture {
	return newFixture(t, withTestApps, func(c *Config) {
		c.Throttling = ThrottlingConfig{Profile: "custom", Limits: l}
		c.TimeScale = scale
	})
}

func TestThrottling(t *testing.T) {
	t.Run("graph.md §6.1/§6.2: past the write quota a request is 429 with Retry-After, scope and information", func(t *testing.T) {
		f := throttledFixture(t, Limits{AppTenantWrites: 5, AppTenantWriteWindow: 150 * time.Second}, 1)
		id := f.createUser("t0", nil)
		for i := 0; i < 4; i++ {
			want(t, f.call(http.MethodPatch, "/v1.0/users/"+id, map[string]any{"jobTitle": fmt.Sprint(i)}), http.StatusNoContent)
		}
		r := f.call(http.MethodPatch, "/v1.0/users/"+id, map[string]any{"jobTitle": "x"})
		want(t, r, http.StatusTooManyRequests, "TooManyRequests")
		if r.header.Get("Retry-After") != "150" {
			t.Fatalf("Retry-After %q", r.header.Get("Retry-After"))
		}
		if r.header.Get("x-ms-throttle-scope") != "Tenant_Application/Write/"+DemoClientID+"/"+DemoTenantID || r.header.Get("x-ms-throttle-information") != "WriteLimitExceeded" {
			t.Fatalf("headers %v", r.header)
		}
		inner, _ := r.body["error"].(map[string]any)["innerError"].(map[string]any)
		if inner["code"] != "429" || inner["status"] != "429" || r.errMessage() != "Please retry again later." {
			t.Fatalf("body %s", r.raw)
		}
	})

	t.Run("graph.md §6.1: Retry-After is the exact, fractional, remaining wait", func(t *testing.T) {
		f := throttledFixture(t, Limits{AppTenantWrites: 2, AppTenantWriteWindow: 150 * time.Second}, 1)
		id := f.createUser("t1", nil)
		want(t, f.call(http.MethodPatch, "/v1.0/users/"+id, map[string]any{"jobTitle": "a"}), http.StatusNoContent)
		f.clock.Advance(100500 * time.Millisecond)
		r := f.call(http.MethodPatch, "/v1.0/users/"+id, map[string]any{"jobTitle": "b"})
		if r.status != 429 || r.header.Get("Retry-After") != "49.5" {
			t.Fatalf("%d Retry-After %q", r.status, r.header.Get("Retry-After"))
		}
		f.clock.Advance(49500 * time.Millisecond)
		want(t, f.call(http.MethodPatch, "/v1.0/users/"+id, map[string]any{"jobTitle": "c"}), http.StatusNoContent)
	})

	t.Run("--time-scale shortens Retry-After by the scale", func(t *testing.T) {
		f := throttledFixture(t, Limits{AppTenantWrites: 1, AppTenantWriteWindow: 150 * time.Second}, 10)
		f.createUser("t2", nil)
		r := f.call(http.MethodPost, "/v1.0/users", newUserBody("t3"))
		if r.status != 429 || r.header.Get("Retry-After") != "15" {
			t.Fatalf("%d Retry-After %q", r.status, r.header.Get("Retry-After"))
		}
		f.clock.Advance(15 * time.Second)
		want(t, f.call(http.MethodPost, "/v1.0/users", newUserBody("t3")), http.StatusCreated)
	})

	t.Run("graph.md §6.2: x-ms-throttle-limit-percentage appears only above 0.8", func(t *testing.T) {
		f := throttledFixture(t, Limits{AppTenantWrites: 10, AppTenantWriteWindow: time.Minute}, 1)
		id := f.createUser("t4", nil)
		var pct []string
		for i := 0; i < 9; i++ {
			r := f.call(http.MethodPatch, "/v1.0/users/"+id, map[string]any{"jobTitle": fmt.Sprint(i)})
			pct = append(pct, r.header.Get("x-ms-throttle-limit-percentage"))
		}
		// writes 2..10 of 10: 0.2 … 1.0; only 0.9 and 1.0 are above 0.8.
		if strings.Join(pct, ",") != ",,,,,,,0.90,1.00" {
			t.Fatalf("percentages %q", pct)
		}
	})

	t.Run("graph.md §6.2: resource units follow the cost table and its modifiers", func(t *testing.T) {
		f := throttledFixture(t, Limits{}, 1)
		g := f.createGroup("costs", false)
		u := f.createUser("cost", nil)
		cases := []struct {
			path string
			ru   string
		}{
			{"/v1.0/users", "2"}, {"/v1.0/users?$select=id", "1"}, {"/v1.0/users?$top=5", "1"}, {"/v1.0/users?$top=50", "2"},
			{"/v1.0/users?$select=id&$top=5", "1"}, {"/v1.0/users/" + u + "?$expand=manager", "2"},
			{"/v1.0/groups/" + g + "/members", "3"}, {"/v1.0/subscribedSkus", "3"}, {"/v1.0/users/" + u + "/licenseDetails", "2"},
			{"/v1.0/users/" + u, "1"}, {"/v1.0/domains", "1"},
		}
		for _, tc := range cases {
			if got := f.call(http.MethodGet, tc.path, nil).header.Get("x-ms-resource-unit"); got != tc.ru {
				t.Errorf("%s costs %s, want %s", tc.path, got, tc.ru)
			}
		}
	})

	t.Run("graph.md §6.2: reads spend the resource-unit quota of the tenant's size class", func(t *testing.T) {
		f := throttledFixture(t, Limits{AppTenantRUSmall: 10, AppTenantRUMedium: 20}, 1)
		for i := 0; i < 5; i++ {
			want(t, f.call(http.MethodGet, "/v1.0/users", nil), http.StatusOK)
		}
		r := f.call(http.MethodGet, "/v1.0/users", nil)
		want(t, r, http.StatusTooManyRequests)
		if r.header.Get("x-ms-throttle-information") != "ResourceUnitLimitExceeded" || !strings.HasPrefix(r.header.Get("x-ms-throttle-scope"), "Tenant_Application/ReadWrite/") {
			t.Fatalf("headers %v", r.header)
		}
		if sizeClass("auto", 49) != "S" || sizeClass("auto", 50) != "M" || sizeClass("auto", 500) != "M" || sizeClass("auto", 501) != "L" || sizeClass("L", 1) != "L" {
			t.Fatal("size classes do not follow S <50, M 50–500, L >500")
		}
	})

	t.Run("graph.md §6.2: the tenant-wide write quota spans apps", func(t *testing.T) {
		f := throttledFixture(t, Limits{TenantWrites: 4, TenantWriteWindow: 5 * time.Minute}, 1)
		f.createUser("a1", nil)
		f.createUser("a2", nil)
		other := f.tokenFor(certClientID)
		want(t, f.callWith(other, http.MethodPost, "/v1.0/users", newUserBody("b1")), http.StatusCreated)
		want(t, f.callWith(other, http.MethodPost, "/v1.0/users", newUserBody("b2")), http.StatusCreated)
		r := f.callWith(other, http.MethodPost, "/v1.0/users", newUserBody("b3"))
		want(t, r, http.StatusTooManyRequests)
		if !strings.HasPrefix(r.header.Get("x-ms-throttle-scope"), "Tenant/Write/") {
			t.Fatalf("scope %q", r.header.Get("x-ms-throttle-scope"))
		}
	})

	t.Run("graph.md §5/§6.2: inside a batch each request is metered, 429s carry their own Retry-After, the batch is 200", func(t *testing.T) {
		f := throttledFixture(t, Limits{AppTenantWrites: 3, AppTenantWriteWindow: time.Minute}, 1)
		var reqs []map[string]any
		for i := 0; i < 5; i++ {
			reqs = append(reqs, breq(fmt.Sprint(i), "POST", "/users", newUserBody(fmt.Sprintf("bt%d", i))))
		}
		r, by, _ := f.batch(reqs...)
		want(t, r, http.StatusOK)
		codes := map[int]int{}
		for _, br := range by {
			codes[br.Status]++
			if br.Status == 429 && br.Headers["Retry-After"] != "60" {
				t.Fatalf("inner Retry-After %q", br.Headers["Retry-After"])
			}
		}
		if codes[201] != 3 || codes[429] != 2 {
			t.Fatalf("statuses %v", codes)
		}
	})

	t.Run("the off profile never throttles", func(t *testing.T) {
		f := newFixture(t)
		id := f.createUser("off", nil)
		for i := 0; i < 200; i++ {
			want(t, f.call(http.MethodPatch, "/v1.0/users/"+id, map[string]any{"jobTitle": fmt.Sprint(i)}), http.StatusNoContent)
		}
	})
}

// TestEntraWriteQuota drives the documented numbers straight through the
// handler: 3,000 writes per app and tenant in 150 s (graph.md §6.2).
func TestEntraWriteQuota(t *testing.T) {
	clock := NewManualClock(epoch)
	cfg := DemoConfig()
	cfg.Clock = clock
	tn, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := tn.IssueToken(DemoClientID)
	uid, _ := tn.AddUser(SeedUser{Properties: map[string]any{"userPrincipalName": "q@contoso.com", "displayName": "Q"}})
	patch := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPatch, "https://fake/v1.0/users/"+uid, strings.NewReader(`{"jobTitle":"x"}`))
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		tn.ServeHTTP(rec, req)
		return rec
	}
	for i := 0; i < 3000; i++ {
		clock.Advance(10 * time.Millisecond) // 30 s for the lot
		if rec := patch(); rec.Code != http.StatusNoContent {
			t.Fatalf("write %d: %d %s", i+1, rec.Code, rec.Body)
		}
	}
	rec := patch()
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "120.01" {
		t.Fatalf("write 3001: %d Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	c := tn.Counters()
	if c.WritesAccepted != 3000 || c.Throttled != 1 || c.MaxWritesIn(150*time.Second) != 3000 {
		t.Fatalf("counters %d accepted, %d throttled, max %d", c.WritesAccepted, c.Throttled, c.MaxWritesIn(150*time.Second))
	}
}
