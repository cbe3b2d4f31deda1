package ldapserver

import (
	"context"
)

// searchChunk is how many entries are rendered per hold of the read lock,
// so that a long search lets writers in between chunks.
const searchChunk = 256

// searchRequest is a decoded SearchRequest.
type searchRequest struct {
	base      dn
	scope     int64
	sizeLimit int
	typesOnly bool
	filter    *filter
	attrs     []string
	key       string
}

func decodeSearch(req *request) (*searchRequest, error) {
	b := req.body
	baseStr, err := str(b, 0)
	if err != nil {
		return nil, err
	}
	base, err := parseDN(baseStr)
	if err != nil {
		return nil, err
	}
	sr := &searchRequest{base: base}
	if sr.scope, err = num(b, 1); err != nil {
		return nil, err
	}
	limit, err := num(b, 3)
	if err != nil {
		return nil, err
	}
	sr.sizeLimit = int(limit)
	if sr.typesOnly, err = flag(b, 5); err != nil {
		return nil, err
	}
	fp, err := child(b, 6)
	if err != nil {
		return nil, err
	}
	if sr.filter, err = compileFilter(fp); err != nil {
		return nil, err
	}
	ap, err := child(b, 7)
	if err != nil {
		return nil, err
	}
	if sr.attrs, err = strs(ap); err != nil {
		return nil, err
	}
	sr.key = searchKey(base.norm(), sr.scope, fp.Bytes(), sr.attrs, sr.typesOnly)
	return sr, nil
}

// handleSearch answers a SearchRequest. The time limit is ignored: no
// search of an in-memory tree this size runs long enough to need it.
func (c *conn) handleSearch(ctx context.Context, req *request) {
	sr, err := decodeSearch(req)
	if err != nil {
		c.replyErr(req, err)
		return
	}
	if sr.base.isRoot() {
		if sr.scope == scopeBase {
			c.searchRootDSE(req, sr)
			return
		}
		c.reply(req, NoSuchObject, "", "the root DSE can only be read with scope base; search under "+c.srv.store.suffix.String())
		return
	}
	dn, admin := c.state()
	if dn == "" && !c.srv.opts.AllowAnonymousRead {
		c.reply(req, InsufficientAccessRights, "", "bind first: anonymous users may read only the root DSE")
		return
	}
	v := view{s: c.srv.store, admin: admin}
	c.log.Debug("ldap search", "base", sr.base.String(), "scope", sr.scope, "filter", sr.filter.String())
	if ctl := req.control(oidPaging); ctl != nil {
		pr, err := decodePaging(ctl.value)
		if err != nil {
			c.replyErr(req, err)
			return
		}
		c.searchPaged(ctx, req, sr, v, pr)
		return
	}
	c.searchAll(ctx, req, sr, v)
}

// effectiveLimit combines the client's size limit with the server's, which
// applies to unpaged searches only.
func effectiveLimit(client, server int) int {
	switch {
	case client <= 0:
		return server
	case server <= 0 || client < server:
		return client
	default:
		return server
	}
}

func (c *conn) searchAll(ctx context.Context, req *request, sr *searchRequest, v view) {
	limit := effectiveLimit(sr.sizeLimit, c.srv.opts.SizeLimit)
	st := c.srv.store
	cur, err := st.openLocked(sr)
	if err != nil {
		c.replyErr(req, err)
		return
	}
	sel := sr.newSelection()
	for {
		max := searchChunk
		if limit > 0 && limit-cur.sent < max {
			max = limit - cur.sent
		}
		st.mu.RLock()
		batch := v.next(cur, sr.filter, sel, max, req.id)
		over := limit > 0 && cur.sent >= limit && v.hasMore(cur, sr.filter)
		st.mu.RUnlock()
		if !c.stream(ctx, req, batch) {
			return
		}
		if over {
			c.reply(req, SizeLimitExceeded, "", "")
			return
		}
		if cur.done() || limit > 0 && cur.sent >= limit {
			c.reply(req, Success, "", "")
			return
		}
	}
}

func (sr *searchRequest) newSelection() selection { return newSelection(sr.attrs, sr.typesOnly) }

// stream sends entries; it returns false if the operation was abandoned or
// the client is gone, in which case nothing more is sent.
func (c *conn) stream(ctx context.Context, req *request, entries [][]byte) bool {
	for _, e := range entries {
		if ctx.Err() != nil {
			return false
		}
		if err := c.send(e, false); err != nil {
			return false
		}
	}
	return ctx.Err() == nil
}

// searchPaged answers one page of a paged search (RFC 2696). An empty
// cookie starts a search; size 0 with a cookie abandons one.
func (c *conn) searchPaged(ctx context.Context, req *request, sr *searchRequest, v view, pr pagingRequest) {
	var ps *pagedSearch
	if pr.cookie != "" {
		c.mu.Lock()
		ps = c.pages.take(pr.cookie)
		c.mu.Unlock()
		switch {
		case ps == nil:
			c.reply(req, UnwillingToPerform, "", "paged results cookie is not valid on this connection (unknown, finished or abandoned)")
			return
		case ps.key != sr.key:
			c.reply(req, UnwillingToPerform, "", "paged results cookie belongs to a different search request")
			return
		}
	}
	if pr.size == 0 {
		c.replyWith(req, Success, "", "", nil, control(oidPaging, false, pagingValue(0, nil)))
		return
	}
	if ps == nil {
		cur, err := c.srv.store.openLocked(sr)
		if err != nil {
			c.replyErr(req, err)
			return
		}
		ps = &pagedSearch{key: sr.key, cur: cur, f: sr.filter, sel: sr.newSelection(), sizeLimit: sr.sizeLimit}
	}
	c.nextPage(ctx, req, ps, v, pr)
}

func (c *conn) nextPage(ctx context.Context, req *request, ps *pagedSearch, v view, pr pagingRequest) {
	max := pr.size
	if ps.sizeLimit > 0 && ps.sizeLimit-ps.cur.sent < max {
		max = ps.sizeLimit - ps.cur.sent
	}
	st := c.srv.store
	st.mu.RLock()
	batch := v.next(ps.cur, ps.f, ps.sel, max, req.id)
	more := v.hasMore(ps.cur, ps.f)
	st.mu.RUnlock()
	if !c.stream(ctx, req, batch) {
		return
	}
	if more && ps.sizeLimit > 0 && ps.cur.sent >= ps.sizeLimit {
		c.reply(req, SizeLimitExceeded, "", "")
		return
	}
	var cookie string
	if more {
		c.mu.Lock()
		var ok bool
		cookie, ok = c.pages.put(ps, pr.cookie)
		c.mu.Unlock()
		if !ok {
			c.reply(req, AdminLimitExceeded, "", "too many unfinished paged searches on this connection")
			return
		}
	}
	c.replyWith(req, Success, "", "", nil, control(oidPaging, false, pagingValue(0, []byte(cookie))))
}

// openLocked opens a cursor for sr under the read lock.
func (s *store) openLocked(sr *searchRequest) (*cursor, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.open(sr.base, int(sr.scope))
}
