package graph

import (
	"testing"
	"time"
)

// BenchmarkPacerReserve is the cost of pacing one request when every write
// travels alone (no $batch) and the 150 s window holds Graph's whole quota:
// 3,000 answered spends, the worst case for the window. Each iteration
// reserves one write and one RU, waits its turn on a manual clock, and
// finishes; 50 ms of latency keeps one request on the wire.
//
// Run: go test -run '^$' -bench PacerReserve ./internal/graph/
func BenchmarkPacerReserve(b *testing.B) {
	clock := newManualClock()
	p := newPacer(Limits{Writes: 3000, WriteWindow: 150 * time.Second, ResourceUnits: 3500, RUWindow: 10 * time.Second}, clock)
	const latency = 50 * time.Millisecond
	var onWire *ticket
	// Fill the window first, as a long run would have.
	step := func() {
		tk, at := p.reserve(1, 1)
		if d := at.Sub(clock.Now()); d > 0 {
			clock.Advance(d)
		}
		if onWire != nil {
			p.finish(onWire, 1)
		}
		onWire = tk
	}
	for range 3500 {
		step()
	}
	clock.Advance(latency)
	b.ResetTimer()
	for range b.N {
		step()
	}
}
