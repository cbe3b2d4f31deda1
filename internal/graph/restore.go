package graph

import (
	"context"
	"fmt"
	"net/http"
)

// RestoreOptions resolve what stands in the way of restoring a user another
// user has since taken values from (docs/graph.md §14): Entra lets an
// active user take a soft-deleted user's userPrincipalName and addresses.
type RestoreOptions struct {
	// NewUserPrincipalName restores the user under this UPN instead of the
	// one it had.
	NewUserPrincipalName string `json:"newUserPrincipalName,omitempty"`
	// AutoReconcileProxyConflict drops from the restored user the proxy
	// addresses another object now holds.
	AutoReconcileProxyConflict bool `json:"autoReconcileProxyConflict,omitempty"`
}

// RestoreWithOptionsRequest is POST /directory/deletedItems/{id}/restore
// with a body of options; like RestoreRequest it is not idempotent.
func RestoreWithOptionsRequest(id string, o RestoreOptions) *Request {
	r := NewRequest(http.MethodPost, "/directory/deletedItems/"+segment(id)+"/restore", o)
	r.Template = "/directory/deletedItems/{id}/restore"
	r.refs = []string{id}
	r.creates = true
	return r
}

// RestoreWithOptions brings back a soft-deleted user under the given
// options and returns it.
func (c *Client) RestoreWithOptions(ctx context.Context, id string, o RestoreOptions) (DirectoryObject, error) {
	var obj DirectoryObject
	if err := c.doDecode(ctx, RestoreWithOptionsRequest(id, o), &obj); err != nil {
		return DirectoryObject{}, fmt.Errorf("restore %s with options: %w", id, err)
	}
	return obj, nil
}
