package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestConcurrentCallsArePackedIntoBatches(t *testing.T) {
	g, srv := newStub(t, func(r stubRequest) stubAnswer {
		id := strings.TrimPrefix(r.URL, "/users/")
		return stubAnswer{status: 200, body: map[string]any{"id": id}}
	})
	c, stats := newStubClient(t, srv, func(o *Options) { o.MaxThreads = 1; o.BatchDelay = 20 * time.Millisecond })
	const n = 100
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			id := fmt.Sprintf("u%03d", i)
			u, err := c.GetUser(context.Background(), id)
			if err == nil && u.ID != id {
				err = fmt.Errorf("asked for %s, got %s", id, u.ID)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	sizes := g.batchSizes()
	total := 0
	for _, s := range sizes {
		if s > maxBatch {
			t.Errorf("a $batch of %d", s)
		}
		total += s
	}
	if snap := stats.Snapshot(); snap.HTTPRequests > n/5+3 {
		t.Errorf("%d HTTP exchanges for %d calls (batches %v)", snap.HTTPRequests, n, sizes)
	}
	if len(g.seen()) != n {
		t.Errorf("Graph saw %d requests for %d calls", len(g.seen()), n)
	}
}

func TestOnlyFailedRequestsOfABatchAreSentAgain(t *testing.T) {
	var mu sync.Mutex
	sends := map[string]int{}
	g, srv := newStub(t, func(r stubRequest) stubAnswer {
		var p map[string]any
		_ = json.Unmarshal(r.Body, &p)
		name := p["displayName"].(string)
		mu.Lock()
		sends[name]++
		n := sends[name]
		mu.Unlock()
		if n == 1 && (name == "u1" || name == "u3") {
			return stubAnswer{status: 429, header: map[string]string{"Retry-After": "1.5", "x-ms-throttle-information": "WriteLimitExceeded"},
				body: graphError("TooManyRequests", "Please retry again later.")}
		}
		return created("id-" + name)
	})
	c, stats := newStubClient(t, srv, func(o *Options) { o.MaxThreads = 1; o.BatchDelay = 50 * time.Millisecond })
	b := c.NewBatch()
	var steps []*Step
	for i := range 5 {
		steps = append(steps, b.Add(CreateUserRequest(Properties{"displayName": fmt.Sprintf("u%d", i)})))
	}
	if err := b.Send(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i, s := range steps {
		var u User
		if err := s.Decode(&u); err != nil || u.ID != fmt.Sprintf("id-u%d", i) {
			t.Errorf("step %d: %v %q", i, err, u.ID)
		}
	}
	for name, n := range sends {
		want := 1
		if name == "u1" || name == "u3" {
			want = 2
		}
		if n != want {
			t.Errorf("%s sent %d times, want %d", name, n, want)
		}
	}
	if got := g.batchSizes(); len(got) != 2 || got[0] != 5 || got[1] != 2 {
		t.Errorf("batches %v, want [5 2]", got)
	}
	snap := stats.Snapshot()
	if snap.Throttled != 2 || snap.Retries[RetryThrottled] != 2 {
		t.Errorf("stats %+v", snap)
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	var mu sync.Mutex
	var at []time.Time
	var c *Client
	_, srv := newStub(t, func(r stubRequest) stubAnswer {
		mu.Lock()
		defer mu.Unlock()
		at = append(at, c.clock.Now())
		if len(at) == 1 {
			return stubAnswer{status: 429, header: map[string]string{"Retry-After": "2.5"}, body: graphError("TooManyRequests", "")}
		}
		return stubAnswer{status: 204}
	})
	c, _ = newStubClient(t, srv, nil)
	if err := c.PatchUser(context.Background(), "u1", Properties{"a": 1}); err != nil {
		t.Fatal(err)
	}
	if len(at) != 2 || at[1].Sub(at[0]) < 2500*time.Millisecond {
		t.Errorf("resent %v after a Retry-After of 2.5s (client clock)", at[len(at)-1].Sub(at[0]))
	}
}

func TestDependenciesTravelTogether(t *testing.T) {
	var mu sync.Mutex
	patches := 0
	g, srv := newStub(t, func(r stubRequest) stubAnswer {
		switch {
		case r.Method == "PATCH" && r.URL == "/users/ok":
			mu.Lock()
			patches++
			first := patches == 1
			mu.Unlock()
			if first {
				return stubAnswer{status: 503, body: graphError("serviceNotAvailable", "")}
			}
			return stubAnswer{status: 204}
		case r.Method == "PATCH" && r.URL == "/users/bad":
			return stubAnswer{status: 400, body: graphError("Request_BadRequest", "Invalid value specified for property 'usageLocation'")}
		case strings.HasSuffix(r.URL, "/assignLicense"):
			if len(r.DependsOn) != 1 {
				t.Errorf("assignLicense sent without its dependency: %+v", r)
			}
			return stubAnswer{status: 200, body: map[string]any{"id": "ok"}}
		}
		return stubAnswer{status: 500}
	})
	c, _ := newStubClient(t, srv, func(o *Options) { o.BatchDelay = 50 * time.Millisecond })
	b := c.NewBatch()
	p1 := b.Add(PatchUserRequest("ok", Properties{"usageLocation": "GB"}))
	a1 := b.AddAfter(p1, AssignLicenseRequest("ok", []AssignedLicense{{SkuID: "s"}}, nil))
	p2 := b.Add(PatchUserRequest("bad", Properties{"usageLocation": "??"}))
	a2 := b.AddAfter(p2, AssignLicenseRequest("bad", []AssignedLicense{{SkuID: "s"}}, nil))
	err := b.Send(context.Background())
	if err == nil {
		t.Fatal("no error although one chain failed")
	}
	if p1.Err() != nil || a1.Err() != nil {
		t.Errorf("the chain whose PATCH was retried failed: %v / %v", p1.Err(), a1.Err())
	}
	if !errors.Is(a2.Err(), ErrDependencyFailed) {
		t.Errorf("the dependent of a failed PATCH: %v", a2.Err())
	}
	var ge *Error
	if !errors.As(a2.Err(), &ge) || ge.Status != 400 {
		t.Errorf("the dependency's own error is not reachable: %v", a2.Err())
	}
	var sawChainAgain bool
	for _, r := range g.seen() {
		if strings.HasSuffix(r.URL, "/assignLicense") && r.Batched && len(r.DependsOn) == 1 {
			sawChainAgain = true
		}
	}
	if !sawChainAgain {
		t.Error("the retried PATCH was not sent again with its dependent")
	}
}

func TestBatchRefusesChainsOverTwenty(t *testing.T) {
	_, srv := newStub(t, func(stubRequest) stubAnswer { return stubAnswer{status: 204} })
	c, _ := newStubClient(t, srv, nil)
	b := c.NewBatch()
	prev := b.Add(PatchUserRequest("u", Properties{"a": 0}))
	for i := range maxBatch {
		prev = b.AddAfter(prev, PatchUserRequest("u", Properties{"a": i + 1}))
	}
	if err := b.Send(context.Background()); err == nil {
		t.Error("a chain of 21 was accepted")
	}
}

func TestLostAnswers(t *testing.T) {
	tests := []struct {
		name    string
		req     func(c *Client) *Request
		answers []stubAnswer
		sends   int
		unknown bool
		ok      bool
	}{
		{name: "a POST whose answer is lost is reported unknown and not sent again",
			req:     func(*Client) *Request { return CreateUserRequest(Properties{"displayName": "x"}) },
			answers: []stubAnswer{{drop: true}}, sends: 1, unknown: true},
		{name: "a POST answered 504 is reported unknown and not sent again",
			req:     func(*Client) *Request { return CreateUserRequest(Properties{"displayName": "x"}) },
			answers: []stubAnswer{{status: 504}}, sends: 1, unknown: true},
		{name: "a POST answered 503 was not taken and is sent again",
			req:     func(*Client) *Request { return CreateUserRequest(Properties{"displayName": "x"}) },
			answers: []stubAnswer{{status: 503}, created("u1")}, sends: 2, ok: true},
		{name: "a PATCH whose answer is lost is sent again",
			req:     func(*Client) *Request { return PatchUserRequest("u1", Properties{"a": 1}) },
			answers: []stubAnswer{{drop: true}, {status: 204}}, sends: 2, ok: true},
		{name: "a DELETE that 404s after a lost answer succeeded the first time",
			req:     func(*Client) *Request { return DeleteUserRequest("u1") },
			answers: []stubAnswer{{status: 504}, {status: 404, body: graphError("Request_ResourceNotFound", "")}}, sends: 2, ok: true},
		{name: "a first DELETE that 404s is not found",
			req:     func(*Client) *Request { return DeleteUserRequest("u1") },
			answers: []stubAnswer{{status: 404, body: graphError("Request_ResourceNotFound", "")}}, sends: 1},
		{name: "a 500 is retried until the attempts run out",
			req:     func(*Client) *Request { return GetUserRequest("u1") },
			answers: []stubAnswer{{status: 500}, {status: 500}, {status: 500}, {status: 500}, {status: 500}, {status: 500}, {status: 500}}, sends: 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			n := 0
			_, srv := newStub(t, nil)
			g := srv.Config.Handler.(*stubGraph)
			g.answer = func(stubRequest) stubAnswer {
				mu.Lock()
				defer mu.Unlock()
				n++
				return tt.answers[min(n, len(tt.answers))-1]
			}
			c, _ := newStubClient(t, srv, nil)
			_, err := c.Do(context.Background(), tt.req(c))
			if errors.Is(err, ErrOutcomeUnknown) != tt.unknown || (err == nil) != tt.ok {
				t.Errorf("err = %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if n != tt.sends {
				t.Errorf("sent %d times, want %d", n, tt.sends)
			}
		})
	}
}

func TestALostBatchResendsOnlyWhatIsSafe(t *testing.T) {
	var mu sync.Mutex
	first := true
	g, srv := newStub(t, func(r stubRequest) stubAnswer {
		mu.Lock()
		defer mu.Unlock()
		if r.Batched && first {
			first = false
			return stubAnswer{drop: true}
		}
		if r.Method == "POST" {
			return created("new")
		}
		return stubAnswer{status: 204}
	})
	c, _ := newStubClient(t, srv, func(o *Options) { o.MaxThreads = 1; o.BatchDelay = 50 * time.Millisecond })
	b := c.NewBatch()
	create := b.Add(CreateUserRequest(Properties{"displayName": "x"}))
	patch := b.Add(PatchUserRequest("u1", Properties{"a": 1}))
	_ = b.Send(context.Background())
	if !errors.Is(create.Err(), ErrOutcomeUnknown) {
		t.Errorf("create: %v", create.Err())
	}
	if patch.Err() != nil {
		t.Errorf("patch: %v", patch.Err())
	}
	posts := 0
	for _, r := range g.seen() {
		if r.Method == "POST" {
			posts++
		}
	}
	if posts != 1 {
		t.Errorf("the create reached Graph %d times", posts)
	}
}

func TestUnauthorizedRefreshesTheTokenOnce(t *testing.T) {
	tests := []struct {
		name        string
		refuseAll   bool
		wantErr     bool
		invalidated int64
	}{
		{name: "an expired token is replaced and the request succeeds", invalidated: 1},
		{name: "a token refused again is an error, after one refresh", refuseAll: true, wantErr: true, invalidated: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, srv := newStub(t, func(r stubRequest) stubAnswer {
				if r.Token == "token-0" || tt.refuseAll {
					return stubAnswer{status: 401, body: graphError("InvalidAuthenticationToken", "Access token has expired.")}
				}
				return stubAnswer{status: 200, body: map[string]any{"id": "u1"}}
			})
			tokens := &staticTokens{}
			c, _ := newStubClient(t, srv, func(o *Options) { o.Tokens = tokens })
			_, err := c.GetUser(context.Background(), "u1")
			if (err != nil) != tt.wantErr {
				t.Errorf("err = %v", err)
			}
			if got := tokens.invalidated.Load(); got != tt.invalidated {
				t.Errorf("token invalidated %d times", got)
			}
			if err != nil && strings.Contains(err.Error(), "token-") {
				t.Errorf("the error shows the token: %v", err)
			}
		})
	}
}

func TestReplicationLag(t *testing.T) {
	var mu sync.Mutex
	gets := map[string]int{}
	_, srv := newStub(t, func(r stubRequest) stubAnswer {
		if r.Method == "POST" {
			return stubAnswer{status: 201, body: map[string]any{"id": "new", "userPrincipalName": "New@contoso.com"}}
		}
		mu.Lock()
		defer mu.Unlock()
		gets[r.URL]++
		if r.URL == "/users/other" || gets[r.URL] <= 2 {
			return stubAnswer{status: 404, body: graphError("Request_ResourceNotFound", "Resource does not exist")}
		}
		return stubAnswer{status: 204}
	})
	c, stats := newStubClient(t, srv, nil)
	ctx := context.Background()
	if _, err := c.CreateUser(ctx, Properties{"displayName": "n"}); err != nil {
		t.Fatal(err)
	}
	t.Run("a 404 on the object just created is retried until it appears", func(t *testing.T) {
		if err := c.PatchUser(ctx, "new", Properties{"a": 1}); err != nil {
			t.Error(err)
		}
		if err := c.PatchUser(ctx, "new@contoso.com", Properties{"a": 1}); err != nil {
			t.Errorf("by UPN: %v", err)
		}
	})
	t.Run("a 404 on any other object is returned at once", func(t *testing.T) {
		err := c.PatchUser(ctx, "other", Properties{"a": 1})
		if !IsNotFound(err) || gets["/users/other"] != 1 {
			t.Errorf("err %v after %d sends", err, gets["/users/other"])
		}
	})
	if got := stats.Snapshot().Retries[RetryLag]; got != 4 {
		t.Errorf("%d lag retries, want 4", got)
	}
}

func TestCancelledContextStopsQueuedWork(t *testing.T) {
	release := make(chan struct{})
	var mu sync.Mutex
	seen := 0
	_, srv := newStub(t, func(r stubRequest) stubAnswer {
		mu.Lock()
		seen++
		mu.Unlock()
		<-release
		return stubAnswer{status: 204}
	})
	c, _ := newStubClient(t, srv, func(o *Options) { o.MaxThreads = 1; o.BatchDelay = -1 })
	firstDone := make(chan error)
	go func() { firstDone <- c.PatchUser(context.Background(), "first", Properties{"a": 1}) }()
	for {
		mu.Lock()
		s := seen
		mu.Unlock()
		if s == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for i := range 10 {
		wg.Go(func() { errs <- c.PatchUser(ctx, fmt.Sprintf("u%d", i), Properties{"a": 1}) })
	}
	time.Sleep(10 * time.Millisecond)
	cancel()
	wg.Wait()
	close(errs)
	for err := range errs {
		if !errors.Is(err, context.Canceled) || errors.Is(err, ErrOutcomeUnknown) {
			t.Errorf("a queued call ended with %v", err)
		}
	}
	close(release)
	if err := <-firstDone; err != nil {
		t.Error(err)
	}
	_ = c.Close()
	if seen != 1 {
		t.Errorf("Graph saw %d requests; the cancelled ones must not be sent", seen)
	}
}

func TestNoOpWritesSendNothing(t *testing.T) {
	g, srv := newStub(t, func(stubRequest) stubAnswer { return stubAnswer{status: 500} })
	c, _ := newStubClient(t, srv, nil)
	ctx := context.Background()
	if err := c.PatchUser(ctx, "u", nil); err != nil {
		t.Error(err)
	}
	if err := c.PatchGroup(ctx, "g", Properties{}); err != nil {
		t.Error(err)
	}
	if _, err := c.AssignLicense(ctx, "u", nil, nil); err != nil {
		t.Error(err)
	}
	if err := c.AddMembers(ctx, "g", nil); err != nil {
		t.Error(err)
	}
	if n := len(g.seen()); n != 0 {
		t.Errorf("%d requests sent for nothing", n)
	}
}

func TestClosedClientRefusesWork(t *testing.T) {
	_, srv := newStub(t, func(stubRequest) stubAnswer { return stubAnswer{status: 204} })
	c, _ := newStubClient(t, srv, nil)
	_ = c.Close()
	if err := c.PatchUser(context.Background(), "u", Properties{"a": 1}); !errors.Is(err, ErrClosed) {
		t.Errorf("got %v", err)
	}
}

func TestRequestsAreLoggedWithTemplatesOnly(t *testing.T) {
	var buf SyncBuffer
	_, srv := newStub(t, func(r stubRequest) stubAnswer {
		return stubAnswer{status: 404, header: map[string]string{"request-id": "rid-42"}, body: graphError("Request_ResourceNotFound", "gone")}
	})
	c, _ := newStubClient(t, srv, func(o *Options) { o.Logger = debugLogger(&buf) })
	_, _ = c.GetUser(context.Background(), "alice@contoso.com")
	log := buf.String()
	for _, leak := range []string{"alice", "token-0", "Bearer"} {
		if strings.Contains(log, leak) {
			t.Errorf("log shows %q: %s", leak, log)
		}
	}
	for _, want := range []string{"path=/users/{id}", "status=404", "request-id=rid-42", "method=GET"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q: %s", want, log)
		}
	}
}

func TestNextLinkElsewhereIsRefused(t *testing.T) {
	_, srv := newStub(t, func(stubRequest) stubAnswer {
		return stubAnswer{status: 200, body: map[string]any{"value": []any{map[string]any{"id": "a"}}, "@odata.nextLink": "https://evil.example/v1.0/users?$skiptoken=x"}}
	})
	c, _ := newStubClient(t, srv, nil)
	n := 0
	var last error
	for _, err := range c.ListUsers(context.Background(), Query{}) {
		n++
		last = err
	}
	if n != 2 || last == nil || !strings.Contains(last.Error(), "evil.example") {
		t.Errorf("%d items, last error %v", n, last)
	}
}

func TestCallsAreAnsweredEvenIfTheServerKeepsFailing(t *testing.T) {
	_, srv := newStub(t, func(stubRequest) stubAnswer {
		return stubAnswer{status: 429, header: map[string]string{"Retry-After": "0.01"}}
	})
	c, _ := newStubClient(t, srv, func(o *Options) { o.Retry.ThrottledAttempts = 3 })
	_, err := c.GetUser(context.Background(), "u")
	if !IsThrottled(err) {
		t.Errorf("got %v", err)
	}
}

var _ http.Handler = (*stubGraph)(nil)

func TestARefusedRetryAfterALostAnswerIsAnUnknownOutcome(t *testing.T) {
	var mu sync.Mutex
	n := 0
	_, srv := newStub(t, func(stubRequest) stubAnswer {
		mu.Lock()
		defer mu.Unlock()
		n++
		if n == 1 {
			return stubAnswer{drop: true}
		}
		return stubAnswer{status: 400, body: graphError("Request_BadRequest", "User does not have a corresponding license.")}
	})
	c, _ := newStubClient(t, srv, nil)
	_, err := c.AssignLicense(context.Background(), "u1", nil, []string{"sku"})
	var ge *Error
	if !errors.Is(err, ErrOutcomeUnknown) || !errors.As(err, &ge) || ge.Status != 400 {
		t.Errorf("got %v", err)
	}
}

func TestA429PausesEverySender(t *testing.T) {
	var mu sync.Mutex
	var first time.Time
	var after []time.Time
	var c *Client
	_, srv := newStub(t, func(r stubRequest) stubAnswer {
		mu.Lock()
		defer mu.Unlock()
		now := c.clock.Now()
		if first.IsZero() {
			first = now
			return stubAnswer{status: 429, header: map[string]string{"Retry-After": "5", "x-ms-throttle-information": "WriteLimitExceeded"}}
		}
		after = append(after, now)
		return stubAnswer{status: 204}
	})
	c, _ = newStubClient(t, srv, func(o *Options) { o.BatchDelay = -1 })
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Go(func() {
			if err := c.PatchUser(context.Background(), fmt.Sprintf("u%d", i), Properties{"a": 1}); err != nil {
				t.Error(err)
			}
		})
		if i == 0 {
			time.Sleep(5 * time.Millisecond) // let the first one meet the 429 alone
		}
	}
	wg.Wait()
	for _, at := range after {
		if d := at.Sub(first); d < 5*time.Second {
			t.Errorf("a request went %v after a 429 that said Retry-After: 5", d)
		}
	}
}

func TestATimedOutRequestIsSentOnceMore(t *testing.T) {
	const timeout = 50 * time.Millisecond
	tests := []struct {
		name  string
		hangs int // the first hangs sends get no answer within the timeout
		sends int
		ok    bool
	}{
		{name: "a GET that keeps timing out is sent twice, not until the transient attempts run out", hangs: 99, sends: 2},
		{name: "a GET answered after one timeout succeeds", hangs: 1, sends: 2, ok: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n atomic.Int32
			_, srv := newStub(t, func(stubRequest) stubAnswer {
				if int(n.Add(1)) <= tt.hangs {
					time.Sleep(6 * timeout)
				}
				return stubAnswer{status: 200, body: map[string]any{"id": "u1"}}
			})
			c, _ := newStubClient(t, srv, func(o *Options) { o.Timeout = timeout })
			_, err := c.Do(context.Background(), GetUserRequest("u1"))
			if (err == nil) != tt.ok {
				t.Errorf("err = %v", err)
			}
			if !tt.ok && !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("err = %v, want a timeout", err)
			}
			if got := int(n.Load()); got != tt.sends {
				t.Errorf("sent %d times, want %d", got, tt.sends)
			}
		})
	}
}
