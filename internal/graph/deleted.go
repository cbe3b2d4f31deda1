package graph

import (
	"context"
	"fmt"
	"iter"
	"net/http"
)

// Deleted-item kinds: the type cast Graph requires on
// /directory/deletedItems (graph.md §1.5).
const (
	DeletedUsers  = "microsoft.graph.user"
	DeletedGroups = "microsoft.graph.group"
)

// ListDeleted walks soft-deleted users or groups (kind DeletedUsers or
// DeletedGroups).
func (c *Client) ListDeleted(ctx context.Context, kind string, q Query) iter.Seq2[DeletedItem, error] {
	path := "/directory/deletedItems/" + kind
	return list[DeletedItem](ctx, c, listRequest(path, path, q))
}

// FindDeletedUserByImmutableID finds a soft-deleted user by
// onPremisesImmutableId; ErrNotFound if none.
func (c *Client) FindDeletedUserByImmutableID(ctx context.Context, immutableID string) (DeletedItem, error) {
	return c.findDeleted(ctx, Query{Filter: Eq("onPremisesImmutableId", immutableID)})
}

// FindDeletedUserByUPN finds a soft-deleted user by userPrincipalName;
// ErrNotFound if none.
func (c *Client) FindDeletedUserByUPN(ctx context.Context, upn string) (DeletedItem, error) {
	return c.findDeleted(ctx, Query{Filter: Eq("userPrincipalName", upn)})
}

func (c *Client) findDeleted(ctx context.Context, q Query) (DeletedItem, error) {
	q.Select = []string{"id", "userPrincipalName", "displayName", "mail", "onPremisesImmutableId", "deletedDateTime"}
	found, err := collect(c.ListDeleted(ctx, DeletedUsers, q))
	if err != nil {
		return DeletedItem{}, fmt.Errorf("find deleted user: %w", err)
	}
	switch len(found) {
	case 0:
		return DeletedItem{}, fmt.Errorf("find deleted user: %w", ErrNotFound)
	case 1:
		return found[0], nil
	}
	// Deleted twice over: the most recent deletion is the one to restore.
	best := found[0]
	for _, d := range found[1:] {
		if d.DeletedDateTime != nil && (best.DeletedDateTime == nil || d.DeletedDateTime.After(*best.DeletedDateTime)) {
			best = d
		}
	}
	return best, nil
}

// RestoreRequest is POST /directory/deletedItems/{id}/restore. Not
// idempotent: a lost answer is an unknown outcome (a second restore of a
// restored object fails).
func RestoreRequest(id string) *Request {
	r := NewRequest(http.MethodPost, "/directory/deletedItems/"+segment(id)+"/restore", nil)
	r.Template = "/directory/deletedItems/{id}/restore"
	r.refs = []string{id}
	r.creates = true // the restored object replicates like a new one
	return r
}

// Restore brings back a soft-deleted user or group and returns it.
func (c *Client) Restore(ctx context.Context, id string) (DirectoryObject, error) {
	var o DirectoryObject
	if err := c.doDecode(ctx, RestoreRequest(id), &o); err != nil {
		return DirectoryObject{}, fmt.Errorf("restore %s: %w", id, err)
	}
	return o, nil
}

// PurgeRequest is DELETE /directory/deletedItems/{id}: gone for good.
func PurgeRequest(id string) *Request {
	r := NewRequest(http.MethodDelete, "/directory/deletedItems/"+segment(id), nil)
	r.Template = "/directory/deletedItems/{id}"
	r.refs = []string{id}
	return r
}

// Purge deletes a soft-deleted object permanently.
func (c *Client) Purge(ctx context.Context, id string) error {
	if _, err := c.Do(ctx, PurgeRequest(id)); err != nil {
		return fmt.Errorf("purge %s: %w", id, err)
	}
	return nil
}
