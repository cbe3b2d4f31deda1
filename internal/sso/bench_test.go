package sso

import (
	"crypto/rand"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"
)

// BenchmarkSignedAssertion measures signing: one SAML 1.1 assertion (what a
// WS-Federation sign-in costs in crypto and XML) per op.
func BenchmarkSignedAssertion(b *testing.B) {
	tb := tokenBuilder{issuer: "https://sso.contoso.com", signer: signer{key: testKey(b)}, random: rand.Reader}
	g := fixedGrant()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := tb.saml11(g); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkSignInPost measures a full login POST (CSRF and flow check,
// lockout check, password check against an in-memory directory, session,
// signed token, page) over loopback HTTP, and reports median and p99.
func BenchmarkSignInPost(b *testing.B) {
	h := newHarness(b, harnessConfig{})
	start := h.isrv.URL + "/idp/prp.wsf?wa=wsignin1.0&wtrealm=urn:federation:MicrosoftOnline&wctx=x"
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		h.client = newBrowser()
		form := h.get(start)
		v := form.hidden()
		v.Set("username", "alice@fed.contoso.com")
		v.Set("password", alicePassword)
		b.StartTimer()
		t0 := time.Now()
		resp, err := h.client.PostForm(h.isrv.URL+"/idp/login", url.Values(v))
		if err != nil {
			b.Fatal(err)
		}
		r := readReply(b, resp)
		lat = append(lat, time.Since(t0))
		if !strings.Contains(r.body, "wresult") {
			b.Fatalf("no token: %d", r.status)
		}
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "median-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}
