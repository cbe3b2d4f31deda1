package sso

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkWSTrustRequest measures the active profile's server side: one
// usernamemixed WS-Trust 1.3 request per op (read and parse the SOAP, replay
// and lockout checks, password check against an in-memory directory, the
// signed SAML 1.1 assertion, the RSTRC), through the handler without a
// network, and reports requests per second per core.
func BenchmarkWSTrustRequest(b *testing.B) {
	h := newHarness(b, harnessConfig{})
	handler := h.idp.Handler()
	var n atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			q := rstRequest{messageID: fmt.Sprintf("urn:uuid:%d", n.Add(1)), user: "alice@fed.contoso.com", password: alicePassword, created: time.Now()}
			req := httptest.NewRequest(http.MethodPost, ActivePath, strings.NewReader(q.String()))
			rec := httptest.NewRecorder()
			handler.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Errorf("status %d: %s", rec.Code, rec.Body.String())
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/float64(runtime.GOMAXPROCS(0)), "req/s/core")
}
