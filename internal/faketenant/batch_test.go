package faketenant

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
)

type batchResp struct {
	ID      string            `json:"id"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body"`
}

func (f *fixture) batch(reqs ...map[string]any) (resp, map[string]batchResp, []string) {
	f.t.Helper()
	r := f.call(http.MethodPost, "/v1.0/$batch", map[string]any{"requests": reqs})
	var env struct {
		Responses []batchResp `json:"responses"`
	}
	_ = json.Unmarshal(r.raw, &env)
	byID := map[string]batchResp{}
	var order []string
	for _, br := range env.Responses {
		byID[br.ID] = br
		order = append(order, br.ID)
	}
	return r, byID, order
}

func breq(id, method, url string, body any, dependsOn ...string) map[string]any {
	m := map[string]any{"id": id, "method": method, "url": url}
	if body != nil {
		m["body"] = body
		m["headers"] = map[string]string{"Content-Type": "application/json"}
	}
	if len(dependsOn) > 0 {
		m["dependsOn"] = dependsOn
	}
	return m
}

func TestBatch(t *testing.T) {
	f := newFixture(t)

	t.Run("graph.md §5: more than 20 requests is a 400 for the whole batch", func(t *testing.T) {
		var reqs []map[string]any
		for i := 0; i < 21; i++ {
			reqs = append(reqs, breq(fmt.Sprint(i), "GET", "/users", nil))
		}
		r, _, _ := f.batch(reqs...)
		want(t, r, http.StatusBadRequest)
	})

	t.Run("graph.md §5: dependsOn runs requests in order; a 204 has body null", func(t *testing.T) {
		r, by, _ := f.batch(
			breq("1", "POST", "/users", newUserBody("batch1")),
			breq("2", "PATCH", "/users/batch1@contoso.com", map[string]any{"jobTitle": "Batched"}, "1"),
			breq("3", "GET", "users/batch1@contoso.com?$select=jobTitle", nil, "2"),
		)
		want(t, r, http.StatusOK)
		if by["1"].Status != 201 || by["2"].Status != 204 || string(by["2"].Body) != "null" || by["3"].Status != 200 {
			t.Fatalf("%s", r.raw)
		}
		var u map[string]any
		_ = json.Unmarshal(by["3"].Body, &u)
		if u["jobTitle"] != "Batched" {
			t.Fatalf("GET after PATCH saw %v", u)
		}
		if by["1"].Headers["x-ms-resource-unit"] == "" {
			t.Fatalf("inner headers %v", by["1"].Headers)
		}
	})

	t.Run("graph.md §5: a failed dependency gives 424 down the chain, the outer status stays 200", func(t *testing.T) {
		bad := newUserBody("batch2")
		delete(bad, "displayName")
		r, by, _ := f.batch(
			breq("a", "POST", "/users", bad),
			breq("b", "PATCH", "/users/batch2@contoso.com", map[string]any{"jobTitle": "x"}, "a"),
			breq("c", "GET", "/users/batch2@contoso.com", nil, "b"),
			breq("d", "GET", "/users?$top=1", nil),
		)
		want(t, r, http.StatusOK)
		if by["a"].Status != 400 || by["b"].Status != 424 || by["c"].Status != 424 || by["d"].Status != 200 {
			t.Fatalf("statuses a=%d b=%d c=%d d=%d", by["a"].Status, by["b"].Status, by["c"].Status, by["d"].Status)
		}
	})

	t.Run("graph.md §5: responses come back in an order that is not the request order", func(t *testing.T) {
		var reqs []map[string]any
		for i := 1; i <= 20; i++ {
			reqs = append(reqs, breq(fmt.Sprint(i), "GET", "/users?$top=1", nil))
		}
		_, by, order := f.batch(reqs...)
		inOrder := true
		for i, id := range order {
			if id != fmt.Sprint(i+1) {
				inOrder = false
			}
		}
		if len(by) != 20 || inOrder {
			t.Fatalf("order %v", order)
		}
	})

	malformed := []struct {
		name string
		reqs []map[string]any
	}{
		{"graph.md §5: a body without Content-Type is refused", []map[string]any{{"id": "1", "method": "POST", "url": "/users", "body": map[string]any{}}}},
		{"graph.md §5: ids must be unique", []map[string]any{breq("1", "GET", "/users", nil), breq("1", "GET", "/users", nil)}},
		{"graph.md §5: id, method and url are required", []map[string]any{{"id": "1", "method": "GET"}}},
		{"dependsOn must name a request of the batch", []map[string]any{breq("1", "GET", "/users", nil, "9")}},
		{"a dependency cycle is refused", []map[string]any{breq("1", "GET", "/users", nil, "2"), breq("2", "GET", "/users", nil, "1")}},
	}
	for _, tc := range malformed {
		t.Run(tc.name, func(t *testing.T) {
			r, _, _ := f.batch(tc.reqs...)
			want(t, r, http.StatusBadRequest)
		})
	}

	t.Run("graph.md §5: no nested batches", func(t *testing.T) {
		_, by, _ := f.batch(breq("1", "POST", "/$batch", map[string]any{"requests": []any{}}))
		if by["1"].Status != 400 {
			t.Fatalf("nested batch %d", by["1"].Status)
		}
	})

	t.Run("each inner request is counted under its own path", func(t *testing.T) {
		before := f.tenant.Counters().Count(http.MethodGet, "/v1.0/users/{id}", 200)
		f.batch(breq("1", "GET", "/users/batch1@contoso.com", nil), breq("2", "GET", "/users/batch1@contoso.com", nil))
		if got := f.tenant.Counters().Count(http.MethodGet, "/v1.0/users/{id}", 200); got != before+2 {
			t.Fatalf("count %d, want %d", got, before+2)
		}
	})
}
