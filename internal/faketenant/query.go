package faketenant

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// listQuery is a parsed set of OData query options for one request.
type listQuery struct {
	sch      *schema
	sel      []*propDef // nil: the default property set
	filter   fexpr
	top      int
	after    uint64 // resume after this sequence number (insertion order)
	offset   int    // resume at this offset (sorted results)
	orderBy  *propDef
	desc     bool
	count    bool // $count=true honoured (needs ConsistencyLevel)
	search   [][]searchTerm
	expand   *expandSpec
	advanced bool
}

type expandSpec struct {
	prop   string
	sel    []*propDef
	levels int // 1 by default; -1 for max
}

// queryOpts says which options an endpoint accepts.
type queryOpts struct {
	collection bool
	pageSize   int // default page size; 0 for non-collections
	filter     bool
	orderBy    []string
	expand     []string
}

// parseQuery reads and checks the OData options of graph.md §1.3.
func (t *Tenant) parseQuery(rc *reqCtx, sch *schema, o queryOpts) (*listQuery, *gresp) {
	q := &listQuery{sch: sch, top: o.pageSize}
	q.advanced = rc.eventual() && strings.EqualFold(rc.query.Get("$count"), "true")
	for k := range rc.query {
		if !strings.HasPrefix(k, "$") {
			continue
		}
		switch strings.ToLower(k) {
		case "$select", "$filter", "$top", "$skiptoken", "$count", "$search", "$orderby", "$expand":
		case "$skip":
			return nil, rc.badRequest("'$skip' is not supported by the service.")
		default:
			return nil, rc.fail(http.StatusBadRequest, "BadRequest", fmt.Sprintf("The query parameter '%s' is not supported.", k))
		}
	}
	for _, step := range []func(*reqCtx, *listQuery, queryOpts) *gresp{parseTop, parseSelect, parseCount, t.parseFilterOpt, parseSearch, parseOrderBy, t.parseExpand, parseSkipToken} {
		if bad := step(rc, q, o); bad != nil {
			return nil, bad
		}
	}
	return q, nil
}

func parseTop(rc *reqCtx, q *listQuery, o queryOpts) *gresp {
	s := rc.query.Get("$top")
	if s == "" {
		return nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 999 {
		return rc.badRequest(fmt.Sprintf("Invalid page size specified: '%s'. Must be between 1 and 999 inclusive.", s))
	}
	if o.collection {
		q.top = n
	}
	return nil
}

func parseSelect(rc *reqCtx, q *listQuery, o queryOpts) *gresp {
	s := rc.query.Get("$select")
	if s == "" {
		return nil
	}
	sel, bad := selectProps(rc, q.sch, s)
	if bad != nil {
		return bad
	}
	if o.collection {
		for _, p := range sel {
			if p.noList {
				// graph.md §1.2: these cannot be read from a collection.
				return rc.fail(http.StatusNotImplemented, "NotImplemented", fmt.Sprintf("The property '%s' does not support being selected on a collection of %s.", p.name, q.sch.entitySet))
			}
		}
	}
	q.sel = sel
	return nil
}

func selectProps(rc *reqCtx, sch *schema, s string) ([]*propDef, *gresp) {
	var sel []*propDef
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		p, ok := sch.lookup(name)
		if !ok || p.name == "manager" {
			return nil, rc.badRequest(fmt.Sprintf("Could not find a property named '%s' on type '%s'.", name, sch.odataType))
		}
		sel = append(sel, p)
	}
	return sel, nil
}

// parseCount: without ConsistencyLevel, $count=true is silently ignored
// (graph.md §1.3).
func parseCount(rc *reqCtx, q *listQuery, o queryOpts) *gresp {
	s := rc.query.Get("$count")
	switch strings.ToLower(s) {
	case "":
	case "true":
		q.count = rc.eventual() && o.collection
	case "false":
	default:
		return rc.badRequest(fmt.Sprintf("Invalid $count value '%s'.", s))
	}
	return nil
}

func (t *Tenant) parseFilterOpt(rc *reqCtx, q *listQuery, o queryOpts) *gresp {
	s := rc.query.Get("$filter")
	if s == "" {
		return nil
	}
	if !o.filter {
		return rc.badRequest("This request does not support the $filter query option.")
	}
	e, err := parseFilter(s)
	if err != nil {
		return rc.badRequest("Invalid filter clause: " + err.Error())
	}
	e, needAdv, bad := checkFilter(rc, q.sch, e)
	if bad != nil {
		return bad
	}
	if needAdv && !q.advanced {
		return rc.unsupportedQuery("Unsupported Query.")
	}
	q.filter = e
	return nil
}

// checkFilter resolves property names and decides whether the filter needs
// an advanced query (graph.md §1.3, §7).
func checkFilter(rc *reqCtx, sch *schema, e fexpr) (fexpr, bool, *gresp) {
	need := func(prop string, op filterOps) (string, bool, *gresp) {
		p, ok := sch.lookup(prop)
		if !ok {
			return "", false, rc.badRequest(fmt.Sprintf("Could not find a property named '%s' on type '%s'.", prop, sch.odataType))
		}
		switch {
		case p.basic&op != 0:
			return p.name, false, nil
		case p.adv&op != 0:
			return p.name, true, nil
		}
		return "", false, rc.unsupportedQuery(fmt.Sprintf("Unsupported or invalid query filter clause specified for property '%s' of resource '%s'.", p.name, sch.resource))
	}
	switch n := e.(type) {
	case fbool:
		l, a1, bad := checkFilter(rc, sch, n.l)
		if bad != nil {
			return nil, false, bad
		}
		r, a2, bad := checkFilter(rc, sch, n.r)
		return fbool{n.op, l, r}, a1 || a2, bad
	case fnot:
		inner, _, bad := checkFilter(rc, sch, n.e)
		return fnot{inner}, true, bad
	case fcmp:
		op := map[string]filterOps{"eq": opEq, "ne": opNe, "ge": opRange, "le": opRange, "gt": opRange, "lt": opRange}[n.op]
		if n.val.kind == "null" {
			op = opNull
		}
		name, adv, bad := need(n.prop, op)
		return fcmp{name, n.op, n.val}, adv || n.op == "ne" || n.op == "gt" || n.op == "lt", bad
	case fin:
		name, adv, bad := need(n.prop, opIn)
		return fin{name, n.vals}, adv, bad
	case ffunc:
		op := opStartsWith
		if n.fn == "endswith" {
			op = opEndsWith
		}
		name, adv, bad := need(n.prop, op)
		return ffunc{n.fn, name, n.val}, adv, bad
	case fany:
		name, adv, bad := need(n.coll, opAny)
		innerAdv := lambdaNeedsAdvanced(n.inner)
		return fany{coll: name, v: n.v, inner: n.inner}, adv || innerAdv, bad
	}
	return e, false, rc.badRequest("Invalid filter clause.")
}

// lambdaNeedsAdvanced: inside any(), eq and startsWith are basic; anything
// else is an advanced query.
func lambdaNeedsAdvanced(e fexpr) bool {
	switch n := e.(type) {
	case fcmp:
		return n.op != "eq"
	case ffunc:
		return n.fn != "startswith"
	case fin:
		return false
	case fbool:
		return lambdaNeedsAdvanced(n.l) || lambdaNeedsAdvanced(n.r)
	}
	return true
}

// parseSearch: $search needs ConsistencyLevel: eventual (graph.md §1.3).
// Clauses are "property:text", joined with AND or OR.
func parseSearch(rc *reqCtx, q *listQuery, o queryOpts) *gresp {
	s := rc.query.Get("$search")
	if s == "" {
		return nil
	}
	if !rc.eventual() {
		return rc.unsupportedQuery("Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'")
	}
	terms, msg := parseSearchExpr(s, q.sch)
	if msg != "" {
		return rc.badRequest(msg)
	}
	q.search = terms
	return nil
}

func parseOrderBy(rc *reqCtx, q *listQuery, o queryOpts) *gresp {
	s := strings.TrimSpace(rc.query.Get("$orderby"))
	if s == "" {
		return nil
	}
	name, dir, _ := strings.Cut(s, " ")
	ok := false
	for _, allowed := range o.orderBy {
		if strings.EqualFold(allowed, name) {
			ok = true
		}
	}
	p, found := q.sch.lookup(name)
	if !ok || !found {
		return rc.unsupportedQuery("Sorting not supported for current query.")
	}
	switch strings.ToLower(strings.TrimSpace(dir)) {
	case "", "asc":
	case "desc":
		q.desc = true
	default:
		return rc.badRequest(fmt.Sprintf("Invalid $orderby direction '%s'.", dir))
	}
	// graph.md §7: $filter combined with $orderby is an advanced query.
	if q.filter != nil && !q.advanced {
		return rc.unsupportedQuery("Unsupported Query.")
	}
	q.orderBy = p
	return nil
}

func (t *Tenant) parseExpand(rc *reqCtx, q *listQuery, o queryOpts) *gresp {
	s := strings.TrimSpace(rc.query.Get("$expand"))
	if s == "" {
		return nil
	}
	name, opts, hasOpts := strings.Cut(s, "(")
	ok := false
	for _, allowed := range o.expand {
		if strings.EqualFold(allowed, name) {
			ok, name = true, allowed
		}
	}
	if !ok {
		return rc.badRequest(fmt.Sprintf("Could not find a property named '%s' on type '%s'.", name, q.sch.odataType))
	}
	ex := &expandSpec{prop: name, levels: 1}
	if hasOpts {
		for _, part := range strings.Split(strings.TrimSuffix(opts, ")"), ";") {
			k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
			switch strings.ToLower(k) {
			case "$select":
				sch := t.userSch
				if name == "members" {
					sch = q.sch
				}
				sel, bad := selectProps(rc, sch, v)
				if bad != nil {
					return bad
				}
				ex.sel = sel
			case "$levels":
				// graph.md §2: $levels needs an advanced query.
				if !q.advanced {
					return rc.unsupportedQuery("Unsupported Query.")
				}
				if strings.EqualFold(v, "max") {
					ex.levels = -1
				} else if n, err := strconv.Atoi(v); err == nil && n >= 1 && n <= 1000 {
					ex.levels = n
				} else {
					return rc.badRequest(fmt.Sprintf("Invalid $levels value '%s'.", v))
				}
			default:
				return rc.badRequest(fmt.Sprintf("The query option '%s' is not supported inside $expand.", k))
			}
		}
	}
	q.expand = ex
	return nil
}

// skipTokenMagic starts every skip token; Graph's own look like X'4453707…'.
const skipTokenMagic = "DSpt"

func parseSkipToken(rc *reqCtx, q *listQuery, o queryOpts) *gresp {
	s := rc.query.Get("$skiptoken")
	if s == "" {
		return nil
	}
	bad := rc.badRequest("The $skiptoken is invalid or has expired.")
	if !strings.HasPrefix(s, "X'") || !strings.HasSuffix(s, "'") {
		return bad
	}
	raw, err := hex.DecodeString(s[2 : len(s)-1])
	if err != nil || len(raw) < 6 || string(raw[:4]) != skipTokenMagic {
		return bad
	}
	n, k := binary.Uvarint(raw[5:])
	if k <= 0 {
		return bad
	}
	switch raw[4] {
	case 1:
		q.after = n
	case 2:
		q.offset = int(n)
	default:
		return bad
	}
	return nil
}

func encodeSkipToken(mode byte, n uint64) string {
	b := append([]byte(skipTokenMagic), mode)
	b = binary.AppendUvarint(b, n)
	return "X'" + strings.ToUpper(hex.EncodeToString(b)) + "'"
}

// nextLink is the absolute URL of the next page: the request's own URL on
// this host with the other query options kept as sent (graph.md §1.3).
func (rc *reqCtx) nextLink(token string) string {
	var parts []string
	for _, p := range strings.Split(rc.rawQuery, "&") {
		k, _, _ := strings.Cut(p, "=")
		if p == "" || strings.EqualFold(k, "$skiptoken") || strings.EqualFold(k, "%24skiptoken") {
			continue
		}
		parts = append(parts, p)
	}
	parts = append(parts, "$skiptoken="+strings.ReplaceAll(token, "'", "%27"))
	return rc.graphURL(rc.path) + "?" + strings.Join(parts, "&")
}
