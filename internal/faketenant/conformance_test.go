package faketenant_test

// A conformance walk with no code of ours on the client side: only
// net/http and encoding/json talk to the fake, the way any Graph client
// would. The server is the fake tenant with the entra throttling profile.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/o365prov/o365prov/internal/faketenant"
)

type rawClient struct {
	t     *testing.T
	base  string
	http  *http.Client
	token string
}

type rawResp struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

func (c *rawClient) do(method, path string, body any, headers ...string) rawResp {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	u := path
	if len(path) > 0 && path[0] == '/' {
		u = c.base + path
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := rawResp{status: resp.StatusCode, header: resp.Header, raw: raw}
	_ = json.Unmarshal(raw, &r.body)
	return r
}

func errorOf(r rawResp) (code, message string, details []any) {
	e, _ := r.body["error"].(map[string]any)
	code, _ = e["code"].(string)
	message, _ = e["message"].(string)
	details, _ = e["details"].([]any)
	return
}

type innerResp struct {
	ID      string            `json:"id"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body"`
}

func (c *rawClient) batch(reqs []map[string]any) (rawResp, map[string]innerResp) {
	c.t.Helper()
	r := c.do(http.MethodPost, "/v1.0/$batch", map[string]any{"requests": reqs})
	var env struct {
		Responses []innerResp `json:"responses"`
	}
	_ = json.Unmarshal(r.raw, &env)
	out := map[string]innerResp{}
	for _, ir := range env.Responses {
		out[ir.ID] = ir
	}
	return r, out
}

func userBody(alias string) map[string]any {
	return map[string]any{"accountEnabled": true, "displayName": "User " + alias, "mailNickname": alias,
		"userPrincipalName": alias + "@contoso.com",
		"passwordProfile":   map[string]any{"forceChangePasswordNextSignIn": true, "password": "xWwvJ]6NMw+bWH-d"}}
}

// retryAfter parses Retry-After, which may be fractional (graph.md §6.1).
func retryAfter(t *testing.T, v string) time.Duration {
	t.Helper()
	secs, err := strconv.ParseFloat(v, 64)
	if err != nil || secs <= 0 {
		t.Fatalf("Retry-After %q is not a positive number of seconds", v)
	}
	return time.Duration(secs * float64(time.Second))
}

func TestConformanceWalk(t *testing.T) {
	if testing.Short() {
		t.Skip("heavy end to end: skipped with -short, run once by make e2e")
	}
	const scale = 25 // the 150 s write window lasts 6 s of wall time
	cfg := faketenant.DemoConfig()
	cfg.Throttling.Profile = "entra"
	cfg.TimeScale = scale
	tenant, err := faketenant.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(tenant)
	defer srv.Close()
	hc := srv.Client()
	hc.Transport.(*http.Transport).MaxIdleConnsPerHost = 32
	c := &rawClient{t: t, base: srv.URL, http: hc}

	t.Run("graph.md §9.1: a token from the token endpoint with the client secret", func(t *testing.T) {
		form := url.Values{"client_id": {faketenant.DemoClientID}, "client_secret": {faketenant.DemoClientSecret},
			"grant_type": {"client_credentials"}, "scope": {"https://graph.microsoft.com/.default"}}
		resp, err := hc.PostForm(srv.URL+"/contoso.onmicrosoft.com/oauth2/v2.0/token", form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var tok map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || resp.StatusCode != 200 || tok["token_type"] != "Bearer" {
			t.Fatalf("%d %v %v", resp.StatusCode, tok, err)
		}
		c.token = tok["access_token"].(string)
	})

	t.Run("graph.md §1.1: create a user", func(t *testing.T) {
		r := c.do(http.MethodPost, "/v1.0/users", userBody("walker"))
		if r.status != 201 || r.body["userPrincipalName"] != "walker@contoso.com" || r.body["id"] == "" {
			t.Fatalf("%d %s", r.status, r.raw)
		}
	})

	t.Run("graph.md §1.1: a duplicate UPN is 400 ObjectConflict", func(t *testing.T) {
		r := c.do(http.MethodPost, "/v1.0/users", userBody("walker"))
		code, msg, details := errorOf(r)
		d0, _ := details[0].(map[string]any)
		if r.status != 400 || code != "Request_BadRequest" || d0["code"] != "ObjectConflict" || d0["target"] != "userPrincipalName" ||
			msg != "Another object with the same value for property userPrincipalName already exists." {
			t.Fatalf("%d %s", r.status, r.raw)
		}
	})

	t.Run("graph.md §3.1: a licence without usageLocation is 400", func(t *testing.T) {
		r := c.do(http.MethodPost, "/v1.0/users/walker@contoso.com/assignLicense", map[string]any{
			"addLicenses": []any{map[string]any{"skuId": "6fd2c87f-b296-42f0-b197-1e91e994b900", "disabledPlans": []any{}}}, "removeLicenses": []any{}})
		code, msg, _ := errorOf(r)
		if r.status != 400 || code != "Request_BadRequest" || msg != "License assignment cannot be done for user with invalid usage location." {
			t.Fatalf("%d %s", r.status, r.raw)
		}
	})

	t.Run("graph.md §5: a batch of 21 is rejected", func(t *testing.T) {
		var reqs []map[string]any
		for i := 0; i < 21; i++ {
			reqs = append(reqs, map[string]any{"id": strconv.Itoa(i), "method": "GET", "url": "/users/walker@contoso.com"})
		}
		if r, _ := c.batch(reqs); r.status != 400 {
			t.Fatalf("%d %s", r.status, r.raw)
		}
	})

	t.Run("graph.md §5: a batch with dependsOn runs in order and a failed dependency gives 424", func(t *testing.T) {
		json := map[string]string{"Content-Type": "application/json"}
		r, by := c.batch([]map[string]any{
			{"id": "1", "method": "POST", "url": "/users", "headers": json, "body": userBody("dep1")},
			{"id": "2", "method": "PATCH", "url": "/users/dep1@contoso.com", "headers": json, "body": map[string]any{"usageLocation": "US"}, "dependsOn": []string{"1"}},
			{"id": "3", "method": "POST", "url": "/users", "headers": json, "body": userBody("walker")},
			{"id": "4", "method": "PATCH", "url": "/users/walker@contoso.com", "headers": json, "body": map[string]any{"jobTitle": "x"}, "dependsOn": []string{"3"}},
		})
		if r.status != 200 || by["1"].Status != 201 || by["2"].Status != 204 || by["3"].Status != 400 || by["4"].Status != 424 {
			t.Fatalf("%d %s", r.status, r.raw)
		}
	})

	// sendAll creates users in batches of 20, retrying inner 429s after
	// their own Retry-After, as a client must (graph.md §5, §6).
	sendAll := func(t *testing.T, bodies []map[string]any) {
		pending := bodies
		for len(pending) > 0 {
			var next []map[string]any
			var wait time.Duration
			for start := 0; start < len(pending); start += 20 {
				chunk := pending[start:min(start+20, len(pending))]
				var reqs []map[string]any
				for i, b := range chunk {
					reqs = append(reqs, map[string]any{"id": strconv.Itoa(i), "method": "POST", "url": "/users",
						"headers": map[string]string{"Content-Type": "application/json"}, "body": b})
				}
				r, by := c.batch(reqs)
				if r.status != 200 {
					t.Fatalf("batch %d %s", r.status, r.raw)
				}
				for i, b := range chunk {
					switch ir := by[strconv.Itoa(i)]; ir.Status {
					case 201:
					case 429:
						next = append(next, b)
						wait = max(wait, retryAfter(t, ir.Headers["Retry-After"]))
					default:
						t.Fatalf("create %v: %d %s", b["userPrincipalName"], ir.Status, ir.Body)
					}
				}
			}
			time.Sleep(wait)
			pending = next
		}
	}

	t.Run("graph.md §1.3: paging over 2,500 users visits each once", func(t *testing.T) {
		var bodies []map[string]any
		for i := 0; i < 2500; i++ {
			bodies = append(bodies, userBody(fmt.Sprintf("page%04d", i)))
		}
		sendAll(t, bodies)
		for _, top := range []string{"", "$top=999&"} {
			seen := map[string]bool{}
			next, pages := "/v1.0/users?"+top+"$select=id,userPrincipalName", 0
			for next != "" {
				r := c.do(http.MethodGet, next, nil)
				if r.status == 429 {
					time.Sleep(retryAfter(t, r.header.Get("Retry-After")))
					continue
				}
				vals, _ := r.body["value"].([]any)
				if r.status != 200 || len(vals) == 0 {
					t.Fatalf("%d %s", r.status, r.raw)
				}
				for _, v := range vals {
					id := v.(map[string]any)["id"].(string)
					if seen[id] {
						t.Fatalf("%s repeated", id)
					}
					seen[id] = true
				}
				next, _ = r.body["@odata.nextLink"].(string)
				pages++
			}
			if len(seen) != 2502 {
				t.Fatalf("%q: %d users over %d pages, want 2,502", top, len(seen), pages)
			}
		}
	})

	t.Run("graph.md §6.2: under a burst the accepted writes stay within 3,000 per 150 s and every refusal is a 429 with Retry-After", func(t *testing.T) {
		var mu sync.Mutex
		refused, accepted, bad := 0, 0, 0
		var lastRetry time.Duration
		record := func(status int, h func(string) string) {
			mu.Lock()
			defer mu.Unlock()
			switch {
			case status == 204:
				accepted++
			case status == 429 && h("Retry-After") != "":
				refused++
				if ra, err := strconv.ParseFloat(h("Retry-After"), 64); err != nil || ra <= 0 || ra > 150.0/scale+0.01 {
					bad++
				} else {
					lastRetry = time.Duration(ra * float64(time.Second))
				}
			default:
				bad++
			}
		}
		// Hammer until the quota has clearly been hit (or give up after 15 s
		// on a very slow machine, which the check below reports).
		stop := time.Now().Add(15 * time.Second)
		enough := func() bool {
			mu.Lock()
			defer mu.Unlock()
			return refused >= 200 || time.Now().After(stop)
		}
		var wg sync.WaitGroup
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for n := 0; !enough(); n++ {
					var reqs []map[string]any
					for i := 0; i < 20; i++ {
						reqs = append(reqs, map[string]any{"id": strconv.Itoa(i), "method": "PATCH",
							"url":     fmt.Sprintf("/users/page%04d@contoso.com", (w*20+i)%2500),
							"headers": map[string]string{"Content-Type": "application/json"}, "body": map[string]any{"jobTitle": strconv.Itoa(n)}})
					}
					r, by := c.batch(reqs)
					if r.status != 200 {
						record(r.status, r.header.Get)
						continue
					}
					for _, ir := range by {
						h := ir.Headers
						record(ir.Status, func(k string) string { return h[k] })
					}
				}
			}(w)
		}
		wg.Wait()
		if bad != 0 || refused == 0 {
			t.Fatalf("%d accepted, %d refused, %d responses that were neither 204 nor a 429 with a sane Retry-After", accepted, refused, bad)
		}
		// The fake's own log of accepted writes, in tenant time, over HTTP.
		r := c.do(http.MethodGet, "/_fake/counters?times=1", nil)
		var times []time.Time
		for _, v := range r.body["writeTimes"].([]any) {
			tm, _ := time.Parse(time.RFC3339Nano, v.(string))
			times = append(times, tm)
		}
		sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
		maxIn, lo := 0, 0
		for hi := range times {
			for times[hi].Sub(times[lo]) >= 150*time.Second {
				lo++
			}
			maxIn = max(maxIn, hi-lo+1)
		}
		if maxIn > 3000 || maxIn < 2900 {
			t.Fatalf("most writes accepted in any 150 s window: %d, want the ceiling of 3,000 reached and never passed", maxIn)
		}
		t.Logf("burst: %d writes accepted, %d refused with 429; busiest 150 s window held %d writes", accepted, refused, maxIn)

		// Honouring Retry-After is enough to be let in again.
		time.Sleep(lastRetry)
		for i := 0; ; i++ {
			r := c.do(http.MethodPatch, "/v1.0/users/page0000@contoso.com", map[string]any{"jobTitle": "after"})
			if r.status == 204 {
				break
			}
			if r.status != 429 || i > 3 {
				t.Fatalf("after waiting: %d %s", r.status, r.raw)
			}
			time.Sleep(retryAfter(t, r.header.Get("Retry-After")))
		}
	})
}
