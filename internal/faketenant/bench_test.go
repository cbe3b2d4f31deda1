package faketenant

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
)

// benchTenant seeds n users (and, with members > 0, one group holding the
// first members of them) on a tenant with throttling off.
func benchTenant(b *testing.B, n, members int) (*Tenant, string, []string, string) {
	b.Helper()
	cfg := DemoConfig()
	cfg.Throttling.Profile = "off"
	tn, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	ids := make([]string, n)
	for i := range n {
		id, err := tn.AddUser(SeedUser{Properties: map[string]any{
			"userPrincipalName": fmt.Sprintf("user%06d@contoso.com", i), "displayName": fmt.Sprintf("User %06d", i),
			"mailNickname": fmt.Sprintf("user%06d", i), "mail": fmt.Sprintf("user%06d@contoso.com", i),
			"onPremisesImmutableId": fmt.Sprintf("imm%06d", i), "usageLocation": "US", "jobTitle": "Engineer", "department": "R&D",
		}})
		if err != nil {
			b.Fatal(err)
		}
		ids[i] = id
	}
	gid := ""
	if members > 0 {
		gid, _ = tn.AddGroup(SeedGroup{Properties: map[string]any{"displayName": "Big", "mailNickname": "big", "securityEnabled": true, "mailEnabled": false}})
		if err := tn.AddMembers(gid, ids[:members]...); err != nil {
			b.Fatal(err)
		}
	}
	tok, _ := tn.IssueToken(DemoClientID)
	return tn, tok, ids, gid
}

func serve(tn *Tenant, tok, method, target, body string) int {
	var req *http.Request
	if body != "" {
		req = httptest.NewRequest(method, "https://fake"+target, strings.NewReader(body))
	} else {
		req = httptest.NewRequest(method, "https://fake"+target, nil)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	rec := httptest.NewRecorder()
	tn.ServeHTTP(rec, req)
	return rec.Code
}

// BenchmarkMemory100kUsers reports the heap the directory holds per user.
func BenchmarkMemory100kUsers(b *testing.B) {
	for range b.N {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		tn, _, _, _ := benchTenant(b, 100_000, 0)
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/1e6, "MB/100k-users")
		runtime.KeepAlive(tn)
	}
}

// BenchmarkMemory50kMembers reports the heap one 50,000-member group adds
// on top of its 100,000 users.
func BenchmarkMemory50kMembers(b *testing.B) {
	for range b.N {
		tn, _, ids, _ := benchTenant(b, 100_000, 0)
		runtime.GC()
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		gid, _ := tn.AddGroup(SeedGroup{Properties: map[string]any{"displayName": "Big", "mailNickname": "big", "securityEnabled": true, "mailEnabled": false}})
		if err := tn.AddMembers(gid, ids[:50_000]...); err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/1e6, "MB/50k-members")
		runtime.KeepAlive(tn)
	}
}

func BenchmarkAt100kUsers(b *testing.B) {
	tn, tok, ids, gid := benchTenant(b, 100_000, 50_000)
	b.ResetTimer()
	b.Run("GET a user by id", func(b *testing.B) {
		for i := range b.N {
			if serve(tn, tok, http.MethodGet, "/v1.0/users/"+ids[i%len(ids)], "") != 200 {
				b.Fatal("get failed")
			}
		}
	})
	b.Run("filter userPrincipalName eq", func(b *testing.B) {
		for i := range b.N {
			f := url.QueryEscape(fmt.Sprintf("userPrincipalName eq 'user%06d@contoso.com'", i%len(ids)))
			if serve(tn, tok, http.MethodGet, "/v1.0/users?$filter="+f, "") != 200 {
				b.Fatal("filter failed")
			}
		}
	})
	b.Run("page of 100 deep in the list", func(b *testing.B) {
		tok999 := encodeSkipToken(1, 90_000)
		for range b.N {
			if serve(tn, tok, http.MethodGet, "/v1.0/users?$skiptoken="+url.QueryEscape(tok999), "") != 200 {
				b.Fatal("page failed")
			}
		}
	})
	b.Run("page of 999 members of a 50,000-member group", func(b *testing.B) {
		for range b.N {
			if serve(tn, tok, http.MethodGet, "/v1.0/groups/"+gid+"/members?$top=999&$select=id", "") != 200 {
				b.Fatal("members failed")
			}
		}
	})
	b.Run("add then remove a member of the 50,000-member group", func(b *testing.B) {
		for i := range b.N {
			id := ids[50_000+i%50_000]
			if serve(tn, tok, http.MethodPost, "/v1.0/groups/"+gid+"/members/$ref", `{"@odata.id":"https://graph.microsoft.com/v1.0/directoryObjects/`+id+`"}`) != 204 ||
				serve(tn, tok, http.MethodDelete, "/v1.0/groups/"+gid+"/members/"+id+"/$ref", "") != 204 {
				b.Fatal("member change failed")
			}
		}
	})
	b.Run("PATCH a user", func(b *testing.B) {
		for i := range b.N {
			if serve(tn, tok, http.MethodPatch, "/v1.0/users/"+ids[i%len(ids)], `{"jobTitle":"x"}`) != 204 {
				b.Fatal("patch failed")
			}
		}
	})
	b.Run("create a user", func(b *testing.B) {
		for i := range b.N {
			body := fmt.Sprintf(`{"accountEnabled":true,"displayName":"N","mailNickname":"n%d","userPrincipalName":"new%d-%d@contoso.com","passwordProfile":{"password":"xWwvJ]6NMw+bWH-d"}}`, i, b.N, i)
			if serve(tn, tok, http.MethodPost, "/v1.0/users", body) != 201 {
				b.Fatal("create failed")
			}
		}
	})
}

// BenchmarkHTTPS measures requests per second over real TLS connections
// from parallel clients, the way a provisioner would see the fake.
func BenchmarkHTTPS(b *testing.B) {
	tn, tok, ids, _ := benchTenant(b, 10_000, 0)
	srv := httptest.NewTLSServer(tn)
	defer srv.Close()
	client := srv.Client()
	client.Transport.(*http.Transport).MaxIdleConnsPerHost = 64
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v1.0/users/"+ids[int(i)%len(ids)], nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := client.Do(req)
			if err != nil || resp.StatusCode != 200 {
				b.Fatalf("%v", err)
			}
			_, _ = io.Copy(io.Discard, resp.Body) // drain, so the connection is reused
			resp.Body.Close()
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}
