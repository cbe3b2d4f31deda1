package graph

import (
	"context"
	"fmt"
	"net/http"
)

// noManager tells "this user has no manager" from "no such user": Graph
// answers both with 404 Request_ResourceNotFound, naming 'manager' in the
// first (graph.md §2).
func noManager(e *Error) bool {
	return e.Status == http.StatusNotFound && messageContains(e, "'manager'")
}

// GetManagerRequest is GET /users/{id}/manager.
func GetManagerRequest(userID string) *Request {
	r := NewRequest(http.MethodGet, userPath(userID)+"/manager", nil)
	r.Template = "/users/{id}/manager"
	r.Query = Query{Select: []string{"id", "displayName", "userPrincipalName", "mail"}}.values()
	r.refs = []string{userID}
	r.notLag = noManager
	return r
}

// GetManager returns a user's manager, or nil if none is set.
func (c *Client) GetManager(ctx context.Context, userID string) (*DirectoryObject, error) {
	resp, err := c.Do(ctx, GetManagerRequest(userID))
	if err != nil {
		if e, ok := asError(err); ok && noManager(e) {
			return nil, nil
		}
		return nil, fmt.Errorf("get manager of %s: %w", userID, err)
	}
	var m DirectoryObject
	if err := resp.Decode(&m); err != nil {
		return nil, fmt.Errorf("get manager of %s: %w", userID, err)
	}
	return &m, nil
}

// SetManagerRequest is PUT /users/{id}/manager/$ref.
func (c *Client) SetManagerRequest(userID, managerID string) *Request {
	r := NewRequest(http.MethodPut, userPath(userID)+"/manager/$ref",
		map[string]string{"@odata.id": c.base + "/users/" + segment(managerID)})
	r.Template = "/users/{id}/manager/$ref"
	r.refs = []string{userID, managerID}
	return r
}

// SetManager sets (or replaces) a user's manager.
func (c *Client) SetManager(ctx context.Context, userID, managerID string) error {
	if _, err := c.Do(ctx, c.SetManagerRequest(userID, managerID)); err != nil {
		return fmt.Errorf("set manager of %s: %w", userID, err)
	}
	return nil
}

// RemoveManagerRequest is DELETE /users/{id}/manager/$ref. A user without
// a manager already is as asked: success.
func RemoveManagerRequest(userID string) *Request {
	r := NewRequest(http.MethodDelete, userPath(userID)+"/manager/$ref", nil)
	r.Template = "/users/{id}/manager/$ref"
	r.refs = []string{userID}
	r.accept = noManager
	r.notLag = noManager
	return r
}

// RemoveManager removes a user's manager; none set is success.
func (c *Client) RemoveManager(ctx context.Context, userID string) error {
	if _, err := c.Do(ctx, RemoveManagerRequest(userID)); err != nil {
		return fmt.Errorf("remove manager of %s: %w", userID, err)
	}
	return nil
}
