package graph

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/o365prov/o365prov/internal/config"
)

// stubAnswer is what a stub Graph says to one request.
type stubAnswer struct {
	status int
	header map[string]string
	body   any
	// drop closes the connection without an answer, as a timeout would.
	drop bool
}

// stubRequest is one request as the stub saw it, batched or not.
type stubRequest struct {
	Method    string
	URL       string // relative to /v1.0, with query
	Body      json.RawMessage
	Header    http.Header
	DependsOn []string
	Batched   bool
	Token     string
}

// stubGraph is a scripted Graph for unit tests: it unpacks $batch like
// Graph does (answers shuffled, dependsOn honoured with 424) and asks answer
// for each request. It is not the fake tenant; it lets a test say exactly
// what comes back.
type stubGraph struct {
	t      *testing.T
	answer func(r stubRequest) stubAnswer

	mu       sync.Mutex
	requests []stubRequest
	batches  []int // sizes of $batch calls received
	rng      *rand.Rand
	// outer, when set, answers the HTTP exchange itself (a whole $batch or a
	// lone request) before answer is asked anything.
	outer func(batched bool) *stubAnswer
}

func newStub(t *testing.T, answer func(r stubRequest) stubAnswer) (*stubGraph, *httptest.Server) {
	g := &stubGraph{t: t, answer: answer, rng: rand.New(rand.NewPCG(1, 2))}
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	return g, srv
}

func (g *stubGraph) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	path := strings.TrimPrefix(r.URL.RequestURI(), "/v1.0")
	if path != "/$batch" {
		if g.outer != nil {
			if a := g.outer(false); a != nil {
				writeStub(w, *a)
				return
			}
		}
		req := stubRequest{Method: r.Method, URL: path, Body: body, Header: r.Header, Token: token}
		g.record(req)
		writeStub(w, g.answer(req))
		return
	}
	var br batchRequest
	if err := json.Unmarshal(body, &br); err != nil {
		g.t.Errorf("stub: bad $batch body: %v", err)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	g.mu.Lock()
	g.batches = append(g.batches, len(br.Requests))
	g.mu.Unlock()
	if len(br.Requests) > maxBatch {
		g.t.Errorf("stub: $batch of %d requests", len(br.Requests))
	}
	if g.outer != nil {
		if a := g.outer(true); a != nil {
			writeStub(w, *a)
			return
		}
	}
	status := map[string]int{}
	var out batchResponse
	for _, it := range br.Requests {
		var a stubAnswer
		if len(it.DependsOn) > 0 && status[it.DependsOn[0]] >= 400 {
			a = stubAnswer{status: http.StatusFailedDependency}
		} else {
			h := http.Header{}
			for k, v := range it.Headers {
				h.Set(k, v)
			}
			req := stubRequest{Method: it.Method, URL: it.URL, Body: it.Body, Header: h, DependsOn: it.DependsOn, Batched: true, Token: token}
			g.record(req)
			a = g.answer(req)
		}
		if a.drop {
			writeStub(w, a)
			return
		}
		status[it.ID] = a.status
		var b json.RawMessage
		if a.body != nil {
			b, _ = json.Marshal(a.body)
		}
		out.Responses = append(out.Responses, batchAnswer{ID: it.ID, Status: a.status, Headers: a.header, Body: b})
	}
	g.mu.Lock()
	g.rng.Shuffle(len(out.Responses), func(i, j int) { out.Responses[i], out.Responses[j] = out.Responses[j], out.Responses[i] })
	g.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

func (g *stubGraph) record(r stubRequest) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.requests = append(g.requests, r)
}

func (g *stubGraph) seen() []stubRequest {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]stubRequest(nil), g.requests...)
}

func (g *stubGraph) batchSizes() []int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]int(nil), g.batches...)
}

func writeStub(w http.ResponseWriter, a stubAnswer) {
	if a.drop {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			_ = conn.Close()
		}
		return
	}
	for k, v := range a.header {
		w.Header().Set(k, v)
	}
	if a.body == nil {
		w.WriteHeader(a.status)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(a.status)
	_ = json.NewEncoder(w).Encode(a.body)
}

// graphError is a Graph error envelope.
func graphError(code, message string) map[string]any {
	return map[string]any{"error": map[string]any{"code": code, "message": message,
		"innerError": map[string]any{"request-id": "req-1", "date": "2026-01-01T00:00:00"}}}
}

// staticTokens hands out "token-N", a new N after each Invalidate.
type staticTokens struct {
	gen         atomic.Int64
	invalidated atomic.Int64
}

func (s *staticTokens) Token(context.Context) (string, error) {
	return "token-" + strconv.FormatInt(s.gen.Load(), 10), nil
}

func (s *staticTokens) Invalidate(token string) {
	if token == "token-"+strconv.FormatInt(s.gen.Load(), 10) {
		s.gen.Add(1)
		s.invalidated.Add(1)
	}
}

// newStubClient builds a client for srv whose clock runs 1000× fast, so
// backoffs of seconds take milliseconds.
func newStubClient(t *testing.T, srv *httptest.Server, mod func(*Options)) (*Client, *Stats) {
	t.Helper()
	stats := &Stats{}
	o := Options{
		HTTPClient: srv.Client(),
		Tokens:     &staticTokens{},
		MaxThreads: 4,
		Timeout:    5 * time.Second,
		Clock:      fastClock(1000),
		Rand:       rand.New(rand.NewPCG(7, 7)),
		Metrics:    stats,
	}
	if mod != nil {
		mod(&o)
	}
	c, err := New(config.Target{Tenant: "t", ClientID: "c", GraphURL: srv.URL, WriteRate: 20, ResourceUnits: 3500}, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c, stats
}

// created answers a POST with a new object.
func created(id string) stubAnswer {
	return stubAnswer{status: http.StatusCreated, body: map[string]any{"id": id}}
}

func debugLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// fastClock runs scale times faster than the wall clock, so that backoffs
// and Retry-After values of seconds take milliseconds in stub tests (whose
// stub speaks in the client's time).
func fastClock(scale float64) Clock {
	now := time.Now()
	return &scaledClock{scale: scale, wallOrigin: now, origin: now}
}

type scaledClock struct {
	scale      float64
	wallOrigin time.Time
	origin     time.Time
}

func (c *scaledClock) Now() time.Time {
	return c.origin.Add(time.Duration(float64(time.Since(c.wallOrigin)) * c.scale))
}

func (c *scaledClock) After(d time.Duration) <-chan time.Time {
	out := make(chan time.Time, 1)
	time.AfterFunc(time.Duration(float64(d)/c.scale), func() { out <- c.Now() })
	return out
}
