package graph

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"strings"
)

// CreateUserRequest is POST /users with every property in one request
// (graph.md §1.1). It is not idempotent: if its answer is lost the call
// fails with ErrOutcomeUnknown rather than risk a second user.
func CreateUserRequest(props Properties) *Request {
	r := NewRequest(http.MethodPost, "/users", map[string]any(props))
	r.Template = "/users"
	r.creates = true
	return r
}

// CreateUser creates a user and returns it as Graph answered (trust the
// write: no read-back).
func (c *Client) CreateUser(ctx context.Context, props Properties) (User, error) {
	var u User
	if err := c.doDecode(ctx, CreateUserRequest(props), &u); err != nil {
		return User{}, fmt.Errorf("create user: %w", err)
	}
	return u, nil
}

// GetUserRequest is GET /users/{id | userPrincipalName}.
func GetUserRequest(idOrUPN string, selectProps ...string) *Request {
	r := NewRequest(http.MethodGet, userPath(idOrUPN), nil)
	r.Template = "/users/{id}"
	r.refs = []string{idOrUPN}
	if len(selectProps) > 0 {
		r.Query = Query{Select: selectProps}.values()
	}
	return r
}

// GetUser reads a user by id or UPN. Without selectProps Graph returns its
// default set, which lacks accountEnabled, usageLocation,
// onPremisesImmutableId and assignedLicenses.
func (c *Client) GetUser(ctx context.Context, idOrUPN string, selectProps ...string) (User, error) {
	var u User
	if err := c.doDecode(ctx, GetUserRequest(idOrUPN, selectProps...), &u); err != nil {
		return User{}, fmt.Errorf("get user: %w", err)
	}
	return u, nil
}

// FindUserByImmutableID finds the user whose onPremisesImmutableId is id
// (the hard match of DESIGN.md); ErrNotFound if there is none.
func (c *Client) FindUserByImmutableID(ctx context.Context, immutableID string, selectProps ...string) (User, error) {
	return c.findUser(ctx, Eq("onPremisesImmutableId", immutableID), selectProps)
}

// FindUserByUPN finds a user by userPrincipalName through a filter rather
// than a path, so that a missing user is ErrNotFound and never taken for
// replication lag.
func (c *Client) FindUserByUPN(ctx context.Context, upn string, selectProps ...string) (User, error) {
	return c.findUser(ctx, Eq("userPrincipalName", upn), selectProps)
}

func (c *Client) findUser(ctx context.Context, filter string, selectProps []string) (User, error) {
	found, err := collect(c.ListUsers(ctx, Query{Filter: filter, Select: selectProps, Top: 2}))
	if err != nil {
		return User{}, fmt.Errorf("find user: %w", err)
	}
	switch len(found) {
	case 0:
		return User{}, fmt.Errorf("find user: %w", ErrNotFound)
	case 1:
		return found[0], nil
	}
	return User{}, fmt.Errorf("find user: %d users match %s", len(found), filterProperty(filter))
}

func filterProperty(filter string) string {
	if i := strings.IndexByte(filter, ' '); i > 0 {
		return filter[:i]
	}
	return "the filter"
}

// ListUsers walks GET /users page by page.
func (c *Client) ListUsers(ctx context.Context, q Query) iter.Seq2[User, error] {
	return list[User](ctx, c, listRequest("/users", "/users", q.withBigPages()))
}

// PatchUserRequest is PATCH /users/{id} with only the given properties.
func PatchUserRequest(id string, props Properties) *Request {
	r := NewRequest(http.MethodPatch, userPath(id), map[string]any(props))
	r.Template = "/users/{id}"
	r.refs = []string{id}
	return r
}

// PatchUser writes props to a user. An empty bag sends nothing: a write
// that changes nothing is not spent.
func (c *Client) PatchUser(ctx context.Context, id string, props Properties) error {
	if len(props) == 0 {
		return nil
	}
	if _, err := c.Do(ctx, PatchUserRequest(id, props)); err != nil {
		return fmt.Errorf("patch user %s: %w", id, err)
	}
	return nil
}

// DisableUserRequest is PATCH accountEnabled=false.
func DisableUserRequest(id string) *Request {
	return PatchUserRequest(id, Properties{"accountEnabled": false})
}

// DeleteUserRequest is DELETE /users/{id}: the user goes to deleted items
// for 30 days (graph.md §1.5).
func DeleteUserRequest(id string) *Request {
	r := NewRequest(http.MethodDelete, userPath(id), nil)
	r.Template = "/users/{id}"
	r.refs = []string{id}
	return r
}

// DeleteUser soft-deletes a user.
func (c *Client) DeleteUser(ctx context.Context, id string) error {
	if _, err := c.Do(ctx, DeleteUserRequest(id)); err != nil {
		return fmt.Errorf("delete user %s: %w", id, err)
	}
	return nil
}

// doDecode sends r and decodes its answer into v.
func (c *Client) doDecode(ctx context.Context, r *Request, v any) error {
	resp, err := c.Do(ctx, r)
	if err != nil {
		return err
	}
	if err := resp.Decode(v); err != nil {
		err = fmt.Errorf("%s %s answered %d: %w", r.Method, r.Template, resp.Status, err)
		if !r.idempotent {
			// It was applied, but what it made cannot be read.
			return outcomeUnknown(err)
		}
		return err
	}
	return nil
}
