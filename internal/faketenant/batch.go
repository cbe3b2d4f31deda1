package faketenant

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// maxBatch is graph.md §5's limit of requests per $batch.
const maxBatch = 20

type batchRequest struct {
	ID        string            `json:"id"`
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	Headers   map[string]string `json:"headers"`
	Body      json.RawMessage   `json:"body"`
	DependsOn []string          `json:"dependsOn"`
}

// serveBatch is POST /$batch (graph.md §5): at most 20 requests, each
// authorized and throttled on its own, dependents of a failed request
// answered 424, responses in a shuffled order, and an outer 200 even when
// inner requests fail or are throttled.
func (t *Tenant) serveBatch(rc *reqCtx) *gresp {
	if rc.inBatch {
		return rc.fail(http.StatusBadRequest, "BadRequest", "Nested batch requests are not supported.")
	}
	reqs, bad := parseBatch(rc)
	if bad != nil {
		return bad
	}
	order, bad := batchOrder(rc, reqs)
	if bad != nil {
		return bad
	}
	status := map[string]int{}
	responses := make([]jsonObject, 0, len(reqs))
	for _, i := range order {
		br := reqs[i]
		resp := t.runInner(rc, br, status)
		status[br.ID] = resp.status
		responses = append(responses, innerJSON(br.ID, resp))
	}
	t.rng.shuffle(len(responses), func(i, j int) { responses[i], responses[j] = responses[j], responses[i] })
	return jsonResp(http.StatusOK, jsonObject{{"responses", responses}})
}

func parseBatch(rc *reqCtx) ([]batchRequest, *gresp) {
	var env struct {
		Requests []batchRequest `json:"requests"`
	}
	if err := json.Unmarshal(rc.body, &env); err != nil {
		return nil, rc.fail(http.StatusBadRequest, "BadRequest", "Invalid batch payload format.")
	}
	switch {
	case env.Requests == nil:
		return nil, rc.fail(http.StatusBadRequest, "BadRequest", "Invalid batch payload format: the 'requests' property is required.")
	case len(env.Requests) > maxBatch:
		return nil, rc.fail(http.StatusBadRequest, "BadRequest", fmt.Sprintf("Number of batch requests (%d) exceeds the limit of %d.", len(env.Requests), maxBatch))
	}
	seen := map[string]bool{}
	for _, r := range env.Requests {
		switch {
		case r.ID == "" || r.Method == "" || r.URL == "":
			return nil, rc.fail(http.StatusBadRequest, "BadRequest", "Each batch request requires an 'id', a 'method' and a 'url'.")
		case seen[r.ID]:
			return nil, rc.fail(http.StatusBadRequest, "BadRequest", fmt.Sprintf("Batch request id '%s' is not unique.", r.ID))
		case len(r.Body) > 0 && string(r.Body) != "null" && headerValue(r.Headers, "Content-Type") == "":
			return nil, rc.fail(http.StatusBadRequest, "BadRequest", fmt.Sprintf("Batch request '%s' has a body but no Content-Type header.", r.ID))
		}
		seen[r.ID] = true
	}
	return env.Requests, nil
}

func headerValue(h map[string]string, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// batchOrder runs requests in the order given, each after the requests it
// depends on; unknown ids and cycles make the batch malformed.
func batchOrder(rc *reqCtx, reqs []batchRequest) ([]int, *gresp) {
	idx := map[string]int{}
	for i, r := range reqs {
		idx[r.ID] = i
	}
	for _, r := range reqs {
		for _, d := range r.DependsOn {
			if _, ok := idx[d]; !ok {
				return nil, rc.fail(http.StatusBadRequest, "BadRequest", fmt.Sprintf("Batch request '%s' depends on unknown request '%s'.", r.ID, d))
			}
		}
	}
	state := make([]int, len(reqs)) // 0 new, 1 visiting, 2 done
	var order []int
	var visit func(i int) bool
	visit = func(i int) bool {
		switch state[i] {
		case 1:
			return false
		case 2:
			return true
		}
		state[i] = 1
		for _, d := range reqs[i].DependsOn {
			if !visit(idx[d]) {
				return false
			}
		}
		state[i] = 2
		order = append(order, i)
		return true
	}
	for i := range reqs {
		if !visit(i) {
			return nil, rc.fail(http.StatusBadRequest, "BadRequest", "The dependsOn graph of the batch contains a cycle.")
		}
	}
	return order, nil
}

// runInner serves one request of a batch through the normal pipeline.
func (t *Tenant) runInner(outer *reqCtx, br batchRequest, status map[string]int) *gresp {
	inner := &reqCtx{t: t, method: strings.ToUpper(br.Method), base: outer.base, app: outer.app, inBatch: true,
		requestID: t.ids.guid(), header: http.Header{}}
	for k, v := range br.Headers {
		inner.header.Set(k, v)
	}
	inner.clientRequestID = inner.header.Get("client-request-id")
	if inner.clientRequestID == "" {
		inner.clientRequestID = inner.requestID
	}
	for _, d := range br.DependsOn {
		if status[d] >= 400 {
			return inner.fail(http.StatusFailedDependency, "FailedDependency", fmt.Sprintf("The request depends on request '%s', which failed.", d))
		}
	}
	path, rawQuery, ok := innerURL(outer, br.URL)
	if !ok {
		return inner.fail(http.StatusBadRequest, "BadRequest", "Invalid request URL '"+br.URL+"'.")
	}
	inner.path, inner.rawQuery = path, rawQuery
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return inner.fail(http.StatusBadRequest, "BadRequest", "Invalid query string in '"+br.URL+"'.")
	}
	inner.query = q
	if len(br.Body) > 0 && string(br.Body) != "null" {
		inner.body = br.Body
	}
	return t.handleGraph(inner)
}

// innerURL accepts a URL relative to /v1.0 ("/users/x", "users?$top=5") or
// an absolute one on this server.
func innerURL(outer *reqCtx, raw string) (string, string, bool) {
	if strings.HasPrefix(raw, "http://") || strings.HasPrefix(raw, "https://") {
		u, err := url.Parse(raw)
		if err != nil {
			return "", "", false
		}
		raw = strings.TrimPrefix(u.EscapedPath(), "/v1.0")
		if u.RawQuery != "" {
			raw += "?" + u.RawQuery
		}
	}
	path, query, _ := strings.Cut(raw, "?")
	path = "/" + strings.TrimPrefix(strings.TrimPrefix(path, "/"), "v1.0/")
	return path, query, true
}

// innerJSON is one entry of "responses"; a 204 has "body": null
// (graph.md §5).
func innerJSON(id string, resp *gresp) jsonObject {
	// Graph writes its own headers in lower case (x-ms-resource-unit) and
	// the standard ones canonically (Retry-After).
	names := make([]string, 0, len(resp.header))
	for k := range resp.header {
		names = append(names, k)
	}
	slices.Sort(names)
	headers := jsonObject{}
	for _, k := range names {
		name := k
		if strings.HasPrefix(strings.ToLower(k), "x-ms-") {
			name = strings.ToLower(k)
		}
		headers = append(headers, kv{name, resp.header.Get(k)})
	}
	var body any
	switch {
	case resp.isText:
		headers = append(headers, kv{"Content-Type", "text/plain"})
		body = resp.text
	case resp.body != nil:
		headers = append(headers, kv{"Content-Type", odataJSON})
		body = resp.body
	}
	return jsonObject{{"id", id}, {"status", resp.status}, {"headers", headers}, {"body", body}}
}
