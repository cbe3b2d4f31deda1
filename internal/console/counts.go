package console

import (
	"context"
	"sync"
	"time"
)

// countsTTL is how long cached counts are trusted when this process wrote
// nothing: another node of a cluster may have.
const countsTTL = 30 * time.Second

// countCache keeps each channel's object counts between writes. Counting
// 100,000 objects costs the SQLite store about a tenth of a second, too
// slow to do on every page; the observed store marks a channel dirty on
// every write to its objects, so a count is redone only when something
// changed (or countsTTL passed).
type countCache struct {
	mu      sync.Mutex
	byName  map[string]*cachedCounts
	compute sync.Mutex // one count at a time: concurrent pages wait for it
}

type cachedCounts struct {
	users, groups Counts
	at            time.Time
	dirty         bool
}

func newCountCache() *countCache { return &countCache{byName: map[string]*cachedCounts{}} }

func (c *countCache) invalidate(channel string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byName[channel]; ok {
		e.dirty = true
	}
}

func (c *countCache) fresh(channel string, now time.Time) (*cachedCounts, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byName[channel]
	if !ok || e.dirty || now.Sub(e.at) >= countsTTL || now.Before(e.at) {
		return nil, false
	}
	cp := *e
	return &cp, true
}

// get returns the channel's counts, counting again when they may have
// changed.
func (c *countCache) get(ctx context.Context, st Store, channel string, now time.Time) (Counts, Counts, error) {
	if e, ok := c.fresh(channel, now); ok {
		return e.users, e.groups, nil
	}
	c.compute.Lock()
	defer c.compute.Unlock()
	if e, ok := c.fresh(channel, now); ok { // counted while this one waited
		return e.users, e.groups, nil
	}
	e := &cachedCounts{at: now}
	c.mu.Lock()
	c.byName[channel] = e // a write during the count marks it dirty
	c.mu.Unlock()
	users, groups, err := counts(ctx, st, channel, now)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		e.dirty = true
		return users, groups, err
	}
	e.users, e.groups = users, groups
	return users, groups, nil
}
