package graph

import (
	"math"
	"sync"
	"time"
)

// Flow control: to spend Graph's rate r when each exchange takes a latency
// L, about r × L requests must be on the wire at once (bandwidth × delay).
// A fixed number of senders or callers reaches the ceiling only below one
// latency: with 20 requests in flight and batches taking 1 s, the rate
// tops out under 20/s. The client measures the latency of its exchanges
// and sizes both what it keeps in flight (more senders) and what it asks
// its callers to keep queued (InFlight) from it, so maxThreads is a floor
// and never needs raising for a slow Graph.
//
// The latency taken is the least seen over the last period or two, as BBR
// takes the least round trip: an average would count the time requests
// spend queued behind this client's own (a busy server, a busy machine)
// and keep widening the flow to no gain. The margin covers the spread
// between the least latency and the average.
const (
	// flowMargin covers latency that varies above its least and the batch
	// that waits its turn at the pacer (BBR's gain of 2).
	flowMargin = 2.0
	// latencyPeriod is how long the least latency is remembered: one to two
	// periods, so a Graph that becomes slower is followed within seconds.
	latencyPeriod = 5 * time.Second
	// maxLatencySample bounds one sample: an exchange that hung until its
	// timeout says nothing about how many requests to keep in flight.
	maxLatencySample = 30 * time.Second
	// maxSenders bounds concurrent exchanges whatever the latency (the
	// highest maxThreads configuration allows).
	maxSenders = 64
	// maxInFlight bounds what InFlight asks callers to keep queued.
	maxInFlight = maxSenders * maxBatch
)

// flow keeps the least latency of answered exchanges in this period and
// the one before.
type flow struct {
	mu         sync.Mutex
	since      time.Time // this period began
	least      time.Duration
	leastPrior time.Duration // 0: no sample
}

func (f *flow) observe(now time.Time, d time.Duration) {
	d = min(max(d, time.Nanosecond), maxLatencySample)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.least == 0 || now.Sub(f.since) >= latencyPeriod {
		f.leastPrior, f.least, f.since = f.least, d, now
		return
	}
	f.least = min(f.least, d)
}

func (f *flow) latency() time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.leastPrior > 0 {
		return min(f.least, f.leastPrior)
	}
	return f.least
}

// observeLatency takes an answered exchange's duration into the smoothed
// latency and starts senders if it now calls for more; a failed exchange
// (err) tells nothing of Graph's latency.
func (c *Client) observeLatency(d time.Duration, err error) {
	if err != nil {
		return
	}
	c.flow.observe(c.clock.Now(), d)
	c.grow()
}

// Latency is the least duration of Graph's answers (one HTTP exchange, a
// $batch included) in the last few seconds, on the client's clock; 0
// before the first answer.
func (c *Client) Latency() time.Duration { return c.flow.latency() }

// inFlightRequests is how many requests must be on the wire to spend the
// write quota in force at the measured latency, with the margin.
func (c *Client) inFlightRequests() float64 {
	return c.pacer.writeRate() * c.flow.latency().Seconds() * flowMargin
}

// InFlight is how many requests a caller should keep submitted at once
// (from as many goroutines) for the client to reach Graph's write rate:
// the rate in force times the measured latency, twice over, plus two full
// $batches waiting their turn. It follows the latency as it changes;
// callers read it as they go.
func (c *Client) InFlight() int {
	return min(maxInFlight, int(math.Ceil(c.inFlightRequests()))+2*maxBatch)
}

// wantSenders is how many senders the measured latency calls for: one per
// full batch on the wire, plus two (one filling, one waiting its turn at
// the pacer), at most maxSenders.
func (c *Client) wantSenders() int {
	return min(maxSenders, int(math.Ceil(c.inFlightRequests()/maxBatch))+2)
}

// grow starts senders until there are as many as the latency calls for,
// and wakes parked ones when it calls for more than before. The first
// MaxThreads senders always run; the others run only while they are
// wanted (awaitTurn), so a quota cut after a 429 also narrows the flow.
func (c *Client) grow() {
	want := c.wantSenders()
	c.sendersMu.Lock()
	defer c.sendersMu.Unlock()
	if c.ctx.Err() != nil {
		return // closing: Close waits for the senders it knows
	}
	if want > c.wanted {
		close(c.widen)
		c.widen = make(chan struct{})
	}
	c.wanted = want
	for c.senders < want {
		c.wg.Add(1)
		go c.sender(c.senders)
		c.senders++
	}
}

// awaitTurn parks the sender with this index while the latency calls for
// fewer senders; false once the client is closing.
func (c *Client) awaitTurn(index int) bool {
	for {
		want := c.wantSenders()
		c.sendersMu.Lock()
		widen := c.widen
		c.sendersMu.Unlock()
		if index < want {
			return true
		}
		select {
		case <-widen:
		case <-c.ctx.Done():
			return false
		}
	}
}
