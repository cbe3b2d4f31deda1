package directory

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
)

// Object identifiers of the controls and capabilities this package uses.
const (
	oidPaging        = ldap.ControlTypePaging                // RFC 2696
	oidSyncRequest   = ldap.ControlTypeSyncRequest           // RFC 4533
	oidNotification  = ldap.ControlTypeMicrosoftNotification // LDAP_SERVER_NOTIFICATION_OID
	oidDirSync       = ldap.ControlTypeDirSync               // LDAP_SERVER_DIRSYNC_OID
	oidShowDeleted   = ldap.ControlTypeMicrosoftShowDeleted  // LDAP_SERVER_SHOW_DELETED_OID
	oidCapAD         = "1.2.840.113556.1.4.800"              // LDAP_CAP_ACTIVE_DIRECTORY_OID
	oidMatchingChain = "1.2.840.113556.1.4.1941"             // LDAP_MATCHING_RULE_IN_CHAIN
)

// serverInfo is what the root DSE says about the server.
type serverInfo struct {
	ad             bool
	vendor         string
	controls       map[string]bool
	namingContexts []string
	defaultNC      string
	monitor        string // OpenLDAP's monitorContext, for the server's clock
}

var rootDSEAttrs = []string{
	"supportedControl", "supportedCapabilities", "namingContexts",
	"defaultNamingContext", "vendorName", "monitorContext",
}

func (d *Directory) loadInfo(ctx context.Context) error {
	return d.withConn(ctx, func(s *session) error {
		e, err := d.rootDSE(s.c, rootDSEAttrs...)
		if err != nil {
			return err
		}
		info := serverInfo{
			vendor:         e.GetAttributeValue("vendorName"),
			controls:       map[string]bool{},
			namingContexts: e.GetEqualFoldAttributeValues("namingContexts"),
			defaultNC:      e.GetEqualFoldAttributeValue("defaultNamingContext"),
			monitor:        e.GetEqualFoldAttributeValue("monitorContext"),
		}
		for _, c := range e.GetEqualFoldAttributeValues("supportedControl") {
			info.controls[c] = true
		}
		info.ad = d.src.Type == "activeDirectory" || slices.Contains(e.GetEqualFoldAttributeValues("supportedCapabilities"), oidCapAD)
		d.info = info
		d.log.Debug("ldap server", "vendor", info.vendor, "activeDirectory", info.ad, "namingContexts", info.namingContexts)
		return nil
	})
}

// rootDSE reads attributes of the root DSE.
func (d *Directory) rootDSE(c *ldap.Conn, attrs ...string) (*ldap.Entry, error) {
	e, err := d.baseEntry(c, "", "(objectClass=*)", attrs)
	if err != nil {
		return nil, fmt.Errorf("read root DSE: %w", err)
	}
	if e == nil {
		return nil, errors.New("read root DSE: the server returned no root DSE")
	}
	return e, nil
}

// baseEntry reads one entry; nil when it does not exist or does not match
// the filter.
func (d *Directory) baseEntry(c *ldap.Conn, dn, filter string, attrs []string, controls ...ldap.Control) (*ldap.Entry, error) {
	req := ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, d.timeLimit(), false, filter, attrs, controls)
	res, err := c.Search(req)
	if err != nil {
		if ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
			return nil, nil
		}
		return nil, err
	}
	if len(res.Entries) == 0 {
		return nil, nil
	}
	return res.Entries[0], nil
}

// timeLimit is the server-side time limit of a search, in seconds.
func (d *Directory) timeLimit() int {
	return max(1, int(d.timeout/time.Second))
}

// query is one search.
type query struct {
	base     string
	scope    int
	filter   string
	attrs    []string
	controls []ldap.Control
}

// entryFunc receives one entry, with the connection it came on (ranged
// member reads continue on it).
type entryFunc func(c *ldap.Conn, e *ldap.Entry) error

// hops tracks the servers and bases a read has visited through referrals.
type hops struct {
	seen  map[string]bool
	depth int
}

const maxReferralHops = 10

// search runs q as a paged search (RFC 2696) and passes each entry to fn,
// page by page: only one page is held at a time. It returns nil only when
// the server's final result said every page was sent and every referral
// was handled by the policy; a size or time limit, a timeout, a dropped
// connection or a referral loop is an error.
func (d *Directory) search(ctx context.Context, s *session, q query, st *ReadStats, fn entryFunc) error {
	h := &hops{seen: map[string]bool{hopKey(d.u.Host, q.base): true}}
	return d.searchOn(ctx, s.c, s, q, st, fn, h)
}

func (d *Directory) searchOn(ctx context.Context, c *ldap.Conn, s *session, q query, st *ReadStats, fn entryFunc, h *hops) error {
	var refs []string
	// The next page is asked for as soon as the cookie for it arrives, so
	// the server prepares it while this one is processed: at most two
	// pages are held.
	next := d.fetchPage(c, q, nil)
	for page := 0; ; page++ {
		pr := <-next
		res, err := pr.res, pr.err
		if err != nil {
			if ldap.IsErrorWithCode(err, ldap.LDAPResultReferral) && page == 0 {
				return d.followResult(ctx, q, referralURLs(err), st, fn, h)
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return searchError(q, page, err)
		}
		if res == nil {
			return fmt.Errorf("search %s: %w", q.base, ErrIncomplete)
		}
		st.Pages++
		more := false
		ctl := ldap.FindControl(res.Controls, oidPaging)
		if ctl == nil && page > 0 {
			return fmt.Errorf("search %s %s: %w: page %d came without the paging control", q.base, q.filter, ErrIncomplete, page+1)
		}
		if ctl != nil {
			pc, ok := ctl.(*ldap.ControlPaging)
			if !ok {
				return fmt.Errorf("search %s: %w: malformed paging control", q.base, ErrIncomplete)
			}
			if len(pc.Cookie) > 0 {
				more = true
				next = d.fetchPage(c, q, pc.Cookie)
			}
		}
		entries := res.Entries
		res.Entries = nil
		for i, e := range entries {
			entries[i] = nil // let the page go as it is consumed
			if err := fn(c, e); err != nil {
				if more && s != nil {
					s.dirty = true // a page is in flight and the server holds the search
				}
				return err
			}
		}
		refs = append(refs, res.Referrals...)
		if !more {
			break
		}
	}
	return d.followRefs(ctx, q, refs, st, fn, h)
}

type pageResult struct {
	res *ldap.SearchResult
	err error
}

// fetchPage sends one page's request (go-ldap's Search collects the page
// and its final result, which says whether it is complete).
func (d *Directory) fetchPage(c *ldap.Conn, q query, cookie []byte) <-chan pageResult {
	paging := ldap.NewControlPaging(uint32(d.page))
	paging.SetCookie(cookie)
	controls := append(slices.Clip(q.controls), paging)
	req := ldap.NewSearchRequest(q.base, q.scope, ldap.NeverDerefAliases, 0, d.timeLimit(), false, q.filter, q.attrs, controls)
	out := make(chan pageResult, 1)
	go func() {
		res, err := c.Search(req)
		out <- pageResult{res, err}
	}()
	return out
}

// searchError describes a failed search. Limits get a hint, as they are
// configuration problems on the server.
func searchError(q query, page int, err error) error {
	where := fmt.Sprintf("search %s %s", q.base, q.filter)
	if page > 0 {
		where += fmt.Sprintf(" (page %d)", page+1)
	}
	switch {
	case ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded):
		return fmt.Errorf("%s: the server's size limit stopped the read (raise it for the bind DN, e.g. slapd limits size.prtotal=unlimited): %w", where, err)
	case ldap.IsErrorWithCode(err, ldap.LDAPResultTimeLimitExceeded):
		return fmt.Errorf("%s: the server's time limit stopped the read: %w", where, err)
	case ldap.IsErrorWithCode(err, ldap.LDAPResultAdminLimitExceeded):
		return fmt.Errorf("%s: an administrative limit stopped the read: %w", where, err)
	}
	return fmt.Errorf("%s: %w", where, err)
}

func (d *Directory) policy() ReferralPolicy {
	if d.opts.referrals != ReferralsDefault {
		return d.opts.referrals
	}
	if d.info.ad {
		return ReferralsIgnore
	}
	return ReferralsFollow
}

// followRefs handles the continuation references of a finished search.
func (d *Directory) followRefs(ctx context.Context, q query, refs []string, st *ReadStats, fn entryFunc, h *hops) error {
	if len(refs) == 0 {
		return nil
	}
	switch d.policy() {
	case ReferralsIgnore:
		for _, r := range refs {
			if len(st.Ignored) < maxProblemsKept {
				st.Ignored = append(st.Ignored, r)
			}
		}
		d.log.Debug("continuation references ignored", "base", q.base, "refs", refs)
		return nil
	case ReferralsFail:
		return fmt.Errorf("search %s: the server referred to %s (referrals are not followed)", q.base, strings.Join(refs, ", "))
	}
	for _, r := range refs {
		if err := d.follow(ctx, q, []string{r}, true, st, fn, h); err != nil {
			return err
		}
	}
	return nil
}

// followResult handles a referral result: the base is held elsewhere.
func (d *Directory) followResult(ctx context.Context, q query, urls []string, st *ReadStats, fn entryFunc, h *hops) error {
	if len(urls) == 0 {
		return fmt.Errorf("search %s: referral result without a URL", q.base)
	}
	if p := d.policy(); p != ReferralsFollow {
		return fmt.Errorf("search %s: the server referred to %s (referrals are not followed)", q.base, strings.Join(urls, ", "))
	}
	return d.follow(ctx, q, urls, false, st, fn, h)
}

// follow searches the place a referral names (any one of its URLs), on a
// connection of its own bound with the source's credentials.
func (d *Directory) follow(ctx context.Context, q query, urls []string, continuation bool, st *ReadStats, fn entryFunc, h *hops) error {
	if h.depth >= maxReferralHops {
		return fmt.Errorf("search %s: %w: more than %d referral hops", q.base, ErrReferralLoop, maxReferralHops)
	}
	var last error
	for _, raw := range urls {
		u, nq, err := d.referralQuery(raw, q, continuation)
		if err != nil {
			last = err
			continue
		}
		key := hopKey(u.Host, nq.base)
		if h.seen[key] {
			return fmt.Errorf("search %s: %w: %s was visited already", q.base, ErrReferralLoop, raw)
		}
		h.seen[key] = true
		c, err := d.dialRetry(ctx, u, true)
		if err != nil {
			last = fmt.Errorf("follow referral %s: %w", raw, err)
			continue
		}
		d.log.Debug("following referral", "url", raw)
		stop := context.AfterFunc(ctx, func() { c.Close() })
		h.depth++
		err = d.searchOn(ctx, c, nil, nq, st, fn, h)
		h.depth--
		stop()
		c.Close()
		if err != nil {
			return fmt.Errorf("follow referral %s: %w", raw, err)
		}
		return nil
	}
	return last
}

// referralQuery turns an LDAP URL (RFC 4516) into the query to run there.
func (d *Directory) referralQuery(raw string, q query, continuation bool) (*url.URL, query, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, q, fmt.Errorf("referral %q: %w", raw, err)
	}
	u, err = parseURL(u.Scheme + "://" + u.Host)
	if err != nil {
		return nil, q, fmt.Errorf("referral %q: %w", raw, err)
	}
	full, _ := url.Parse(raw)
	nq := q
	if dn := strings.TrimPrefix(full.Path, "/"); dn != "" {
		nq.base = dn
	}
	parts := strings.Split(full.RawQuery, "?")
	if len(parts) > 1 {
		switch strings.ToLower(parts[1]) {
		case "base":
			nq.scope = ldap.ScopeBaseObject
		case "one":
			nq.scope = ldap.ScopeSingleLevel
		case "sub":
			nq.scope = ldap.ScopeWholeSubtree
		}
	} else if continuation && q.scope == ldap.ScopeSingleLevel {
		// RFC 4511 4.5.3: a one-level search continues as a base search.
		nq.scope = ldap.ScopeBaseObject
	}
	if len(parts) > 2 && parts[2] != "" {
		if f, err := url.QueryUnescape(parts[2]); err == nil {
			nq.filter = f
		}
	}
	return u, nq, nil
}

func hopKey(host, base string) string { return strings.ToLower(host) + "|" + normDN(base) }

// referralURLs extracts the URLs of a referral result (RFC 4511 4.1.10).
func referralURLs(err error) []string {
	var le *ldap.Error
	if !errors.As(err, &le) || le.Packet == nil || len(le.Packet.Children) < 2 {
		return nil
	}
	op := le.Packet.Children[1]
	for _, child := range op.Children {
		if child.ClassType == ber.ClassContext && child.Tag == 3 {
			var urls []string
			for _, u := range child.Children {
				if s, ok := u.Value.(string); ok {
					urls = append(urls, s)
				} else if len(u.ByteValue) > 0 {
					urls = append(urls, string(u.ByteValue))
				}
			}
			return urls
		}
	}
	return nil
}

// namingContext returns the naming context holding dn (the longest
// namingContexts value dn ends with), or fallback.
func (d *Directory) namingContext(dn, fallback string) string {
	best := ""
	for _, nc := range d.info.namingContexts {
		if nc != "" && dnWithin(dn, nc) && len(nc) > len(best) {
			best = nc
		}
	}
	if best == "" {
		return fallback
	}
	return best
}

// searchAll runs q without paging and returns every entry: for small
// answers (the groups listing one member) read while a paged search on the
// same connection is between pages. A size limit is an error.
func (d *Directory) searchAll(c *ldap.Conn, q query) ([]*ldap.Entry, error) {
	req := ldap.NewSearchRequest(q.base, q.scope, ldap.NeverDerefAliases, 0, d.timeLimit(), false, q.filter, q.attrs, q.controls)
	res, err := c.Search(req)
	if err != nil {
		return nil, searchError(q, 0, err)
	}
	if len(res.Referrals) > 0 && d.policy() != ReferralsIgnore {
		return nil, fmt.Errorf("search %s: the server referred to %s", q.base, strings.Join(res.Referrals, ", "))
	}
	return res.Entries, nil
}
