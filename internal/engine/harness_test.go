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

// memTarget is a tenant held in memory. fault, when set, is asked before
// each call: an error fails the call; applied says whether a write was
// nevertheless done (its answer lost).
type memTarget struct {
	mu      sync.Mutex
	n       int
	users   map[string]*TargetUser
	groups  map[string]*TargetGroup
	members map[string]map[string]bool
	manager map[string]string
	fault   func(call string) (err error, applied bool)
	calls   map[string]int
}

func newMemTarget() *memTarget {
	return &memTarget{users: map[string]*TargetUser{}, groups: map[string]*TargetGroup{}, members: map[string]map[string]bool{}, manager: map[string]string{}, calls: map[string]int{}}
}

// check asks the fault hook; it holds no lock.
func (t *memTarget) check(call string) (error, bool) {
	t.mu.Lock()
	t.calls[call]++
	f := t.fault
	t.mu.Unlock()
	if f == nil {
		return nil, true
	}
	return f(call)
}

func (t *memTarget) read(call string) error {
	err, _ := t.check(call)
	return err
}

// write runs do unless the fault hook fails the call without applying it.
func (t *memTarget) write(call string, do func() (WriteResult, error)) (WriteResult, error) {
	ferr, applied := t.check(call)
	if ferr != nil && !applied {
		return WriteResult{}, ferr
	}
	t.mu.Lock()
	w, err := do()
	t.mu.Unlock()
	if ferr != nil {
		return WriteResult{}, ferr
	}
	return w, err
}

func (t *memTarget) id() string { t.n++; return fmt.Sprintf("id-%04d", t.n) }

func (t *memTarget) ListUsers(_ context.Context, _ []string, fn func(TargetUser) error) error {
	if err := t.read("ListUsers"); err != nil {
		return err
	}
	for _, u := range t.liveUsers() {
		if err := fn(u); err != nil {
			return err
		}
	}
	return nil
}

func (t *memTarget) liveUsers() []TargetUser {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []TargetUser
	for _, u := range t.users {
		if u.DeletedDateTime == "" {
			out = append(out, *u)
		}
	}
	return out
}

func (t *memTarget) FindUser(_ context.Context, iid, upn string, _ []string) (*TargetUser, error) {
	if err := t.read("FindUser"); err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, u := range t.users {
		if u.DeletedDateTime == "" && iid != "" && u.ImmutableID == iid {
			c := *u
			return &c, nil
		}
	}
	for _, u := range t.users {
		if u.DeletedDateTime == "" && upn != "" && strings.EqualFold(u.UserPrincipalName, upn) {
			c := *u
			return &c, nil
		}
	}
	return nil, nil
}

func (t *memTarget) ListDeletedUsers(_ context.Context, fn func(TargetUser) error) error {
	if err := t.read("ListDeletedUsers"); err != nil {
		return err
	}
	t.mu.Lock()
	var out []TargetUser
	for _, u := range t.users {
		if u.DeletedDateTime != "" {
			out = append(out, *u)
		}
	}
	t.mu.Unlock()
	for _, u := range out {
		if err := fn(u); err != nil {
			return err
		}
	}
	return nil
}

func (t *memTarget) ListGroups(_ context.Context, fn func(TargetGroup) error) error {
	if err := t.read("ListGroups"); err != nil {
		return err
	}
	t.mu.Lock()
	var out []TargetGroup
	for _, g := range t.groups {
		out = append(out, *g)
	}
	t.mu.Unlock()
	for _, g := range out {
		if err := fn(g); err != nil {
			return err
		}
	}
	return nil
}

func (t *memTarget) FindGroups(_ context.Context, sourceID string) ([]TargetGroup, error) {
	if err := t.read("FindGroups"); err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []TargetGroup
	for _, g := range t.groups {
		if g.SourceID == sourceID {
			out = append(out, *g)
		}
	}
	return out, nil
}

func (t *memTarget) SKUs(context.Context) ([]SKU, error) {
	if err := t.read("SKUs"); err != nil {
		return nil, err
	}
	return []SKU{{SkuID: testSKU, SkuPartNumber: "ENTERPRISEPACK", Plans: map[string]string{}, Enabled: 1000}}, nil
}

func (t *memTarget) VerifiedDomains(context.Context) ([]string, error) {
	if err := t.read("VerifiedDomains"); err != nil {
		return nil, err
	}
	return []string{"example.com"}, nil
}

func str(v any) string { s, _ := v.(string); return s }

func (t *memTarget) CreateUser(_ context.Context, props map[string]any) (WriteResult, error) {
	return t.write("CreateUser", func() (WriteResult, error) {
		upn, iid := str(props["userPrincipalName"]), str(props["onPremisesImmutableId"])
		for _, u := range t.users {
			if strings.EqualFold(u.UserPrincipalName, upn) || (iid != "" && u.ImmutableID == iid) {
				return WriteResult{}, fmt.Errorf("create %s: %w", upn, ErrConflict)
			}
		}
		enabled, _ := props["accountEnabled"].(bool)
		u := &TargetUser{ID: t.id(), UserPrincipalName: upn, ImmutableID: iid, AccountEnabled: enabled, Properties: map[string]any{}}
		for k, v := range props {
			u.Properties[k] = v
		}
		t.users[u.ID] = u
		return WriteResult{ID: u.ID}, nil
	})
}

func (t *memTarget) UpdateUser(_ context.Context, id string, props map[string]any) (WriteResult, error) {
	return t.write("UpdateUser", func() (WriteResult, error) {
		u := t.users[id]
		if u == nil || u.DeletedDateTime != "" {
			return WriteResult{}, fmt.Errorf("user %s: %w", id, ErrNotFound)
		}
		for k, v := range props {
			switch k {
			case "accountEnabled":
				u.AccountEnabled, _ = v.(bool)
			case "userPrincipalName":
				u.UserPrincipalName = str(v)
			case "onPremisesImmutableId":
				u.ImmutableID = str(v)
			}
			u.Properties[k] = v
		}
		return WriteResult{}, nil
	})
}

func (t *memTarget) DeleteUser(_ context.Context, id string) (WriteResult, error) {
	return t.write("DeleteUser", func() (WriteResult, error) {
		u := t.users[id]
		if u == nil || u.DeletedDateTime != "" {
			return WriteResult{}, ErrNotFound
		}
		u.DeletedDateTime = "2026-01-01T00:00:00Z"
		return WriteResult{}, nil
	})
}

func (t *memTarget) RestoreUser(_ context.Context, id string) (WriteResult, error) {
	return t.write("RestoreUser", func() (WriteResult, error) {
		u := t.users[id]
		if u == nil || u.DeletedDateTime == "" {
			return WriteResult{}, ErrNotFound
		}
		u.DeletedDateTime = ""
		return WriteResult{}, nil
	})
}

func (t *memTarget) AssignLicense(_ context.Context, id string, add []Assignment, remove []string) (WriteResult, error) {
	return t.write("AssignLicense", func() (WriteResult, error) {
		u := t.users[id]
		if u == nil {
			return WriteResult{}, ErrNotFound
		}
		var keep []Assignment
		for _, l := range u.Licenses {
			if !slices.Contains(remove, l.SkuID) {
				keep = append(keep, l)
			}
		}
		for _, a := range add {
			keep = slices.DeleteFunc(keep, func(l Assignment) bool { return l.SkuID == a.SkuID })
			keep = append(keep, a)
		}
		u.Licenses = keep
		return WriteResult{}, nil
	})
}

func (t *memTarget) SetManager(_ context.Context, id, managerID string) (WriteResult, error) {
	return t.write("SetManager", func() (WriteResult, error) {
		if t.users[id] == nil || t.users[managerID] == nil {
			return WriteResult{}, ErrNotFound
		}
		t.manager[id] = managerID
		return WriteResult{}, nil
	})
}

func (t *memTarget) RemoveManager(_ context.Context, id string) (WriteResult, error) {
	return t.write("RemoveManager", func() (WriteResult, error) {
		delete(t.manager, id)
		return WriteResult{}, nil
	})
}

func (t *memTarget) CreateGroup(_ context.Context, sourceID string, props map[string]any, memberIDs []string) (WriteResult, error) {
	return t.write("CreateGroup", func() (WriteResult, error) {
		g := &TargetGroup{ID: t.id(), DisplayName: str(props["displayName"]), MailNickname: str(props["mailNickname"]), SourceID: sourceID}
		t.groups[g.ID] = g
		t.members[g.ID] = map[string]bool{}
		for _, m := range memberIDs {
			t.members[g.ID][m] = true
		}
		return WriteResult{ID: g.ID}, nil
	})
}

func (t *memTarget) UpdateGroup(_ context.Context, id string, props map[string]any) (WriteResult, error) {
	return t.write("UpdateGroup", func() (WriteResult, error) {
		g := t.groups[id]
		if g == nil {
			return WriteResult{}, ErrNotFound
		}
		if v, ok := props["displayName"]; ok {
			g.DisplayName = str(v)
		}
		if v, ok := props["mailNickname"]; ok {
			g.MailNickname = str(v)
		}
		return WriteResult{}, nil
	})
}

func (t *memTarget) DeleteGroup(_ context.Context, id string) (WriteResult, error) {
	return t.write("DeleteGroup", func() (WriteResult, error) {
		if t.groups[id] == nil {
			return WriteResult{}, ErrNotFound
		}
		delete(t.groups, id)
		delete(t.members, id)
		return WriteResult{}, nil
	})
}

func (t *memTarget) AddMembers(_ context.Context, groupID string, memberIDs []string) (WriteResult, error) {
	return t.write("AddMembers", func() (WriteResult, error) {
		if t.members[groupID] == nil {
			return WriteResult{}, ErrNotFound
		}
		for _, m := range memberIDs {
			t.members[groupID][m] = true
		}
		return WriteResult{}, nil
	})
}

func (t *memTarget) RemoveMember(_ context.Context, groupID, memberID string) (WriteResult, error) {
	return t.write("RemoveMember", func() (WriteResult, error) {
		delete(t.members[groupID], memberID)
		return WriteResult{}, nil
	})
}

// counts is what the tenant holds: the numbers every fault test checks.
type counts struct{ Users, Enabled, Groups, Memberships, Licences, Managers int }

func (t *memTarget) counts() counts {
	t.mu.Lock()
	defer t.mu.Unlock()
	var c counts
	for _, u := range t.users {
		if u.DeletedDateTime != "" {
			continue
		}
		c.Users++
		if u.AccountEnabled {
			c.Enabled++
		}
		c.Licences += len(u.Licenses)
		if t.manager[u.ID] != "" {
			c.Managers++
		}
	}
	c.Groups = len(t.groups)
	for _, m := range t.members {
		c.Memberships += len(m)
	}
	return c
}

func (t *memTarget) userByUPN(upn string) *TargetUser {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, u := range t.users {
		if u.DeletedDateTime == "" && strings.EqualFold(u.UserPrincipalName, upn) {
			c := *u
			return &c
		}
	}
	return nil
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
