package graph

import (
	"context"
	"fmt"
	"iter"
	"net/http"
)

// CreateGroupRequest is POST /groups (graph.md §4.1). Not idempotent.
func CreateGroupRequest(props Properties) *Request {
	r := NewRequest(http.MethodPost, "/groups", map[string]any(props))
	r.Template = "/groups"
	r.creates = true
	return r
}

// CreateGroup creates a group and returns it as Graph answered.
func (c *Client) CreateGroup(ctx context.Context, props Properties) (Group, error) {
	var g Group
	if err := c.doDecode(ctx, CreateGroupRequest(props), &g); err != nil {
		return Group{}, fmt.Errorf("create group: %w", err)
	}
	return g, nil
}

// GetGroupRequest is GET /groups/{id}.
func GetGroupRequest(id string, selectProps ...string) *Request {
	r := NewRequest(http.MethodGet, "/groups/"+segment(id), nil)
	r.Template = "/groups/{id}"
	r.refs = []string{id}
	if len(selectProps) > 0 {
		r.Query = Query{Select: selectProps}.values()
	}
	return r
}

// GetGroup reads a group by id.
func (c *Client) GetGroup(ctx context.Context, id string, selectProps ...string) (Group, error) {
	var g Group
	if err := c.doDecode(ctx, GetGroupRequest(id, selectProps...), &g); err != nil {
		return Group{}, fmt.Errorf("get group %s: %w", id, err)
	}
	return g, nil
}

// ListGroups walks GET /groups page by page.
func (c *Client) ListGroups(ctx context.Context, q Query) iter.Seq2[Group, error] {
	return list[Group](ctx, c, listRequest("/groups", "/groups", q.withBigPages()))
}

// PatchGroupRequest is PATCH /groups/{id} with only the given properties.
func PatchGroupRequest(id string, props Properties) *Request {
	r := NewRequest(http.MethodPatch, "/groups/"+segment(id), map[string]any(props))
	r.Template = "/groups/{id}"
	r.refs = []string{id}
	return r
}

// PatchGroup writes props to a group; an empty bag sends nothing.
func (c *Client) PatchGroup(ctx context.Context, id string, props Properties) error {
	if len(props) == 0 {
		return nil
	}
	if _, err := c.Do(ctx, PatchGroupRequest(id, props)); err != nil {
		return fmt.Errorf("patch group %s: %w", id, err)
	}
	return nil
}

// DeleteGroupRequest is DELETE /groups/{id}. Security groups are deleted
// for good; Microsoft 365 groups go to deleted items (graph.md §4.2).
func DeleteGroupRequest(id string) *Request {
	r := NewRequest(http.MethodDelete, "/groups/"+segment(id), nil)
	r.Template = "/groups/{id}"
	r.refs = []string{id}
	return r
}

// DeleteGroup deletes a group.
func (c *Client) DeleteGroup(ctx context.Context, id string) error {
	if _, err := c.Do(ctx, DeleteGroupRequest(id)); err != nil {
		return fmt.Errorf("delete group %s: %w", id, err)
	}
	return nil
}
