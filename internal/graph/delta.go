package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Delta collections (docs/graph.md §8).
const (
	DeltaUsers  = "users"
	DeltaGroups = "groups"
)

// ErrDeltaExpired means Graph no longer knows a delta link (older than
// seven days, or the tenant's sync state was reset): the caller must start
// a new initial round.
var ErrDeltaExpired = errors.New("delta link expired: a full round is needed")

// DeltaItem is one entry of a delta round: an object with (at least) its
// changed properties, or a removal.
type DeltaItem struct {
	ID string
	// Removed is "changed" for a soft-deleted (restorable) object,
	// "deleted" for one gone for good, "" for a present object.
	Removed string
	// Properties holds every other property Graph sent, as raw JSON.
	Properties map[string]json.RawMessage
	// Members and Manager are members@delta and manager@delta.
	Members []DeltaLinkChange
	Manager []DeltaLinkChange
	// ManagerTracked reports whether manager@delta was present at all (an
	// empty array means the manager was removed).
	ManagerTracked bool
}

// DeltaLinkChange is one entry of members@delta or manager@delta.
type DeltaLinkChange struct {
	ID      string
	Type    string // "#microsoft.graph.user", "#microsoft.graph.group", …
	Removed bool
}

type wireLinkChange struct {
	ID      string           `json:"id"`
	Type    string           `json:"@odata.type"`
	Removed *json.RawMessage `json:"@removed"`
}

// UnmarshalJSON splits Graph's delta entry into its parts.
func (d *DeltaItem) UnmarshalJSON(data []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	*d = DeltaItem{Properties: map[string]json.RawMessage{}}
	for k, v := range raw {
		var err error
		switch k {
		case "id":
			err = json.Unmarshal(v, &d.ID)
		case "@removed":
			var r struct {
				Reason string `json:"reason"`
			}
			err = json.Unmarshal(v, &r)
			d.Removed = r.Reason
			if d.Removed == "" {
				d.Removed = "changed"
			}
		case "members@delta":
			d.Members, err = linkChanges(v)
		case "manager@delta":
			d.Manager, err = linkChanges(v)
			d.ManagerTracked = true
		default:
			d.Properties[k] = v
		}
		if err != nil {
			return fmt.Errorf("delta item property %s: %w", k, err)
		}
	}
	return nil
}

func linkChanges(v json.RawMessage) ([]DeltaLinkChange, error) {
	var w []wireLinkChange
	if err := json.Unmarshal(v, &w); err != nil {
		return nil, err
	}
	out := make([]DeltaLinkChange, len(w))
	for i, c := range w {
		out[i] = DeltaLinkChange{ID: c.ID, Type: c.Type, Removed: c.Removed != nil}
	}
	return out, nil
}

type deltaPage struct {
	Value     []DeltaItem `json:"value"`
	NextLink  string      `json:"@odata.nextLink"`
	DeltaLink string      `json:"@odata.deltaLink"`
}

// Delta runs one delta round over users or groups (DeltaUsers,
// DeltaGroups): the initial round when link is empty (selecting sel; add
// "members" or "manager" to track those links), else the changes since the
// saved deltaLink. It follows every nextLink, calls fn for each item, and
// returns the new deltaLink to keep for the next round. An unknown or
// expired link is ErrDeltaExpired. fn's error ends the round; the old link
// then stays the one to use.
func (c *Client) Delta(ctx context.Context, collection string, sel []string, link string, fn func(DeltaItem) error) (string, error) {
	if collection != DeltaUsers && collection != DeltaGroups {
		return "", fmt.Errorf("delta of %q: want %s or %s", collection, DeltaUsers, DeltaGroups)
	}
	template := "/" + collection + "/delta"
	first := NewRequest(http.MethodGet, template, nil)
	first.Template = template
	if len(sel) > 0 {
		first.Query = Query{Select: sel}.values()
	}
	req := first
	if link != "" {
		var err error
		if req, err = c.nextPage(first, link); err != nil {
			return "", fmt.Errorf("delta %s: saved link: %w", collection, err)
		}
	}
	for {
		resp, err := c.Do(ctx, req)
		if err != nil {
			var ge *Error
			if errors.As(err, &ge) && strings.EqualFold(ge.Code, "syncStateNotFound") {
				return "", fmt.Errorf("delta %s: %w: %w", collection, ErrDeltaExpired, err)
			}
			return "", fmt.Errorf("delta %s: %w", collection, err)
		}
		var p deltaPage
		if err := resp.Decode(&p); err != nil {
			return "", fmt.Errorf("delta %s: %w", collection, err)
		}
		for _, it := range p.Value {
			if err := fn(it); err != nil {
				return "", err
			}
		}
		switch {
		case p.DeltaLink != "":
			return p.DeltaLink, nil
		case p.NextLink == "":
			return "", fmt.Errorf("delta %s: a page has neither @odata.nextLink nor @odata.deltaLink", collection)
		}
		if req, err = c.nextPage(first, p.NextLink); err != nil {
			return "", fmt.Errorf("delta %s: %w", collection, err)
		}
	}
}
