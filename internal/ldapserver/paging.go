package ldapserver

import (
	"encoding/binary"
	"strings"

	ber "github.com/go-asn1-ber/asn1-ber"
)

// maxPagedSearches bounds the paged searches one connection may leave open;
// a client that starts more without finishing them is leaking them.
const maxPagedSearches = 256

// pagedSearch is the state kept between the pages of one paged search
// (RFC 2696). It belongs to one connection: a cookie is meaningless on
// another, as on real servers.
type pagedSearch struct {
	key       string // identifies the request; later pages must repeat it
	cur       *cursor
	f         *filter
	sel       selection
	sizeLimit int
}

// pager holds a connection's open paged searches by cookie. Cookies are a
// per-connection counter: the state lives on the server, so a cookie needs
// to be unique, not secret. The conn's mutex guards it.
type pager struct {
	open map[string]*pagedSearch
	next uint64
}

func newPager() pager { return pager{open: make(map[string]*pagedSearch)} }

// take removes and returns the search for cookie, so that two requests
// racing with one cookie cannot both advance it.
func (p *pager) take(cookie string) *pagedSearch {
	ps := p.open[cookie]
	delete(p.open, cookie)
	return ps
}

// put stores ps and returns its cookie, reusing cookie when given.
func (p *pager) put(ps *pagedSearch, cookie string) (string, bool) {
	if cookie == "" {
		if len(p.open) >= maxPagedSearches {
			return "", false
		}
		p.next++
		cookie = string(binary.BigEndian.AppendUint64(nil, p.next))
	}
	p.open[cookie] = ps
	return cookie, true
}

// pagingRequest is the value of a paged results request control.
type pagingRequest struct {
	size   int
	cookie string
}

func decodePaging(value []byte) (pagingRequest, error) {
	p, err := ber.DecodePacketErr(value)
	if err != nil || len(p.Children) != 2 {
		return pagingRequest{}, errorf(ProtocolError, "paged results control value: want SEQUENCE { size INTEGER, cookie OCTET STRING }")
	}
	size, ok := p.Children[0].Value.(int64)
	if !ok || size < 0 {
		return pagingRequest{}, errorf(ProtocolError, "paged results control: size must be a non-negative integer")
	}
	return pagingRequest{size: int(size), cookie: p.Children[1].Data.String()}, nil
}

// searchKey identifies a search request for the paging rule that every
// page repeats the same request.
func searchKey(baseNDN string, scope int64, filterBytes []byte, attrs []string, typesOnly bool) string {
	var b strings.Builder
	b.WriteString(baseNDN)
	b.WriteByte(0)
	b.WriteByte(byte(scope))
	b.Write(filterBytes)
	b.WriteByte(0)
	for _, a := range attrs {
		b.WriteString(strings.ToLower(a))
		b.WriteByte(0)
	}
	if typesOnly {
		b.WriteByte(1)
	}
	return b.String()
}
