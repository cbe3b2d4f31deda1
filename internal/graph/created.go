package graph

import (
	"strings"
	"sync"
	"time"
)

// createdSet remembers the objects this client created (or restored) a
// moment ago, by id and by UPN, so that a 404 naming one of them is taken
// for replication lag (graph.md §7) and retried, while every other 404 is
// final.
type createdSet struct {
	window time.Duration

	mu    sync.Mutex
	at    map[string]time.Time
	added int
}

func newCreatedSet(window time.Duration) *createdSet {
	return &createdSet{window: window, at: map[string]time.Time{}}
}

func (s *createdSet) add(now time.Time, keys ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range keys {
		if k != "" {
			s.at[strings.ToLower(k)] = now
			s.added++
		}
	}
	// Forget old entries now and then so a long run does not grow the set
	// without bound.
	if s.added >= 1024 {
		s.added = 0
		for k, t := range s.at {
			if now.Sub(t) > s.window {
				delete(s.at, k)
			}
		}
	}
}

// recent reports whether any key was created within the window.
func (s *createdSet) recent(now time.Time, keys []string) bool {
	if len(keys) == 0 {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range keys {
		if t, ok := s.at[strings.ToLower(k)]; ok && now.Sub(t) <= s.window {
			return true
		}
	}
	return false
}
