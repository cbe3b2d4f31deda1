package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/o365prov/o365prov/internal/config"
)

// Options tune a Client. Every field has a working default.
type Options struct {
	// HTTPClient carries Graph requests; default NewHTTPClient(target).
	HTTPClient *http.Client
	// Tokens gives bearer tokens; default MSAL with the target's secret or
	// certificate, over HTTPClient.
	Tokens TokenSource
	// MaxThreads is how many HTTP exchanges with Graph may run at once
	// (the channel's maxThreads) to begin with; default
	// config.DefaultMaxThreads. When Graph answers slowly the client runs
	// more, as many as its write rate times the measured latency calls
	// for, up to 64 (see InFlight).
	MaxThreads int
	// Timeout bounds one HTTP exchange; default config.DefaultTimeout.
	Timeout time.Duration
	// Limits overrides the pacing buckets, used as given; default from the
	// target's writeRate and resourceUnits, scaled by its timeScale.
	Limits *Limits
	// Retry bounds retries; its durations (given or default) are scaled by
	// the target's timeScale.
	Retry RetryPolicy
	// BatchDelay is how long a sender waits for more concurrent requests
	// to fill a $batch when fewer than 20 are queued; default 2ms,
	// negative sends at once.
	BatchDelay time.Duration
	// Clock paces and backs off; default the wall clock.
	Clock Clock
	// Rand draws jitter and client-request-ids; default seeded from time.
	Rand *rand.Rand
	// Logger gets one debug line per request; default discards.
	Logger  *slog.Logger
	Metrics Metrics
}

// Client talks to Microsoft Graph for one app in one tenant. It is safe for
// concurrent use: calls from many goroutines are paced together and packed
// up to 20 per $batch. Close it when done.
type Client struct {
	base    string // graphURL + "/v1.0"
	hc      *http.Client
	tokens  TokenSource
	clock   Clock
	pacer   *pacer
	queue   *queue
	created *createdSet
	retry   RetryPolicy
	jitter  *jitter
	log     *slog.Logger
	metrics Metrics
	timeout time.Duration
	linger  time.Duration

	ctx    context.Context // lives until Close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// senders counts the sender goroutines: minSenders (MaxThreads) at
	// first, more as the measured latency calls for them (flow.go), of
	// which wanted run; widen is closed when wanted grows.
	sendersMu  sync.Mutex
	minSenders int
	senders    int
	wanted     int
	widen      chan struct{}
	flow       flow

	skus skuCache
}

// New builds a client for target and starts its senders.
func New(target config.Target, o Options) (*Client, error) {
	o = withDefaults(o)
	if o.HTTPClient == nil {
		hc, err := NewHTTPClient(target, o.MaxThreads)
		if err != nil {
			return nil, err
		}
		o.HTTPClient = hc
	}
	if o.Tokens == nil {
		ts, err := NewMSALTokenSource(target, o.HTTPClient)
		if err != nil {
			return nil, err
		}
		o.Tokens = ts
	}
	limits := limitsFrom(target.WriteRate, target.ResourceUnits).Scaled(target.TimeScale)
	o.Retry = o.Retry.Scaled(target.TimeScale)
	if o.Limits != nil {
		limits = *o.Limits
	}
	if limits.Writes <= 0 || limits.WriteWindow <= 0 || limits.ResourceUnits <= 0 || limits.RUWindow <= 0 {
		return nil, fmt.Errorf("graph client: limits %+v: every quota and window must be positive", limits)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Client{
		base:    strings.TrimRight(orDefault(target.GraphURL, config.DefaultGraphURL), "/") + "/v1.0",
		hc:      o.HTTPClient,
		tokens:  o.Tokens,
		clock:   o.Clock,
		pacer:   newPacer(limits, o.Clock),
		queue:   newQueue(o.Clock, maxSenders),
		created: newCreatedSet(o.Retry.LagWindow),
		retry:   o.Retry,
		jitter:  &jitter{rng: o.Rand},
		log:     o.Logger,
		metrics: o.Metrics,
		timeout: o.Timeout,
		linger:  o.BatchDelay,
		ctx:     ctx,
		cancel:  cancel,

		minSenders: o.MaxThreads,
		widen:      make(chan struct{}),
	}
	c.skus.ttl = skuCacheTTL
	c.sendersMu.Lock()
	for c.senders < c.minSenders {
		c.wg.Add(1)
		go c.sender(c.senders)
		c.senders++
	}
	c.sendersMu.Unlock()
	return c, nil
}

func withDefaults(o Options) Options {
	if o.MaxThreads <= 0 {
		o.MaxThreads = config.DefaultMaxThreads
	}
	if o.Timeout <= 0 {
		o.Timeout = config.DefaultTimeout
	}
	if o.BatchDelay == 0 {
		o.BatchDelay = 2 * time.Millisecond
	}
	if o.Clock == nil {
		o.Clock = SystemClock()
	}
	if o.Rand == nil {
		o.Rand = rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0x6f33))
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Metrics == nil {
		o.Metrics = NopMetrics{}
	}
	o.Retry = o.Retry.withDefaults()
	return o
}

// Close stops the senders. Requests still queued end with ErrClosed;
// requests on the wire are abandoned (for writes, ErrOutcomeUnknown).
func (c *Client) Close() error {
	c.sendersMu.Lock()
	c.cancel()
	c.sendersMu.Unlock()
	for _, u := range c.queue.close() {
		for _, cl := range u.calls {
			cl.finish(nil, ErrClosed)
		}
	}
	c.wg.Wait()
	return nil
}

// Do sends r (batched with concurrent requests when possible, paced,
// retried as its kind allows) and returns Graph's answer. An error answer
// is a *Error; see IsNotFound, IsConflict, ErrOutcomeUnknown.
func (c *Client) Do(ctx context.Context, r *Request) (*Response, error) {
	if r.bodyErr != nil {
		return nil, fmt.Errorf("%s %s: encode body: %w", r.Method, r.Template, r.bodyErr)
	}
	cl := newCall(ctx, r)
	if err := c.submit(ctx, &unit{calls: []*call{cl}}); err != nil {
		return nil, err
	}
	return c.await(ctx, cl)
}

// submit queues a unit unless ctx is already done or the client closed.
func (c *Client) submit(ctx context.Context, u *unit) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !c.queue.push(u) {
		return ErrClosed
	}
	return nil
}

// await waits for cl's outcome or for ctx; a caller that gives up never
// sees its request sent afterwards.
func (c *Client) await(ctx context.Context, cl *call) (*Response, error) {
	select {
	case <-cl.done:
	case <-ctx.Done():
		cl.abandon(ctx.Err())
	}
	return cl.result()
}

var errNoAnswer = errors.New("no answer for this request in the $batch response")
