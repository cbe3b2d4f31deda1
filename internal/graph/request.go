package graph

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Request is one Graph call, ready to be sent alone or inside a $batch. Build
// it with the constructors (CreateUserRequest, PatchUserRequest,
// AssignLicenseRequest, …), which also record what makes the call safe to
// retry and which failures mean "already done"; or with NewRequest for a call
// the package does not model.
type Request struct {
	Method string
	// Path is relative to the version root and already escaped:
	// "/users/0d0c…/manager/$ref".
	Path  string
	Query url.Values
	// Header holds per-request headers such as ConsistencyLevel.
	Header http.Header
	// Template is Path with ids and names replaced by placeholders, used in
	// logs, errors and metric labels.
	Template string

	body    json.RawMessage
	bodyErr error

	// idempotent requests may be resent after an unknown outcome.
	idempotent bool
	// accept turns some error answers into success: the state the request
	// asks for already holds (duplicate member add, missing member remove).
	accept func(*Error) bool
	// refs are the object ids (and UPNs) the request names; a 404 right
	// after this client created one of them is replication lag.
	refs []string
	// notLag rules a 404 out as replication lag (GET manager when no
	// manager is set names the user, who exists).
	notLag func(*Error) bool
	// creates marks requests whose answer carries a new object's id.
	creates bool
	// rawURL is an absolute URL (an @odata.nextLink); such a request is
	// never batched.
	rawURL string
}

// NewRequest builds a request for path (relative to /v1.0, escaped). body
// is marshalled to JSON now, so a bad body fails before anything is queued;
// nil sends no body. GET, PUT, PATCH and DELETE are treated as idempotent,
// POST is not.
func NewRequest(method, path string, body any) *Request {
	r := &Request{
		Method:     method,
		Path:       path,
		Template:   templateOf(path),
		idempotent: method != http.MethodPost,
	}
	if body != nil {
		r.setBody(body)
	}
	return r
}

func (r *Request) setBody(body any) {
	if raw, ok := body.(json.RawMessage); ok {
		r.body = raw
		return
	}
	r.body, r.bodyErr = json.Marshal(body)
}

// WithHeader returns r with a per-request header set.
func (r *Request) WithHeader(key, value string) *Request {
	if r.Header == nil {
		r.Header = http.Header{}
	}
	r.Header.Set(key, value)
	return r
}

// Body returns the JSON body, nil if none.
func (r *Request) Body() json.RawMessage { return r.body }

// batchable reports whether r may travel inside a $batch.
func (r *Request) batchable() bool { return r.rawURL == "" }

// relativeURL is the path and query as a $batch "url" and as the tail of a
// direct request's URL.
func (r *Request) relativeURL() string {
	if len(r.Query) == 0 {
		return r.Path
	}
	return r.Path + "?" + encodeQuery(r.Query)
}

// Response is Graph's answer to one request.
type Response struct {
	Status int
	Header http.Header
	// Body is the raw JSON answer; empty for 204.
	Body json.RawMessage
	// RequestID is Graph's request-id: for a request sent inside a
	// $batch, whose answer has none of its own, the $batch's.
	RequestID string
	// ResourceUnits is x-ms-resource-unit: what the request cost.
	ResourceUnits int
}

// Decode unmarshals the body into v.
func (r *Response) Decode(v any) error {
	if r == nil || len(r.Body) == 0 || string(r.Body) == "null" {
		return fmt.Errorf("decode %T: empty response body", v)
	}
	if err := json.Unmarshal(r.Body, v); err != nil {
		return fmt.Errorf("decode %T: %w", v, err)
	}
	return nil
}

// encodeQuery encodes OData query options: keys keep their $ and spaces
// become %20 (OData servers differ on '+'), so a base64 immutableId's '+'
// and '/' survive as %2B and %2F.
func encodeQuery(q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		for _, v := range q[k] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(strings.ReplaceAll(queryEscape(k), "%24", "$"))
			b.WriteByte('=')
			b.WriteString(queryEscape(v))
		}
	}
	return b.String()
}

func queryEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// quote makes an OData string literal: single quotes doubled.
func quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// Eq is the OData filter "property eq 'value'" with value quoted.
func Eq(property, value string) string {
	return property + " eq " + quote(value)
}

// segment escapes one path segment (an id, a UPN, a domain name). A '#' in
// a B2B UPN becomes %23 (graph.md §1.2).
func segment(s string) string {
	return url.PathEscape(s)
}

// userPath addresses a user by id or UPN. A UPN starting with '$' must use
// the key form /users('$x@y') or Graph reads it as a system query option
// (graph.md §1.2).
func userPath(idOrUPN string) string {
	if strings.HasPrefix(idOrUPN, "$") {
		return "/users('" + url.PathEscape(strings.ReplaceAll(idOrUPN, "'", "''")) + "')"
	}
	return "/users/" + segment(idOrUPN)
}

// templateOf replaces the parts of a path that name an object (GUIDs, UPNs,
// domains, key forms) with placeholders, so metric labels and logs carry no
// identifiers. Constructors set precise templates; this is the fallback for
// NewRequest.
func templateOf(path string) string {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if i == 0 || p == "" || strings.HasPrefix(p, "$") || strings.HasPrefix(p, "microsoft.graph.") {
			continue
		}
		if looksLikeName(p) {
			parts[i] = "{id}"
		}
		if j := strings.IndexByte(p, '('); j > 0 {
			parts[i] = p[:j] + "({id})"
		}
	}
	return strings.Join(parts, "/")
}

// looksLikeName reports whether a path segment is an identifier rather than
// a fixed word of the API: it has a digit, '@', '.', '%' or a dash.
func looksLikeName(p string) bool {
	return strings.ContainsAny(p, "@.%-0123456789")
}

// resourceUnitsOf reads x-ms-resource-unit; 0 when absent.
func resourceUnitsOf(h http.Header) int {
	if h == nil {
		return 0
	}
	n, err := strconv.Atoi(strings.TrimSpace(h.Get("x-ms-resource-unit")))
	if err != nil || n < 0 {
		return 0
	}
	return n
}
