package graph

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Query holds OData options for a collection read.
type Query struct {
	Filter  string
	Select  []string
	OrderBy string
	Search  string
	// Top is the page size, 1 to 999 (graph.md §1.3). 0 asks users, groups
	// and members for 999 a page, since a page costs the same resource units
	// whatever its size, and leaves other collections at Graph's default.
	Top int
	// Advanced asks for an advanced query: ConsistencyLevel: eventual and
	// $count=true, needed for endsWith, ne, NOT, $search, $filter with
	// $orderby (graph.md §1.3, §7). The header is sent again on every page.
	Advanced bool
}

func (q Query) values() url.Values {
	v := url.Values{}
	if q.Filter != "" {
		v.Set("$filter", q.Filter)
	}
	if len(q.Select) > 0 {
		v.Set("$select", strings.Join(q.Select, ","))
	}
	if q.OrderBy != "" {
		v.Set("$orderby", q.OrderBy)
	}
	if q.Search != "" {
		v.Set("$search", q.Search)
	}
	if q.Top > 0 {
		v.Set("$top", strconv.Itoa(q.Top))
	}
	if q.Advanced {
		v.Set("$count", "true")
	}
	return v
}

// maxPage is the largest $top Graph accepts.
const maxPage = 999

// withBigPages sets Top to the largest page unless the caller chose one.
func (q Query) withBigPages() Query {
	if q.Top == 0 {
		q.Top = maxPage
	}
	return q
}

// listRequest builds the first-page request of a collection.
func listRequest(path, template string, q Query) *Request {
	r := NewRequest(http.MethodGet, path, nil)
	r.Template = template
	r.Query = q.values()
	if q.Advanced {
		r.WithHeader("ConsistencyLevel", "eventual")
	}
	return r
}

// page is one page of a collection.
type page[T any] struct {
	Value    []T    `json:"value"`
	NextLink string `json:"@odata.nextLink"`
}

// list walks every page of a collection, following @odata.nextLink whole
// (graph.md §1.3) with the first request's headers, and yields each item.
// A failure ends the walk with one (zero, err) pair.
func list[T any](ctx context.Context, c *Client, first *Request) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		req := first
		for req != nil {
			resp, err := c.Do(ctx, req)
			if err != nil {
				yield(zero, fmt.Errorf("list %s: %w", first.Template, err))
				return
			}
			var p page[T]
			if err := resp.Decode(&p); err != nil {
				yield(zero, fmt.Errorf("list %s: %w", first.Template, err))
				return
			}
			for _, item := range p.Value {
				if !yield(item, nil) {
					return
				}
			}
			req = nil
			if p.NextLink != "" {
				if req, err = c.nextPage(first, p.NextLink); err != nil {
					yield(zero, fmt.Errorf("list %s: %w", first.Template, err))
					return
				}
			}
		}
	}
}

// nextPage builds the request for a nextLink. The link must point at the
// configured Graph endpoint: the client will not send its bearer token to
// any other host a response names.
func (c *Client) nextPage(first *Request, link string) (*Request, error) {
	u, err := url.Parse(link)
	if err != nil {
		return nil, fmt.Errorf("bad @odata.nextLink: %w", err)
	}
	base, err := url.Parse(c.base)
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(u.Scheme, base.Scheme) || !strings.EqualFold(u.Host, base.Host) {
		return nil, fmt.Errorf("@odata.nextLink points to %s://%s, not to the configured graphURL", u.Scheme, u.Host)
	}
	return &Request{
		Method: http.MethodGet, Template: first.Template, Header: first.Header,
		idempotent: true, rawURL: link,
	}, nil
}

// collect gathers a whole collection into a slice.
func collect[T any](seq iter.Seq2[T, error]) ([]T, error) {
	var out []T
	for v, err := range seq {
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}
