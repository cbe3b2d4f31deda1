package console

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/o365prov/o365prov/internal/state"
)

// benchObjects is the size of the store the overview must stay fast on.
const benchObjects = 100_000

// BenchmarkOverview serves the overview page and its API answer with
// 100,000 users in the store, 1 % of them failed.
func BenchmarkOverview(b *testing.B) {
	tc := newTestConsole(b, testToken)
	ctx := context.Background()
	batch := make([]state.Object, 0, 5000)
	for i := range benchObjects {
		o := state.Object{Channel: "contoso", Kind: state.KindUser, GUID: fmt.Sprintf("b0000000-0000-0000-0000-%012d", i), DN: fmt.Sprintf("uid=u%d,ou=people,dc=contoso,dc=com", i),
			GraphID: fmt.Sprintf("c0000000-0000-0000-0000-%012d", i), Lifecycle: state.LifecycleActive, Status: state.StatusOK, UpdatedAt: fixtureNow,
			Applied: map[string]string{"userPrincipalName": fmt.Sprintf(`"u%d@contoso.com"`, i), "displayName": fmt.Sprintf(`"User %d"`, i), "jobTitle": `"Engineer"`, "department": `"R&D"`}}
		if i%100 == 0 {
			o.Status, o.LastError, o.NextRetry = state.StatusFailed, "400 Request_BadRequest", fixtureNow.Add(time.Duration(i)*time.Second)
		}
		batch = append(batch, o)
		if len(batch) == cap(batch) {
			must(b, tc.st.PutObjects(ctx, batch))
			batch = batch[:0]
		}
	}
	for _, tt := range []struct {
		name, path string
		write      bool // the channel's objects changed since the last count
	}{
		{"page", "/", false},
		{"api", "/api/v1/overview", false},
		{"api after a write", "/api/v1/overview", true},
	} {
		path := tt.path
		b.Run(tt.name, func(b *testing.B) {
			for b.Loop() {
				if tt.write {
					tc.monitor.counts.invalidate("contoso")
				}
				req := httptest.NewRequest("GET", path, nil)
				req.Header.Set("Authorization", "Bearer "+testToken)
				rec := httptest.NewRecorder()
				tc.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatal(rec.Code, rec.Body.String())
				}
			}
		})
	}
}
