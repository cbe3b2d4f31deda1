package graph

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"slices"
)

// ListMembers walks a group's direct members, 999 a page (Graph's default
// is 100, graph.md §4.3). selectProps defaults to id; @odata.type always
// comes.
func (c *Client) ListMembers(ctx context.Context, groupID string, selectProps ...string) iter.Seq2[DirectoryObject, error] {
	if len(selectProps) == 0 {
		selectProps = []string{"id"}
	}
	r := listRequest("/groups/"+segment(groupID)+"/members", "/groups/{id}/members", Query{Select: selectProps}.withBigPages())
	r.refs = []string{groupID}
	return list[DirectoryObject](ctx, c, r)
}

// objectRef is the @odata.id of a directory object.
func (c *Client) objectRef(id string) string {
	return c.base + "/directoryObjects/" + segment(id)
}

// AddMemberRequest is POST /groups/{id}/members/$ref. An "already exist"
// answer counts as success: the member is there, as asked.
func (c *Client) AddMemberRequest(groupID, memberID string) *Request {
	r := NewRequest(http.MethodPost, "/groups/"+segment(groupID)+"/members/$ref",
		map[string]string{"@odata.id": c.objectRef(memberID)})
	r.Template = "/groups/{id}/members/$ref"
	r.idempotent = true
	r.refs = []string{groupID, memberID}
	r.accept = func(e *Error) bool {
		return e.Status == http.StatusBadRequest && messageContains(e, msgAlreadyExist)
	}
	return r
}

// AddMember adds one member; adding a present member succeeds.
func (c *Client) AddMember(ctx context.Context, groupID, memberID string) error {
	if _, err := c.Do(ctx, c.AddMemberRequest(groupID, memberID)); err != nil {
		return fmt.Errorf("add member %s to group %s: %w", memberID, groupID, err)
	}
	return nil
}

// RemoveMemberRequest is DELETE /groups/{id}/members/{memberId}/$ref. A
// member already gone (404, or the 400 "do not exist" variant, graph.md
// §4.3) counts as success.
func RemoveMemberRequest(groupID, memberID string) *Request {
	r := NewRequest(http.MethodDelete, "/groups/"+segment(groupID)+"/members/"+segment(memberID)+"/$ref", nil)
	r.Template = "/groups/{id}/members/{id}/$ref"
	r.refs = []string{groupID, memberID}
	r.accept = func(e *Error) bool {
		return e.Status == http.StatusNotFound ||
			(e.Status == http.StatusBadRequest && messageContains(e, msgDoNotExist))
	}
	return r
}

// RemoveMember removes one member; removing an absent member succeeds.
func (c *Client) RemoveMember(ctx context.Context, groupID, memberID string) error {
	if _, err := c.Do(ctx, RemoveMemberRequest(groupID, memberID)); err != nil {
		return fmt.Errorf("remove member %s from group %s: %w", memberID, groupID, err)
	}
	return nil
}

// AddMembersRequest is PATCH /groups/{id} with members@odata.bind for at
// most 20 members (graph.md §4.3). Graph applies it all or nothing.
func (c *Client) AddMembersRequest(groupID string, memberIDs []string) *Request {
	binds := make([]string, len(memberIDs))
	for i, id := range memberIDs {
		binds[i] = c.objectRef(id)
	}
	r := NewRequest(http.MethodPatch, "/groups/"+segment(groupID), map[string]any{"members@odata.bind": binds})
	r.Template = "/groups/{id}"
	r.refs = append([]string{groupID}, memberIDs...)
	return r
}

// AddMembers adds members 20 per PATCH, the chunks sent together. Because
// Graph rejects a whole chunk when one member is already present or does
// not exist, a chunk that fails that way is retried one member at a time,
// where "already present" is success and a missing member fails alone.
func (c *Client) AddMembers(ctx context.Context, groupID string, memberIDs []string) error {
	_, err := c.AddMembersTraced(ctx, groupID, memberIDs)
	return err
}

// AddMembersTraced is AddMembers returning the request-ids of the writes
// Graph accepted, for the audit log.
func (c *Client) AddMembersTraced(ctx context.Context, groupID string, memberIDs []string) ([]string, error) {
	if len(memberIDs) == 0 {
		return nil, nil
	}
	b := c.NewBatch()
	var chunks [][]string
	for start := 0; start < len(memberIDs); start += maxBatch {
		chunk := memberIDs[start:min(start+maxBatch, len(memberIDs))]
		chunks = append(chunks, chunk)
		b.Add(c.AddMembersRequest(groupID, chunk))
	}
	if err := b.Start(ctx); err != nil {
		return nil, fmt.Errorf("add members to group %s: %w", groupID, err)
	}
	_ = b.Wait(ctx)
	one := c.NewBatch()
	var errs []error
	var ids []string
	for i, s := range b.steps {
		resp, err := s.Result()
		switch {
		case err == nil:
			ids = appendRequestID(ids, resp)
		case splittable(err):
			for _, id := range chunks[i] {
				one.Add(c.AddMemberRequest(groupID, id))
			}
		default:
			errs = append(errs, err)
		}
	}
	if one.Len() > 0 {
		errs = append(errs, one.Send(ctx))
		for _, s := range one.steps {
			if resp, err := s.Result(); err == nil {
				ids = appendRequestID(ids, resp)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return ids, fmt.Errorf("add members to group %s: %w", groupID, err)
	}
	return ids, nil
}

func appendRequestID(ids []string, resp *Response) []string {
	if resp == nil || resp.RequestID == "" || slices.Contains(ids, resp.RequestID) {
		return ids
	}
	return append(ids, resp.RequestID)
}

// splittable reports whether a bind PATCH failed because of one of its
// members, so that adding them one by one would get the others in.
func splittable(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	return (e.Status == http.StatusBadRequest && messageContains(e, msgAlreadyExist)) ||
		e.Status == http.StatusNotFound
}

// ObjectRef is the URL Graph takes for a directory object in an
// @odata.bind or $ref body, e.g. members@odata.bind when creating a group.
func (c *Client) ObjectRef(id string) string { return c.objectRef(id) }
