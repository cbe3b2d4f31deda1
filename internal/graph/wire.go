package graph

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
)

// batchRequest is the body of POST /$batch (graph.md §5).
type batchRequest struct {
	Requests []batchItem `json:"requests"`
}

type batchItem struct {
	ID        string            `json:"id"`
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	Headers   map[string]string `json:"headers,omitempty"`
	Body      json.RawMessage   `json:"body,omitempty"`
	DependsOn []string          `json:"dependsOn,omitempty"`
}

type batchResponse struct {
	Responses []batchAnswer `json:"responses"`
}

type batchAnswer struct {
	ID      string            `json:"id"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body"`
}

// encodeBatch builds the $batch body for calls, which are grouped by unit
// and in dependency order. Ids are the calls' 1-based positions.
func encodeBatch(calls []*call) ([]byte, error) {
	ids := make(map[*call]string, len(calls))
	br := batchRequest{Requests: make([]batchItem, 0, len(calls))}
	for i, c := range calls {
		id := strconv.Itoa(i + 1)
		ids[c] = id
		it := batchItem{ID: id, Method: c.req.Method, URL: c.req.relativeURL(), Body: c.req.body}
		if len(c.req.Header) > 0 || len(c.req.body) > 0 {
			it.Headers = map[string]string{}
			for k := range c.req.Header {
				it.Headers[k] = c.req.Header.Get(k)
			}
			if len(c.req.body) > 0 {
				it.Headers["Content-Type"] = "application/json"
			}
		}
		if c.dep != nil {
			depID, ok := ids[c.dep]
			if !ok {
				return nil, fmt.Errorf("batch: request %d depends on a request outside the batch", i+1)
			}
			it.DependsOn = []string{depID}
		}
		br.Requests = append(br.Requests, it)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(br); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// decodeBatch matches a $batch answer to calls by id: answers come in any
// order (graph.md §5). A call with no answer maps to nil.
func decodeBatch(body []byte, calls []*call) ([]*batchAnswer, error) {
	var br batchResponse
	if err := json.Unmarshal(body, &br); err != nil {
		return nil, fmt.Errorf("decode $batch response: %w", err)
	}
	out := make([]*batchAnswer, len(calls))
	for i := range br.Responses {
		a := &br.Responses[i]
		n, err := strconv.Atoi(a.ID)
		if err != nil || n < 1 || n > len(calls) || out[n-1] != nil {
			return nil, fmt.Errorf("decode $batch response: unexpected id %q", a.ID)
		}
		out[n-1] = a
	}
	return out, nil
}

func (a *batchAnswer) header() http.Header {
	h := make(http.Header, len(a.Headers))
	for k, v := range a.Headers {
		h.Set(k, v)
	}
	return h
}

// body returns the inner body as JSON; Graph writes a 204 as "body": null.
func (a *batchAnswer) body() json.RawMessage {
	if len(a.Body) == 0 || string(a.Body) == "null" {
		return nil
	}
	return a.Body
}
