package faketenant

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

// deltaLinkOf runs a delta request through the handler and returns its
// deltaLink as a path and query on the fake's host.
func deltaLinkOf(b *testing.B, tn *Tenant, tok, target string) (string, int) {
	b.Helper()
	req := httptest.NewRequest(http.MethodGet, "https://fake"+target, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	rec := httptest.NewRecorder()
	tn.ServeHTTP(rec, req)
	var page struct {
		Value     []json.RawMessage `json:"value"`
		DeltaLink string            `json:"@odata.deltaLink"`
	}
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &page) != nil || page.DeltaLink == "" {
		b.Fatalf("delta %s: %d %s", target, rec.Code, rec.Body.String())
	}
	u, _ := url.Parse(page.DeltaLink)
	return u.RequestURI(), len(page.Value)
}

// BenchmarkDeltaRoundAt100kUsers is what a verify cycle costs the tenant
// when ten of 100,000 users changed since the last round: one request (a
// full read is 101 pages of 999), answered from a snapshot comparison.
func BenchmarkDeltaRoundAt100kUsers(b *testing.B) {
	tn, tok, ids, _ := benchTenant(b, 100_000, 0)
	link, _ := deltaLinkOf(b, tn, tok, "/v1.0/users/delta?$deltatoken=latest&$select=displayName,jobTitle,accountEnabled")
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		for j := range 10 {
			if code := serve(tn, tok, http.MethodPatch, "/v1.0/users/"+ids[(i*10+j)%len(ids)], `{"jobTitle":"Changed"}`); code != http.StatusNoContent {
				b.Fatalf("patch: %d", code)
			}
		}
		var n int
		link, n = deltaLinkOf(b, tn, tok, link)
		if n == 0 {
			b.Fatal("the round saw no change")
		}
	}
}
