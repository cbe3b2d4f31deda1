package bench

import (
	"slices"
	"time"
)

// Graph's write limits (docs/graph.md §6.2): one app may write 3,000 times
// per 150 s in a tenant, about 20 writes/s.
const (
	CeilingWrites = 3000
	CeilingWindow = 150 * time.Second
	// Ceiling is one app's sustained write rate, writes per second.
	Ceiling = float64(CeilingWrites) / 150
)

// sortedTimes returns times sorted, leaving the caller's slice alone.
func sortedTimes(times []time.Time) []time.Time {
	s := slices.Clone(times)
	slices.SortFunc(s, func(a, b time.Time) int { return a.Compare(b) })
	return s
}

// WriteRate is the accepted writes per second of tenant time from the first
// accepted write to the last: the rate the client sustained.
func WriteRate(times []time.Time) float64 {
	s := sortedTimes(times)
	if len(s) < 2 {
		return 0
	}
	span := s[len(s)-1].Sub(s[0]).Seconds()
	if span <= 0 {
		return 0
	}
	return float64(len(s)-1) / span
}

// Bucket is the writes accepted in one span of tenant time.
type Bucket struct {
	// Start is seconds of tenant time since the first write.
	Start  float64 `json:"start"`
	Writes int     `json:"writes"`
}

// Buckets counts writes per width of tenant time from the first write.
func Buckets(times []time.Time, width time.Duration) []Bucket {
	s := sortedTimes(times)
	if len(s) == 0 || width <= 0 {
		return nil
	}
	n := int(s[len(s)-1].Sub(s[0])/width) + 1
	out := make([]Bucket, n)
	for i := range out {
		out[i].Start = (time.Duration(i) * width).Seconds()
	}
	for _, t := range s {
		out[int(t.Sub(s[0])/width)].Writes++
	}
	return out
}
