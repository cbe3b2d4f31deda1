package faketenant

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// odataJSON is the Content-Type Graph puts on JSON responses (graph.md §11).
const odataJSON = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"

// gresp is one Graph response before it is written, so the same handler
// output can go on the wire or into a $batch envelope.
type gresp struct {
	status int
	header http.Header
	body   any    // JSON value; nil means no body
	text   string // text/plain body ($count)
	isText bool
}

func jsonResp(status int, body any) *gresp {
	return &gresp{status: status, header: http.Header{}, body: body}
}

func noContent() *gresp { return &gresp{status: http.StatusNoContent, header: http.Header{}} }

func textResp(s string) *gresp {
	return &gresp{status: http.StatusOK, header: http.Header{}, text: s, isText: true}
}

// reqCtx is one Graph request being served, on the wire or inside a batch.
type reqCtx struct {
	t               *Tenant
	method          string
	path            string // after /v1.0, e.g. /users/abc
	query           url.Values
	rawQuery        string
	header          http.Header
	body            []byte
	requestID       string
	clientRequestID string
	base            string // scheme://host of the request, for absolute links
	app             *registeredApp
	route           *route
	params          []string
	inBatch         bool
}

func (rc *reqCtx) param(i int) string {
	if i < len(rc.params) {
		return rc.params[i]
	}
	return ""
}

// graphURL makes an absolute URL on the server's own host.
func (rc *reqCtx) graphURL(path string) string { return rc.base + "/v1.0" + path }

func (rc *reqCtx) context(fragment string) string { return rc.graphURL("/$metadata#" + fragment) }

// eventual reports whether the request carries ConsistencyLevel: eventual.
func (rc *reqCtx) eventual() bool {
	return strings.EqualFold(strings.TrimSpace(rc.header.Get("ConsistencyLevel")), "eventual")
}

type errDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Target  string `json:"target,omitempty"`
}

// fail builds the error envelope of graph.md §11.
func (rc *reqCtx) fail(status int, code, message string, details ...errDetail) *gresp {
	inner := jsonObject{
		{"date", rc.t.wall.Now().UTC().Format("2006-01-02T15:04:05")},
		{"request-id", rc.requestID},
		{"client-request-id", rc.clientRequestID},
	}
	e := jsonObject{{"code", code}, {"message", message}}
	if len(details) > 0 {
		e = append(e, kv{"details", details})
	}
	e = append(e, kv{"innerError", inner})
	return jsonResp(status, jsonObject{{"error", e}})
}

func (rc *reqCtx) badRequest(msg string, details ...errDetail) *gresp {
	return rc.fail(http.StatusBadRequest, "Request_BadRequest", msg, details...)
}

// notFound is the 404 of graph.md §1.2 and §7.
func (rc *reqCtx) notFound(key string) *gresp {
	return rc.fail(http.StatusNotFound, "Request_ResourceNotFound",
		fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", key))
}

func (rc *reqCtx) unsupportedQuery(msg string) *gresp {
	return rc.fail(http.StatusBadRequest, "Request_UnsupportedQuery", msg)
}

func (rc *reqCtx) denied() *gresp {
	return rc.fail(http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
}

// conflictResp is graph.md §1.1's duplicate-value error: 400, not 409.
func (rc *reqCtx) conflictResp(prop string) *gresp {
	msg := fmt.Sprintf("Another object with the same value for property %s already exists.", prop)
	details := []errDetail{{Code: "ObjectConflict", Message: msg, Target: prop}}
	if prop == "proxyAddresses" {
		details = append(details, errDetail{Code: "ConflictingObjects", Message: msg, Target: "ConflictingObjects"})
	}
	return rc.badRequest(msg, details...)
}

// decodeBody reads a JSON object body.
func (rc *reqCtx) decodeBody() (map[string]any, *gresp) {
	var m map[string]any
	if len(strings.TrimSpace(string(rc.body))) == 0 {
		return map[string]any{}, nil
	}
	if err := json.Unmarshal(rc.body, &m); err != nil || m == nil {
		return nil, rc.fail(http.StatusBadRequest, "BadRequest",
			"Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.")
	}
	return m, nil
}

// writeGraph puts a response on the wire with Graph's headers.
func writeGraph(w http.ResponseWriter, rc *reqCtx, resp *gresp) {
	h := w.Header()
	for k, vs := range resp.header {
		h[k] = vs
	}
	h.Set("request-id", rc.requestID)
	h.Set("client-request-id", rc.clientRequestID)
	switch {
	case resp.isText:
		h.Set("Content-Type", "text/plain;charset=utf-8")
		w.WriteHeader(resp.status)
		_, _ = w.Write([]byte(resp.text))
	case resp.body == nil:
		w.WriteHeader(resp.status)
	default:
		data, err := marshalNoEscape(resp.body)
		if err != nil {
			http.Error(w, "encode response: "+err.Error(), http.StatusInternalServerError)
			return
		}
		h.Set("Content-Type", odataJSON)
		w.WriteHeader(resp.status)
		_, _ = w.Write(data)
	}
}

// formatSeconds renders a wait for Retry-After: seconds, fractional when
// needed (graph.md §6.1), never zero.
func formatSeconds(d time.Duration) string {
	ms := (d + time.Millisecond - 1) / time.Millisecond
	if ms < 1 {
		ms = 1
	}
	return strconv.FormatFloat(float64(ms)/1000, 'f', -1, 64)
}
