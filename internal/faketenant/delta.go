package faketenant

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Delta queries (docs/graph.md §8) are served by comparing the directory
// with a snapshot taken when the previous round's @odata.deltaLink was
// issued, so no write path has to log its changes. A snapshot keeps, per
// object, a hash of the selected properties, its manager and its members.

const (
	// deltaTokenLifetime: identity delta links last seven days.
	deltaTokenLifetime = 7 * 24 * time.Hour
	// maxDeltaSnapshots bounds memory; an evicted token must resync.
	maxDeltaSnapshots = 64
	deltaPageSize     = 100
)

type deltaEntry struct {
	hash    uint64
	active  bool
	manager string
	members []string // sorted
}

type deltaSnapshot struct {
	kind       objKind
	sel        []*propDef // nil: default properties
	selRaw     string
	members    bool // members tracked (groups, $select=…members)
	manager    bool // manager tracked (users, $select=…manager)
	at         time.Time
	objs       map[string]deltaEntry
	pending    []deltaItem // the round that led to this snapshot, paged
	pendingFor uint64      // the snapshot the round was computed against
}

type deltaItem struct {
	id      string
	removed string // "changed" (soft-deleted) or "deleted" (gone); "" for a present object
	added   []string
	dropped []string
	manager bool // manager changed
}

type deltaStore struct {
	mu    sync.Mutex
	epoch string // a new one each run: tokens do not survive a restart
	next  uint64
	snaps map[uint64]*deltaSnapshot
	order []uint64
}

func newDeltaStore(epoch string) *deltaStore {
	return &deltaStore{epoch: epoch, snaps: map[uint64]*deltaSnapshot{}}
}

func (s *deltaStore) put(sn *deltaSnapshot) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next++
	s.snaps[s.next] = sn
	s.order = append(s.order, s.next)
	for len(s.order) > maxDeltaSnapshots {
		delete(s.snaps, s.order[0])
		s.order = s.order[1:]
	}
	return s.next
}

func (s *deltaStore) get(n uint64) *deltaSnapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.snaps[n]
}

// deltaToken is what $deltatoken and $skiptoken carry, base64url JSON:
// the run, the snapshot, and for a page the offset into its round.
type deltaToken struct {
	Epoch  string `json:"e"`
	Snap   uint64 `json:"n"`
	Offset int    `json:"o,omitempty"`
}

func (s *deltaStore) encode(tok deltaToken) string {
	tok.Epoch = s.epoch
	data, _ := json.Marshal(tok)
	return base64.RawURLEncoding.EncodeToString(data)
}

func (s *deltaStore) decode(raw string) (deltaToken, bool) {
	var tok deltaToken
	data, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil || json.Unmarshal(data, &tok) != nil || tok.Epoch != s.epoch {
		return tok, false
	}
	return tok, true
}

func (rc *reqCtx) syncStateNotFound() *gresp {
	return rc.fail(http.StatusBadRequest, "syncStateNotFound",
		"The sync state generation is not found. The delta token is expired and data must be synchronized again.")
}

func (t *Tenant) usersDelta(rc *reqCtx) *gresp  { return t.serveDelta(rc, kindUser) }
func (t *Tenant) groupsDelta(rc *reqCtx) *gresp { return t.serveDelta(rc, kindGroup) }

// serveDelta is GET /users/delta and /groups/delta.
func (t *Tenant) serveDelta(rc *reqCtx, kind objKind) *gresp {
	var deltaTok, skipTok, selRaw string
	for k, vs := range rc.query {
		switch strings.ToLower(k) {
		case "$deltatoken":
			deltaTok = vs[0]
		case "$skiptoken":
			skipTok = vs[0]
		case "$select":
			selRaw = vs[0]
		case "$expand", "$top", "$orderby", "$filter", "$count", "$search", "$skip":
			// docs/graph.md §8: not supported on users/groups delta ($filter
			// by id is supported by Graph, not by this fake).
			return rc.unsupportedQuery(fmt.Sprintf("The query parameter '%s' is not supported with delta queries.", k))
		}
	}
	switch {
	case skipTok != "":
		return t.deltaPage(rc, kind, skipTok)
	case strings.EqualFold(deltaTok, "latest"):
		sn, bad := t.newDeltaSnapshot(rc, kind, selRaw)
		if bad != nil {
			return bad
		}
		return t.deltaResponse(rc, kind, sn, nil, t.delta.put(sn))
	case deltaTok != "":
		tok, ok := t.delta.decode(deltaTok)
		prev := t.delta.get(tok.Snap)
		if !ok || prev == nil || prev.kind != kind || t.clock.Now().Sub(prev.at) > deltaTokenLifetime {
			return rc.syncStateNotFound()
		}
		return t.deltaRound(rc, kind, prev, tok.Snap)
	default:
		sn, bad := t.newDeltaSnapshot(rc, kind, selRaw)
		if bad != nil {
			return bad
		}
		return t.deltaRound(rc, kind, sn, 0)
	}
}

// newDeltaSnapshot parses $select into an empty snapshot to fill.
func (t *Tenant) newDeltaSnapshot(rc *reqCtx, kind objKind, selRaw string) (*deltaSnapshot, *gresp) {
	sch, _ := t.castSchema(kind)
	sn := &deltaSnapshot{kind: kind, selRaw: selRaw}
	var props []string
	for _, name := range strings.Split(selRaw, ",") {
		name = strings.TrimSpace(name)
		switch {
		case name == "":
		case kind == kindGroup && strings.EqualFold(name, "members"):
			sn.members = true
		case kind == kindUser && strings.EqualFold(name, "manager"):
			sn.manager = true
		default:
			props = append(props, name)
		}
	}
	if len(props) > 0 {
		sel, bad := selectProps(rc, sch, strings.Join(props, ","))
		if bad != nil {
			return nil, bad
		}
		sn.sel = sel
	} else if selRaw != "" {
		idProp, _ := sch.lookup("id")
		sn.sel = []*propDef{idProp}
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	sn.at = t.clock.Now()
	sn.objs = t.captureDelta(sn)
	return sn, nil
}

// captureDelta records every object of the snapshot's kind, deleted ones
// included. The caller holds the read lock.
func (t *Tenant) captureDelta(sn *deltaSnapshot) map[string]deltaEntry {
	objs := map[string]deltaEntry{}
	add := func(id string, _ uint64) bool {
		o := t.dir.objects[id]
		if o == nil || o.kind != sn.kind {
			return true
		}
		e := deltaEntry{active: o.active()}
		data, _ := marshalNoEscape(t.render(o, sn.sel, false))
		h := fnv.New64a()
		_, _ = h.Write(data)
		e.hash = h.Sum64()
		if sn.manager {
			e.manager = o.manager
		}
		if sn.members && o.members != nil {
			e.members = o.members.keys()
			slices.Sort(e.members)
		}
		objs[id] = e
		return true
	}
	t.dir.order(sn.kind).scan(0, add)
	t.dir.deleted.scan(0, add)
	return objs
}

// deltaRound compares the directory with prev (nil entries for the
// initial round, where every object is new), stores the new snapshot with
// the round's items, and answers its first page.
func (t *Tenant) deltaRound(rc *reqCtx, kind objKind, prev *deltaSnapshot, prevID uint64) *gresp {
	next := &deltaSnapshot{kind: kind, sel: prev.sel, selRaw: prev.selRaw, members: prev.members, manager: prev.manager}
	t.mu.RLock()
	next.at = t.clock.Now()
	next.objs = t.captureDelta(next)
	t.mu.RUnlock()
	var base map[string]deltaEntry
	if prevID != 0 {
		base = prev.objs
	}
	next.pending, next.pendingFor = diffDelta(base, next.objs), prevID
	id := t.delta.put(next)
	return t.deltaResponse(rc, kind, next, next.pending, id)
}

// diffDelta lists what changed from base to cur, in a stable order. A nil
// base is the initial round: every live object is new.
func diffDelta(base, cur map[string]deltaEntry) []deltaItem {
	var items []deltaItem
	for id, c := range cur {
		b, had := base[id]
		if !c.active {
			// Soft-deleted during the round: restorable, so "changed".
			if had && b.active {
				items = append(items, deltaItem{id: id, removed: "changed"})
			}
			continue
		}
		it := deltaItem{id: id}
		it.added, it.dropped = memberDiff(b.members, c.members)
		it.manager = c.manager != b.manager
		if !had || !b.active || b.hash != c.hash || it.manager || len(it.added)+len(it.dropped) > 0 {
			items = append(items, it)
		}
	}
	for id := range base {
		if _, ok := cur[id]; !ok {
			items = append(items, deltaItem{id: id, removed: "deleted"}) // purged
		}
	}
	slices.SortFunc(items, func(a, b deltaItem) int { return strings.Compare(a.id, b.id) })
	return items
}

// memberDiff is what joined and what left between two sorted lists.
func memberDiff(old, cur []string) (added, dropped []string) {
	for _, m := range cur {
		if _, found := slices.BinarySearch(old, m); !found {
			added = append(added, m)
		}
	}
	for _, m := range old {
		if _, found := slices.BinarySearch(cur, m); !found {
			dropped = append(dropped, m)
		}
	}
	return added, dropped
}

// deltaPage answers a later page of a round.
func (t *Tenant) deltaPage(rc *reqCtx, kind objKind, raw string) *gresp {
	tok, ok := t.delta.decode(raw)
	sn := t.delta.get(tok.Snap)
	if !ok || sn == nil || sn.kind != kind || tok.Offset < 0 || tok.Offset > len(sn.pending) {
		return rc.syncStateNotFound()
	}
	return t.deltaResponseAt(rc, kind, sn, sn.pending, tok.Snap, tok.Offset)
}

func (t *Tenant) deltaResponse(rc *reqCtx, kind objKind, sn *deltaSnapshot, items []deltaItem, id uint64) *gresp {
	return t.deltaResponseAt(rc, kind, sn, items, id, 0)
}

// deltaResponseAt renders up to a page of items from offset, with a
// nextLink while more remain and the deltaLink on the last page.
func (t *Tenant) deltaResponseAt(rc *reqCtx, kind objKind, sn *deltaSnapshot, items []deltaItem, id uint64, offset int) *gresp {
	_, entitySet := t.castSchema(kind)
	end := min(offset+deltaPageSize, len(items))
	body := jsonObject{{"@odata.context", rc.context(entitySet)}}
	path := "/" + entitySet + "/delta"
	if end < len(items) {
		body = append(body, kv{"@odata.nextLink", rc.graphURL(path) + "?$skiptoken=" + t.delta.encode(deltaToken{Snap: id, Offset: end})})
	} else {
		body = append(body, kv{"@odata.deltaLink", rc.graphURL(path) + "?$deltatoken=" + t.delta.encode(deltaToken{Snap: id})})
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	vals := make([]jsonObject, 0, end-offset)
	for _, it := range items[offset:end] {
		vals = append(vals, t.deltaItemJSON(sn, it))
	}
	return jsonResp(http.StatusOK, append(body, kv{"value", vals}))
}

// deltaItemJSON is one entry of value: the object's selected properties
// with members@delta / manager@delta, or id and @removed. The caller holds
// the read lock.
func (t *Tenant) deltaItemJSON(sn *deltaSnapshot, it deltaItem) jsonObject {
	o := t.dir.objects[it.id]
	if it.removed != "" || o == nil || !o.active() {
		reason := it.removed
		if reason == "" {
			reason = "changed"
		}
		return jsonObject{{"id", it.id}, {"@removed", jsonObject{{"reason", reason}}}}
	}
	out := t.render(o, sn.sel, false)
	if _, ok := out.get("id"); !ok {
		out = append(jsonObject{{"id", o.id}}, out...)
	}
	if sn.members && len(it.added)+len(it.dropped) > 0 {
		var md []jsonObject
		for _, m := range it.added {
			md = append(md, jsonObject{{"@odata.type", t.memberType(m)}, {"id", m}})
		}
		for _, m := range it.dropped {
			md = append(md, jsonObject{{"@odata.type", t.memberType(m)}, {"id", m}, {"@removed", jsonObject{{"reason", "deleted"}}}})
		}
		out = append(out, kv{"members@delta", md})
	}
	if sn.manager && it.manager {
		if o.manager != "" {
			out = append(out, kv{"manager@delta", []jsonObject{{{"@odata.type", "#microsoft.graph.user"}, {"id", o.manager}}}})
		} else {
			out = append(out, kv{"manager@delta", []jsonObject{}})
		}
	}
	return out
}

func (t *Tenant) memberType(id string) string {
	if o := t.dir.objects[id]; o != nil {
		return "#" + t.schemaOf(o).odataType
	}
	return "#microsoft.graph.directoryObject"
}
