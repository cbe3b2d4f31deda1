package engine

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/o365prov/o365prov/internal/config"
	"github.com/o365prov/o365prov/internal/state"
	"github.com/o365prov/o365prov/internal/state/sqlite"
)

// The harness runs the engine against a directory and a tenant held in
// memory, with real state (SQLite in a temporary directory), so the engine's
// rules are tested alone: each test states a rule and drives the engine
// through the cycles that exercise it.

const testSKU = "6fd2c87f-b296-42f0-b197-1e91e994b900"

// memSource is a directory held in memory. Every change is numbered; the
// watermark is the last number read.
type memSource struct {
	mu      sync.Mutex
	seq     int
	users   map[string]*memEntry // by GUID
	groups  map[string]*memEntry
	deleted map[string]int // GUID → seq of its deletion
	hidden  map[string]bool
	// lookupErr fails Lookup of the DNs it names.
	lookupErr map[string]error
	// afterEnumerate, when set, runs after each Enumerate.
	afterEnumerate func()
	// silentDeletes: Changes reports no deletion (OpenLDAP's
	// modifyTimestamp and entryCSN cannot).
	silentDeletes bool
	// enumerateErr fails Enumerate.
	enumerateErr error
}

type memEntry struct {
	Entry
	seq int
}

func newMemSource() *memSource {
	return &memSource{users: map[string]*memEntry{}, groups: map[string]*memEntry{}, deleted: map[string]int{}, hidden: map[string]bool{}, lookupErr: map[string]error{}}
}

func (s *memSource) put(set map[string]*memEntry, en Entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	set[en.GUID] = &memEntry{Entry: en, seq: s.seq}
}

// user adds or replaces a user: uid, enabled, then attribute name, value pairs.
func (s *memSource) user(uid string, enabled bool, attrs ...string) Entry {
	en := Entry{DN: "uid=" + uid + ",ou=people,dc=example,dc=com", GUID: guidOf(uid), Enabled: enabled, Attributes: map[string][]string{
		"uid": {uid}, "mail": {uid + "@example.com"}, "displayName": {"User " + uid}, "o365Sku": {"ENTERPRISEPACK"}, "c": {"GB"},
	}}
	for i := 0; i+1 < len(attrs); i += 2 {
		en.DN = strings.ReplaceAll(en.DN, "{"+attrs[i]+"}", attrs[i+1])
		if attrs[i+1] == "" {
			delete(en.Attributes, attrs[i])
			continue
		}
		en.Attributes[attrs[i]] = []string{attrs[i+1]}
	}
	s.put(s.users, en)
	return en
}

// userAt adds a user at a DN of the test's choosing.
func (s *memSource) userAt(dn, uid string, attrs ...string) Entry {
	en := s.user(uid, true, attrs...)
	s.mu.Lock()
	s.users[en.GUID].DN = dn
	s.mu.Unlock()
	en.DN = dn
	return en
}

// groupOf adds a group with members given by DN, spelled as the test likes.
func (s *memSource) groupOf(cn string, memberDNs ...string) Entry {
	en := Entry{DN: "cn=" + cn + ",ou=groups,dc=example,dc=com", GUID: guidOf("group:" + cn), Enabled: true, Attributes: map[string][]string{"cn": {cn}}, Members: memberDNs}
	s.put(s.groups, en)
	return en
}

func (s *memSource) group(cn string, members ...string) Entry {
	en := Entry{DN: "cn=" + cn + ",ou=groups,dc=example,dc=com", GUID: guidOf("group:" + cn), Enabled: true, Attributes: map[string][]string{"cn": {cn}}}
	for _, m := range members {
		en.Members = append(en.Members, "uid="+m+",ou=people,dc=example,dc=com")
	}
	s.put(s.groups, en)
	return en
}

func (s *memSource) remove(guid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	delete(s.users, guid)
	delete(s.groups, guid)
	s.deleted[guid] = s.seq
}

// hide makes entries invisible to the bind (an ACL), without a change.
func (s *memSource) hide(guids []string, hidden bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, g := range guids {
		s.hidden[g] = hidden
	}
}

func guidOf(name string) string { return uuid.NewSHA1(uuid.NameSpaceOID, []byte(name)).String() }

func (s *memSource) visible(set map[string]*memEntry) []*memEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*memEntry
	for _, e := range set {
		if !s.hidden[e.GUID] {
			c := *e
			out = append(out, &c)
		}
	}
	slices.SortFunc(out, func(a, b *memEntry) int { return strings.Compare(a.DN, b.DN) })
	return out
}

func (s *memSource) Users(_ context.Context, _ []string, fn func(Entry) error) error {
	for _, e := range s.visible(s.users) {
		if err := fn(e.Entry); err != nil {
			return err
		}
	}
	return nil
}

func (s *memSource) Groups(_ context.Context, _ []string, fn func(Entry) error) error {
	for _, e := range s.visible(s.groups) {
		if err := fn(e.Entry); err != nil {
			return err
		}
	}
	return nil
}

func (s *memSource) Watermark(context.Context) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return []byte(strconv.Itoa(s.seq)), nil
}

func (s *memSource) Changes(ctx context.Context, since []byte, _ []string, fn func(Change) error) ([]byte, error) {
	from, err := strconv.Atoi(string(since))
	if err != nil {
		return nil, ErrStaleWatermark
	}
	wm, _ := s.Watermark(ctx)
	for _, e := range s.visible(s.users) {
		if e.seq > from {
			if err := fn(Change{Kind: ChangedUser, Entry: e.Entry}); err != nil {
				return nil, err
			}
		}
	}
	for _, e := range s.visible(s.groups) {
		if e.seq > from {
			if err := fn(Change{Kind: ChangedGroup, Entry: e.Entry}); err != nil {
				return nil, err
			}
		}
	}
	s.mu.Lock()
	var gone []string
	for g, at := range s.deleted {
		if at > from && !s.silentDeletes {
			gone = append(gone, g)
		}
	}
	s.mu.Unlock()
	for _, g := range gone {
		if err := fn(Change{Kind: DeletedObject, GUID: g}); err != nil {
			return nil, err
		}
	}
	return wm, nil
}

func (s *memSource) Enumerate(_ context.Context, kind Kind, fn func(guid, dn string) error) error {
	if s.enumerateErr != nil {
		return s.enumerateErr
	}
	set := s.users
	if kind == KindGroup {
		set = s.groups
	}
	for _, e := range s.visible(set) {
		if err := fn(e.GUID, e.DN); err != nil {
			return err
		}
	}
	if s.afterEnumerate != nil {
		s.afterEnumerate()
	}
	return nil
}

func (s *memSource) Lookup(_ context.Context, kind Kind, dn string, _ []string) (Entry, error) {
	s.mu.Lock()
	err := s.lookupErr[normDN(dn)]
	s.mu.Unlock()
	if err != nil {
		return Entry{}, err
	}
	set := s.users
	if kind == KindGroup {
		set = s.groups
	}
	for _, e := range s.visible(set) {
		if sameDN(e.DN, dn) {
			return e.Entry, nil
		}
	}
	return Entry{}, fmt.Errorf("%s: %w", dn, ErrNotInSource)
}

// rig is one engine between a memSource and a memTarget.
type rig struct {
	t      *testing.T
	ctx    context.Context
	src    *memSource
	tgt    *memTarget
	store  *sqlite.Store
	now    time.Time
	mu     sync.Mutex
	e      *Engine
	config string
}

// channelYAML is the channel of every rig; options are appended.
const channelYAML = `
state: {driver: sqlite, dsn: 'unused'}
target: {tenant: 00000000-0000-0000-0000-000000000001, clientId: 00000000-0000-0000-0000-000000000002, clientSecret: s}
channels:
  - name: staff
    source:
      type: openldap
      url: ldap://127.0.0.1:1
      baseDN: dc=example,dc=com
      users: {filter: "(objectClass=inetOrgPerson)"}
      groups: {filter: "(objectClass=groupOfNames)"}
      accountStatus: {algorithm: FLAG, attribute: nsAccountLock, flagValue: "true", flagMeansDisabled: true}
    mapping:
      user:
        skuId: '${o365Sku}'
        manager: '${manager}'
        usageLocation: '${c}'
`

func newRig(t *testing.T, options string) *rig {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	r := &rig{t: t, ctx: ctx, src: newMemSource(), tgt: newMemTarget(), store: st, now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	r.config = channelYAML
	if options != "" {
		r.config += "    options: " + options + "\n"
	}
	r.open()
	return r
}

// open (re)builds the engine, as a restart does.
func (r *rig) open() {
	r.t.Helper()
	cfg, err := config.Parse("rig.yaml", []byte(r.config))
	if err != nil {
		r.t.Fatalf("rig configuration: %v", err)
	}
	r.e, err = New(cfg.Channels[0], r.src, r.tgt, r.store, WithClock(r.clock), WithSettle(time.Millisecond), WithWorkers(4))
	if err != nil {
		r.t.Fatal(err)
	}
}

func (r *rig) clock() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.now
}

func (r *rig) advance(d time.Duration) {
	r.mu.Lock()
	r.now = r.now.Add(d)
	r.mu.Unlock()
}

// sync runs a cycle; it fails the test on an error other than a held plan.
func (r *rig) sync(mode Mode) *Result {
	r.t.Helper()
	res, err := r.e.Sync(r.ctx, SyncOptions{Mode: mode})
	if err != nil && !errorsIsHeld(err) {
		r.t.Fatalf("%s cycle: %v", mode, err)
	}
	return res
}

// opsOf lists a plan's operations of a type, by name.
func opsOf(p *Plan, typ OpType) []string {
	var out []string
	for _, op := range p.Ops {
		if op.Type == typ {
			out = append(out, op.Name)
		}
	}
	slices.Sort(out)
	return out
}

// stateOf reads an object's state.
func (r *rig) stateOf(kind state.Kind, guid string) state.Object {
	r.t.Helper()
	o, err := r.store.Object(r.ctx, "staff", kind, guid)
	if err != nil {
		r.t.Fatalf("state of %s: %v", guid, err)
	}
	return o
}

func errorsIsHeld(err error) bool { return errors.Is(err, ErrHeld) }
