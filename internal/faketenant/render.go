package faketenant

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

func (t *Tenant) schemaOf(o *object) *schema {
	if o.kind == kindGroup {
		return t.groupSch
	}
	return t.userSch
}

// value returns a property of o in its JSON form; computed properties are
// derived here.
func (t *Tenant) value(o *object, name string) any {
	switch name {
	case "id":
		return o.id
	case "createdDateTime":
		return formatTime(o.created)
	case "deletedDateTime":
		if o.active() {
			return nil
		}
		return formatTime(o.deletedAt)
	case "assignedLicenses":
		if o.kind == kindUser {
			return assignedLicensesJSON(o)
		}
	case "assignedPlans":
		if o.kind == kindUser {
			return t.assignedPlansJSON(o)
		}
	}
	if v, ok := o.props[name]; ok {
		return v
	}
	if p, ok := t.schemaOf(o).lookup(name); ok && p.typ == tStrings {
		return []string{}
	}
	return nil
}

func (t *Tenant) getter(o *object) func(string) any {
	return func(name string) any { return t.value(o, name) }
}

// render produces the JSON of o with the selected (or default) properties;
// typed adds @odata.type, as directoryObject collections carry
// (graph.md §4.3, §1.5).
func (t *Tenant) render(o *object, sel []*propDef, typed bool) jsonObject {
	sch := t.schemaOf(o)
	out := jsonObject{}
	if typed {
		out = append(out, kv{"@odata.type", "#" + sch.odataType})
	}
	if sel == nil {
		for i := range sch.props {
			if sch.props[i].dflt {
				out = append(out, kv{sch.props[i].name, t.value(o, sch.props[i].name)})
			}
		}
		return out
	}
	for _, p := range sel {
		if p.kind() != o.kind {
			// A mixed directoryObject list: select the same-named property
			// of the other type, if it has one.
			var ok bool
			if p, ok = sch.lookup(p.name); !ok {
				continue
			}
		}
		out = append(out, kv{p.name, t.value(o, p.name)})
	}
	return out
}

// kind tells which resource a propDef belongs to; properties of the other
// type are skipped when a directoryObject list mixes users and groups.
func (p *propDef) kind() objKind {
	if p.owner == "group" {
		return kindGroup
	}
	return kindUser
}

// expandManager adds the manager chain for $expand=manager (graph.md §2).
func (t *Tenant) expandManager(o *object, ex *expandSpec, out jsonObject, depth int) jsonObject {
	if ex == nil || ex.prop != "manager" || o.kind != kindUser {
		return out
	}
	m := t.dir.activeObject(o.manager)
	if m == nil || !t.visible(m) {
		return out
	}
	mj := t.render(m, ex.sel, true)
	if ex.levels < 0 || depth < ex.levels {
		if depth < 1000 && m.id != o.id {
			mj = t.expandManager(m, ex, mj, depth+1)
		}
	}
	return append(out, kv{"manager", mj})
}

// listSpec describes one collection endpoint for listObjects.
type listSpec struct {
	set     *orderedSet
	kind    objKind // 0 for mixed directoryObjects
	context string
	typed   bool
	include func(*object) bool
	lookup  func(fexpr) ([]string, bool) // index plan; nil for none
}

// listObjects serves a collection with $filter, $search, $orderby, $count,
// $top and opaque $skiptoken paging (graph.md §1.3). The caller holds the
// read lock.
func (t *Tenant) listObjects(rc *reqCtx, q *listQuery, spec listSpec) *gresp {
	match := func(id string) *object {
		o := t.dir.objects[id]
		if o == nil || (spec.kind != 0 && o.kind != spec.kind) || (spec.include != nil && !spec.include(o)) {
			return nil
		}
		get := t.getter(o)
		if q.filter != nil && !evalFilter(q.filter, get) {
			return nil
		}
		if q.search != nil && !matchSearch(q.search, get) {
			return nil
		}
		return o
	}
	var cands []string
	indexed := false
	if q.filter != nil && spec.lookup != nil {
		cands, indexed = spec.lookup(q.filter)
	}
	if indexed {
		cands = slices.DeleteFunc(cands, func(id string) bool { return !spec.set.has(id) })
		slices.SortFunc(cands, func(a, b string) int {
			sa, sb := spec.set.seqOf(a), spec.set.seqOf(b)
			return int(int64(sa) - int64(sb))
		})
		cands = slices.Compact(cands)
	}
	var page []*object
	var next string
	if q.orderBy != nil {
		page, next = t.sortedPage(q, spec, match, cands, indexed)
	} else {
		page, next = t.seqPage(q, spec, match, cands, indexed)
	}
	body := jsonObject{{"@odata.context", rc.context(spec.context)}}
	if q.count && rc.query.Get("$skiptoken") == "" {
		body = append(body, kv{"@odata.count", t.countMatches(spec, match, cands, indexed)})
	}
	if next != "" {
		body = append(body, kv{"@odata.nextLink", rc.nextLink(next)})
	}
	vals := make([]jsonObject, 0, len(page))
	for _, o := range page {
		vals = append(vals, t.expandManager(o, q.expand, t.render(o, q.sel, spec.typed), 1))
	}
	return jsonResp(http.StatusOK, append(body, kv{"value", vals}))
}

// seqPage pages in insertion order; the token is the last sequence number.
func (t *Tenant) seqPage(q *listQuery, spec listSpec, match func(string) *object, cands []string, indexed bool) ([]*object, string) {
	var page []*object
	var lastSeq uint64
	more := false
	visit := func(id string, seq uint64) bool {
		if o := match(id); o != nil {
			if len(page) == q.top {
				more = true
				return false
			}
			page = append(page, o)
			lastSeq = seq
		}
		return true
	}
	if indexed {
		for _, id := range cands {
			if seq := spec.set.seqOf(id); seq > q.after && !visit(id, seq) {
				break
			}
		}
	} else {
		spec.set.scan(q.after, visit)
	}
	if more {
		return page, encodeSkipToken(1, lastSeq)
	}
	return page, ""
}

// sortedPage serves $orderby: every match sorted, then an offset page.
func (t *Tenant) sortedPage(q *listQuery, spec listSpec, match func(string) *object, cands []string, indexed bool) ([]*object, string) {
	all := t.allMatches(spec, match, cands, indexed)
	key := func(o *object) string { s, _ := t.value(o, q.orderBy.name).(string); return strings.ToLower(s) }
	slices.SortStableFunc(all, func(a, b *object) int {
		c := strings.Compare(key(a), key(b))
		if c == 0 {
			c = strings.Compare(a.id, b.id)
		}
		if q.desc {
			c = -c
		}
		return c
	})
	if q.offset >= len(all) {
		return nil, ""
	}
	end := min(q.offset+q.top, len(all))
	if end < len(all) {
		return all[q.offset:end], encodeSkipToken(2, uint64(end))
	}
	return all[q.offset:end], ""
}

func (t *Tenant) allMatches(spec listSpec, match func(string) *object, cands []string, indexed bool) []*object {
	var all []*object
	if indexed {
		for _, id := range cands {
			if o := match(id); o != nil {
				all = append(all, o)
			}
		}
		return all
	}
	spec.set.scan(0, func(id string, _ uint64) bool {
		if o := match(id); o != nil {
			all = append(all, o)
		}
		return true
	})
	return all
}

func (t *Tenant) countMatches(spec listSpec, match func(string) *object, cands []string, indexed bool) int {
	return len(t.allMatches(spec, match, cands, indexed))
}

// countResp serves /$count as text/plain; without ConsistencyLevel it is
// graph.md §1.3's 400.
func (t *Tenant) countResp(rc *reqCtx, q *listQuery, spec listSpec) *gresp {
	if !rc.eventual() {
		return rc.badRequest("$count is not currently supported.")
	}
	match := func(id string) *object {
		o := t.dir.objects[id]
		if o == nil || (spec.kind != 0 && o.kind != spec.kind) || (spec.include != nil && !spec.include(o)) {
			return nil
		}
		if q.filter != nil && !evalFilter(q.filter, t.getter(o)) {
			return nil
		}
		if q.search != nil && !matchSearch(q.search, t.getter(o)) {
			return nil
		}
		return o
	}
	return textResp(strconv.Itoa(t.countMatches(spec, match, nil, false)))
}

// indexLookup plans a filter onto the unique indexes: id, UPN, mail,
// onPremisesImmutableId and proxyAddresses/any(p:p eq 'smtp:…'). ok is
// false when the filter cannot be answered from them.
func (t *Tenant) indexLookup(e fexpr) ([]string, bool) {
	switch n := e.(type) {
	case fcmp:
		if n.op == "eq" && n.val.kind != "null" {
			return t.indexGet(n.prop, n.val.s)
		}
	case fin:
		var out []string
		for _, v := range n.vals {
			ids, ok := t.indexGet(n.prop, v.s)
			if !ok {
				return nil, false
			}
			out = append(out, ids...)
		}
		return out, true
	case fany:
		if c, ok := n.inner.(fcmp); ok && c.op == "eq" && strings.EqualFold(n.coll, "proxyAddresses") && strings.EqualFold(c.prop, n.v) {
			if typ, addr, ok := strings.Cut(c.val.s, ":"); ok && strings.EqualFold(typ, "smtp") {
				return t.indexGet("mail", addr)
			}
		}
	case fbool:
		l, lok := t.indexLookup(n.l)
		if n.op == "and" {
			if lok {
				return l, true
			}
			return t.indexLookup(n.r)
		}
		r, rok := t.indexLookup(n.r)
		if lok && rok {
			return append(l, r...), true
		}
	}
	return nil, false
}

func (t *Tenant) indexGet(prop, val string) ([]string, bool) {
	var m map[string]string
	key := strings.ToLower(val)
	switch prop {
	case "id":
		return []string{strings.ToLower(val)}, true
	case "userPrincipalName":
		m = t.dir.upn
	case "mail":
		m = t.dir.addr
	case "onPremisesImmutableId":
		m, key = t.dir.immutable, val
	default:
		return nil, false
	}
	if id, ok := m[key]; ok {
		return []string{id}, true
	}
	return []string{}, true
}
