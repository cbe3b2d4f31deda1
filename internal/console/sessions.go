package console

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/o365prov/o365prov/internal/state"
)

// SessionStore keeps the console's sessions where every node of a cluster
// (and the next start of this one) finds them: a person signed in on one
// node is signed in on all, and a sign-out on one ends the session on all.
// The state store's items satisfy it; MemorySessions keeps them for one
// process. An expired item is absent.
type SessionStore interface {
	// PutItem stores value under key until expires.
	PutItem(ctx context.Context, key string, value []byte, expires time.Time) error
	// Item returns an item unexpired at now, or an error matching
	// state.ErrNotFound.
	Item(ctx context.Context, key string, now time.Time) ([]byte, error)
	// DeleteItem forgets an item; an absent one is not an error.
	DeleteItem(ctx context.Context, key string) error
}

// sessionKeyPrefix keeps the console's items apart from the identity
// provider's in a shared items table.
const sessionKeyPrefix = "console/session/"

// sessionKey is where the session with token id is kept: a hash of the
// token, so that whoever reads the store does not get a usable session.
func sessionKey(id string) string {
	h := sha256.Sum256([]byte(id))
	return sessionKeyPrefix + hex.EncodeToString(h[:])
}

// sessionLifetime is how long a session lives from sign-in; the session
// cookie lives as long. It is not extended by use: extending would write
// on every request, and a node extending a session another node has just
// ended would bring it back.
const sessionLifetime = 8 * time.Hour

// session is one person signed in to the console.
type session struct {
	id      string
	name    string // who, for the audit log
	csrf    string
	expires time.Time
}

// storedSession is a session as kept in the store: without its token.
type storedSession struct {
	Name    string    `json:"name"`
	CSRF    string    `json:"csrf"`
	Expires time.Time `json:"expires"`
}

// sessions opens, finds and ends sessions in a SessionStore.
type sessions struct {
	store SessionStore
	rand  io.Reader
	clock func() time.Time
}

func newSessions(store SessionStore, r io.Reader, clock func() time.Time) *sessions {
	return &sessions{store: store, rand: r, clock: clock}
}

func (s *sessions) token() (string, error) {
	b := make([]byte, 32)
	if _, err := io.ReadFull(s.rand, b); err != nil {
		return "", fmt.Errorf("random session token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// start opens a session for name.
func (s *sessions) start(ctx context.Context, name string) (*session, error) {
	id, err := s.token()
	if err != nil {
		return nil, err
	}
	csrf, err := s.token()
	if err != nil {
		return nil, err
	}
	ss := &session{id: id, name: name, csrf: csrf, expires: s.clock().Add(sessionLifetime)}
	b, err := json.Marshal(storedSession{Name: ss.name, CSRF: ss.csrf, Expires: ss.expires})
	if err != nil {
		return nil, fmt.Errorf("encode console session: %w", err)
	}
	if err := s.store.PutItem(ctx, sessionKey(id), b, ss.expires); err != nil {
		return nil, fmt.Errorf("keep console session: %w", err)
	}
	return ss, nil
}

// get returns the live session with that token; ok is false when there is
// none. err is a store that cannot be read, which is not "signed out".
func (s *sessions) get(ctx context.Context, id string) (ss *session, ok bool, err error) {
	now := s.clock()
	b, err := s.store.Item(ctx, sessionKey(id), now)
	if errors.Is(err, state.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read console session: %w", err)
	}
	var st storedSession
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, false, fmt.Errorf("decode console session: %w", err)
	}
	if !now.Before(st.Expires) {
		return nil, false, nil
	}
	return &session{id: id, name: st.Name, csrf: st.CSRF, expires: st.Expires}, true, nil
}

// end signs the session out, on every node sharing the store.
func (s *sessions) end(ctx context.Context, id string) error {
	if err := s.store.DeleteItem(ctx, sessionKey(id)); err != nil {
		return fmt.Errorf("end console session: %w", err)
	}
	return nil
}

// maxSessions bounds the sessions MemorySessions keeps.
const maxSessions = 1000

// MemorySessions is a SessionStore for one process (and tests): a restart
// signs everyone out, and other nodes do not see its sessions.
type MemorySessions struct {
	mu    sync.Mutex
	items map[string]memSession
}

type memSession struct {
	value   []byte
	expires time.Time
}

// NewMemorySessions returns an empty MemorySessions.
func NewMemorySessions() *MemorySessions { return &MemorySessions{items: map[string]memSession{}} }

// PutItem keeps at most maxSessions items: expired ones go first, then,
// when someone opens sessions in a loop, the one closest to expiring.
func (m *MemorySessions) PutItem(_ context.Context, key string, value []byte, expires time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.items[key]; !ok && len(m.items) >= maxSessions {
		m.evict(time.Now())
	}
	m.items[key] = memSession{value: append([]byte(nil), value...), expires: expires}
	return nil
}

func (m *MemorySessions) evict(now time.Time) {
	stalest := ""
	for k, it := range m.items {
		if !now.Before(it.expires) {
			delete(m.items, k)
			continue
		}
		if stalest == "" || it.expires.Before(m.items[stalest].expires) {
			stalest = k
		}
	}
	if len(m.items) >= maxSessions {
		delete(m.items, stalest)
	}
}

// Item returns the item unexpired at now.
func (m *MemorySessions) Item(_ context.Context, key string, now time.Time) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	it, ok := m.items[key]
	if !ok || !now.Before(it.expires) {
		delete(m.items, key)
		return nil, fmt.Errorf("console session: %w", state.ErrNotFound)
	}
	return append([]byte(nil), it.value...), nil
}

// DeleteItem forgets an item.
func (m *MemorySessions) DeleteItem(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.items, key)
	return nil
}
