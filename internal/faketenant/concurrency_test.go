package faketenant

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestConcurrentClients runs 50 clients for 10 s of mixed traffic (creates,
// updates, deletes and restores, memberships on shared groups, managers,
// licences with scarce units, batches, paged reads) against the entra
// throttling profile, then checks the directory's invariants and that every
// client's own ledger of users matches the tenant.
func TestConcurrentClients(t *testing.T) {
	if testing.Short() {
		t.Skip("heavy end to end: skipped with -short, run once by make e2e")
	}
	cfg := DemoConfig()
	cfg.TimeScale = 20
	cfg.SKUs[1].Units = 30 // scarce E5 units: assignments race for them
	tn, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(tn)
	defer srv.Close()
	client := srv.Client()
	client.Transport.(*http.Transport).MaxIdleConnsPerHost = 64
	tok, _ := tn.IssueToken(DemoClientID)
	var shared []string
	for i := 0; i < 3; i++ {
		g, _ := tn.AddGroup(SeedGroup{Properties: map[string]any{"displayName": fmt.Sprint("shared", i), "mailNickname": fmt.Sprint("shared", i), "securityEnabled": true, "mailEnabled": false}})
		shared = append(shared, g)
	}

	var unexpected atomic.Int64
	var total atomic.Int64
	statuses := sync.Map{}
	do := func(method, path string, body any) (int, map[string]any) {
		var rd io.Reader
		if body != nil {
			data, _ := json.Marshal(body)
			rd = bytes.NewReader(data)
		}
		req, _ := http.NewRequest(method, srv.URL+path, rd)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			unexpected.Add(1)
			return 0, nil
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var m map[string]any
		_ = json.Unmarshal(raw, &m)
		total.Add(1)
		n, _ := statuses.LoadOrStore(resp.StatusCode, new(atomic.Int64))
		n.(*atomic.Int64).Add(1)
		switch resp.StatusCode {
		case 200, 201, 204, 400, 404, 424, 429:
		default:
			unexpected.Add(1)
			t.Errorf("%s %s: %d %s", method, path, resp.StatusCode, raw)
		}
		return resp.StatusCode, m
	}

	type ledger struct {
		active, deleted map[string]bool
	}
	ledgers := make([]ledger, 50)
	deadline := time.Now().Add(10 * time.Second)
	var wg sync.WaitGroup
	for c := 0; c < 50; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(c), 99))
			l := ledger{active: map[string]bool{}, deleted: map[string]bool{}}
			var mine []string
			for n := 0; time.Now().Before(deadline); n++ {
				pick := func(m map[string]bool) string {
					for id := range m {
						return id
					}
					return ""
				}
				switch op := rng.IntN(12); {
				case op < 3 || len(mine) == 0:
					b := newUserBody(fmt.Sprintf("c%02dn%d", c, n))
					b["usageLocation"] = "US"
					if st, m := do(http.MethodPost, "/v1.0/users", b); st == 201 {
						id := m["id"].(string)
						mine = append(mine, id)
						l.active[id] = true
					}
				case op == 3:
					if id := pick(l.active); id != "" {
						do(http.MethodPatch, "/v1.0/users/"+id, map[string]any{"jobTitle": fmt.Sprint(n)})
					}
				case op == 4:
					if id := pick(l.active); id != "" {
						if st, _ := do(http.MethodDelete, "/v1.0/users/"+id, nil); st == 204 {
							delete(l.active, id)
							l.deleted[id] = true
						}
					}
				case op == 5:
					if id := pick(l.deleted); id != "" {
						if st, _ := do(http.MethodPost, "/v1.0/directory/deletedItems/"+id+"/restore", nil); st == 200 {
							delete(l.deleted, id)
							l.active[id] = true
						}
					}
				case op == 6:
					if id := pick(l.active); id != "" {
						g := shared[rng.IntN(len(shared))]
						if rng.IntN(2) == 0 {
							do(http.MethodPost, "/v1.0/groups/"+g+"/members/$ref", map[string]any{"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/" + id})
						} else {
							do(http.MethodDelete, "/v1.0/groups/"+g+"/members/"+id+"/$ref", nil)
						}
					}
				case op == 7:
					if id := pick(l.active); id != "" && len(mine) > 1 {
						do(http.MethodPut, "/v1.0/users/"+id+"/manager/$ref", map[string]any{"@odata.id": "https://graph.microsoft.com/v1.0/users/" + mine[rng.IntN(len(mine))]})
					}
				case op == 8:
					if id := pick(l.active); id != "" {
						if rng.IntN(2) == 0 {
							do(http.MethodPost, "/v1.0/users/"+id+"/assignLicense", assign([]map[string]any{{"skuId": e5}}, nil))
						} else {
							do(http.MethodPost, "/v1.0/users/"+id+"/assignLicense", assign(nil, []string{e5}))
						}
					}
				case op == 9:
					var reqs []map[string]any
					for i := 0; i < 5; i++ {
						reqs = append(reqs, breq(fmt.Sprint(i), "GET", "/users?$top=3&$select=id", nil))
					}
					do(http.MethodPost, "/v1.0/$batch", map[string]any{"requests": reqs})
				case op == 10:
					next := "/v1.0/groups/" + shared[rng.IntN(len(shared))] + "/members?$top=50"
					for i := 0; i < 3 && next != ""; i++ {
						_, m := do(http.MethodGet, next, nil)
						next = ""
						if s, ok := m["@odata.nextLink"].(string); ok {
							next = s[len(srv.URL):]
						}
					}
				default:
					do(http.MethodGet, "/v1.0/users?$top=20&$filter=startsWith(userPrincipalName,'c"+fmt.Sprintf("%02d", c)+"')", nil)
				}
			}
			ledgers[c] = l
		}(c)
	}
	wg.Wait()

	if unexpected.Load() != 0 {
		t.Fatalf("%d unexpected responses", unexpected.Load())
	}
	if err := tn.CheckConsistency(); err != nil {
		t.Fatalf("inconsistent after the run: %v", err)
	}
	for c, l := range ledgers {
		for id := range l.active {
			if u, ok := tn.User(id); !ok || !u.Deleted.IsZero() {
				t.Fatalf("client %d: user %s should be active", c, id)
			}
		}
		for id := range l.deleted {
			if u, ok := tn.User(id); !ok || u.Deleted.IsZero() {
				t.Fatalf("client %d: user %s should be in deleted items", c, id)
			}
		}
	}
	for _, s := range tn.SKUs() {
		if s.Consumed > s.Enabled {
			t.Fatalf("%s over-consumed: %d of %d", s.SkuPartNumber, s.Consumed, s.Enabled)
		}
	}
	counts := map[int]int64{}
	statuses.Range(func(k, v any) bool { counts[k.(int)] = v.(*atomic.Int64).Load(); return true })
	t.Logf("%d requests in 10 s; statuses %v; %d users, %d deleted", total.Load(), counts, len(tn.Users()), len(tn.DeletedItems()))
}
