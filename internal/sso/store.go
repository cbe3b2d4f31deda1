package sso

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Store keeps what every node of a cluster must agree on: sessions, sign-ins
// in progress, request ids already answered (replay) and failure counters
// (lockout). Items expire; an expired item is absent.
type Store interface {
	// PutItem stores value under key until expires.
	PutItem(ctx context.Context, key string, value []byte, expires time.Time) error
	// Item returns an unexpired item, or ErrNoItem.
	Item(ctx context.Context, key string, now time.Time) ([]byte, error)
	// DeleteItem forgets an item; an absent one is not an error.
	DeleteItem(ctx context.Context, key string) error
	// AddItem stores an item only when key is absent or expired, and
	// reports whether it did: the replay check.
	AddItem(ctx context.Context, key string, value []byte, expires, now time.Time) (bool, error)
	// Increment adds one to the counter key and returns its new value. A
	// counter that does not exist or has expired starts again at 1 and
	// expires at expires; a live one keeps its expiry.
	Increment(ctx context.Context, key string, expires, now time.Time) (int, error)
	// Count returns a live counter's count, 0 when absent or expired.
	Count(ctx context.Context, key string, now time.Time) (int, error)
}

// ErrNoItem is Store's answer for an absent or expired item.
var ErrNoItem = errors.New("no such item")

// MemoryStore is a Store for one node (and tests).
type MemoryStore struct {
	mu    sync.Mutex
	items map[string]memItem
}

type memItem struct {
	value   []byte
	count   int
	expires time.Time
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore { return &MemoryStore{items: map[string]memItem{}} }

func (m *MemoryStore) get(key string, now time.Time) (memItem, bool) {
	it, ok := m.items[key]
	if ok && !now.Before(it.expires) {
		delete(m.items, key)
		return memItem{}, false
	}
	return it, ok
}

// sweep drops expired items now and then so the map does not grow.
func (m *MemoryStore) sweep(now time.Time) {
	if len(m.items) < 10000 {
		return
	}
	for k, it := range m.items {
		if !now.Before(it.expires) {
			delete(m.items, k)
		}
	}
}

func (m *MemoryStore) PutItem(_ context.Context, key string, value []byte, expires time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.items[key] = memItem{value: append([]byte(nil), value...), expires: expires}
	return nil
}

func (m *MemoryStore) Item(_ context.Context, key string, now time.Time) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	it, ok := m.get(key, now)
	if !ok {
		return nil, ErrNoItem
	}
	return append([]byte(nil), it.value...), nil
}

func (m *MemoryStore) DeleteItem(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.items, key)
	return nil
}

func (m *MemoryStore) AddItem(_ context.Context, key string, value []byte, expires, now time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweep(now)
	if _, ok := m.get(key, now); ok {
		return false, nil
	}
	m.items[key] = memItem{value: append([]byte(nil), value...), expires: expires}
	return true, nil
}

func (m *MemoryStore) Increment(_ context.Context, key string, expires, now time.Time) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweep(now)
	it, ok := m.get(key, now)
	if !ok {
		it = memItem{expires: expires}
	}
	it.count++
	m.items[key] = it
	return it.count, nil
}

func (m *MemoryStore) Count(_ context.Context, key string, now time.Time) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	it, _ := m.get(key, now)
	return it.count, nil
}
