package faketenant

import (
	"bytes"
	cryptorand "crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// jsonObject is a JSON object that keeps its keys in insertion order, so
// responses list properties the way Graph does (@odata annotations first).
type jsonObject []kv

type kv struct {
	k string
	v any
}

func (o jsonObject) get(k string) (any, bool) {
	for _, e := range o {
		if e.k == k {
			return e.v, true
		}
	}
	return nil, false
}

// MarshalJSON writes the object with its keys in order.
func (o jsonObject) MarshalJSON() ([]byte, error) { return appendJSON(nil, o) }

// marshalNoEscape encodes like json.Marshal but leaves <, > and & alone, as
// Graph does in URLs such as @odata.nextLink.
func marshalNoEscape(v any) ([]byte, error) { return appendJSON(make([]byte, 0, 512), v) }

// appendJSON encodes the value shapes responses are built from without
// reflection; anything else goes through encoding/json. Pages of hundreds
// of objects are the hot path of the fake.
func appendJSON(b []byte, v any) ([]byte, error) {
	var err error
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return appendJSONString(b, x), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case float64:
		return strconv.AppendFloat(b, x, 'g', -1, 64), nil
	case []string:
		b = append(b, '[')
		for i, s := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, s)
		}
		return append(b, ']'), nil
	case jsonObject:
		b = append(b, '{')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, e.k)
			b = append(b, ':')
			if b, err = appendJSON(b, e.v); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	case []jsonObject:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendJSON(b, e); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		obj := make(jsonObject, 0, len(keys))
		for _, k := range keys {
			obj = append(obj, kv{k, x[k]})
		}
		return appendJSON(b, obj)
	case []map[string]any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendJSON(b, e); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return append(b, bytes.TrimRight(buf.Bytes(), "\n")...), nil
}

// appendJSONString quotes s as JSON does, minus the HTML escaping.
func appendJSONString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// idSource makes GUIDs from the tenant's seeded generator, so a run with a
// fixed seed and a single client is reproducible.
type idSource struct {
	mu  sync.Mutex
	rng *rand.Rand
}

// newRandomIDSource seeds a generator from r (crypto/rand when nil).
func newRandomIDSource(r io.Reader) (*idSource, error) {
	if r == nil {
		r = cryptorand.Reader
	}
	var b [16]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return nil, fmt.Errorf("seed id generator: %w", err)
	}
	s1, s2 := binary.LittleEndian.Uint64(b[:8]), binary.LittleEndian.Uint64(b[8:])
	return &idSource{rng: rand.New(rand.NewPCG(s1, s2))}, nil
}

func newIDSource(seed uint64) *idSource {
	return &idSource{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

func (s *idSource) guid() string {
	var b [16]byte
	s.mu.Lock()
	for i := 0; i < 16; i += 8 {
		v := s.rng.Uint64()
		for j := 0; j < 8; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	s.mu.Unlock()
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// float returns a uniform number in [0,1).
func (s *idSource) float() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rng.Float64()
}

// normal returns a standard normal deviate.
func (s *idSource) normal() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rng.NormFloat64()
}

func (s *idSource) shuffle(n int, swap func(i, j int)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rng.Shuffle(n, swap)
}

func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
				return false
			}
		}
	}
	return true
}

// orderedSet keeps keys in insertion order with stable sequence numbers, so
// paging can resume after the last key it returned even while other keys
// come and go. Removal leaves a tombstone that is compacted away later.
type orderedSet struct {
	next    uint64
	entries []setEntry
	pos     map[string]int
	dead    int
}

type setEntry struct {
	key  string
	seq  uint64
	live bool
}

func newOrderedSet() *orderedSet { return &orderedSet{pos: map[string]int{}} }

func (s *orderedSet) len() int { return len(s.pos) }

func (s *orderedSet) has(key string) bool { _, ok := s.pos[key]; return ok }

// add appends key; it reports false if key is already present.
func (s *orderedSet) add(key string) bool {
	if _, ok := s.pos[key]; ok {
		return false
	}
	s.next++
	s.pos[key] = len(s.entries)
	s.entries = append(s.entries, setEntry{key: key, seq: s.next, live: true})
	return true
}

func (s *orderedSet) remove(key string) bool {
	i, ok := s.pos[key]
	if !ok {
		return false
	}
	delete(s.pos, key)
	s.entries[i].live = false
	s.dead++
	if s.dead > 1024 && s.dead > len(s.entries)/2 {
		s.compact()
	}
	return true
}

func (s *orderedSet) compact() {
	live := make([]setEntry, 0, len(s.pos))
	for _, e := range s.entries {
		if e.live {
			s.pos[e.key] = len(live)
			live = append(live, e)
		}
	}
	s.entries = live
	s.dead = 0
}

// seqOf returns the sequence number of a present key.
func (s *orderedSet) seqOf(key string) uint64 {
	if i, ok := s.pos[key]; ok {
		return s.entries[i].seq
	}
	return 0
}

// scan calls fn for each live key with a sequence number above after, in
// order, until fn returns false.
func (s *orderedSet) scan(after uint64, fn func(key string, seq uint64) bool) {
	lo, hi := 0, len(s.entries)
	for lo < hi {
		m := (lo + hi) / 2
		if s.entries[m].seq <= after {
			lo = m + 1
		} else {
			hi = m
		}
	}
	for i := lo; i < len(s.entries); i++ {
		e := s.entries[i]
		if e.live && !fn(e.key, e.seq) {
			return
		}
	}
}

func (s *orderedSet) keys() []string {
	out := make([]string, 0, len(s.pos))
	s.scan(0, func(k string, _ uint64) bool { out = append(out, k); return true })
	return out
}
