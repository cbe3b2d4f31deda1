package graph

import (
	"errors"
	"net/http"
	"testing"
	"time"
)

func TestInFlightFollowsGraphsLatency(t *testing.T) {
	_, srv := newStub(t, func(stubRequest) stubAnswer { return stubAnswer{status: http.StatusNoContent} })
	c, _ := newStubClient(t, srv, func(o *Options) { o.Clock = SystemClock(); o.Limits = nil })
	t.Run("before any answer callers keep two full batches queued", func(t *testing.T) {
		if got := c.InFlight(); got != 2*maxBatch {
			t.Errorf("InFlight %d, want %d", got, 2*maxBatch)
		}
	})
	t.Run("a failed exchange says nothing of the latency", func(t *testing.T) {
		c.observeLatency(time.Minute, errors.New("connection reset"))
		if got := c.Latency(); got != 0 {
			t.Errorf("latency %v after a failure, want 0", got)
		}
	})
	t.Run("answers taking 3 s call for the rate times the latency, twice over", func(t *testing.T) {
		c.observeLatency(3*time.Second, nil)
		// 2,970 writes per 150 s × 3 s × 2 = 118.8 requests on the wire.
		if got := c.InFlight(); got != 119+2*maxBatch {
			t.Errorf("InFlight %d, want %d", got, 119+2*maxBatch)
		}
		c.sendersMu.Lock()
		n := c.senders
		c.sendersMu.Unlock()
		if n != 8 {
			t.Errorf("%d senders, want 8 (six full batches on the wire, two more)", n)
		}
	})
	t.Run("a slower answer among faster ones leaves the least latency", func(t *testing.T) {
		c.observeLatency(5*time.Second, nil)
		if got := c.Latency(); got != 3*time.Second {
			t.Errorf("latency %v, want 3s", got)
		}
	})
	t.Run("a hung exchange counts as 30 s at most", func(t *testing.T) {
		f := &flow{}
		f.observe(time.Now(), time.Hour)
		if got := f.latency(); got != maxLatencySample {
			t.Errorf("latency %v, want %v", got, maxLatencySample)
		}
		for range 100 {
			c.observeLatency(time.Hour, nil)
		}
		if got := c.InFlight(); got > maxInFlight {
			t.Errorf("InFlight %d beyond %d", got, maxInFlight)
		}
		c.sendersMu.Lock()
		n := c.senders
		c.sendersMu.Unlock()
		if n > maxSenders {
			t.Errorf("%d senders beyond %d", n, maxSenders)
		}
	})
}

func TestTheLeastLatencyFollowsASlowerGraphWithinTwoPeriods(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := &flow{}
	f.observe(start, 100*time.Millisecond)
	f.observe(start.Add(latencyPeriod), 2*time.Second)
	if got := f.latency(); got != 100*time.Millisecond {
		t.Errorf("one period on: %v, want the 100ms still remembered", got)
	}
	f.observe(start.Add(2*latencyPeriod), 2*time.Second)
	if got := f.latency(); got != 2*time.Second {
		t.Errorf("two periods on: %v, want 2s", got)
	}
}
