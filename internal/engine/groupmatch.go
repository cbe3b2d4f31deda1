package engine

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/o365prov/o365prov/internal/state"
)

// Groups o365prov creates carry their directory GUID as a source anchor (a
// directory extension property, docs/architecture.md): a group state knows
// nothing of — fresh state, or a create whose answer was lost — is looked up
// by it before it is created, so no group is ever created twice.

// AnchorField is the pseudo-property of an updateGroup that writes the
// group's source anchor; the Target turns it into the property Graph keeps
// it in.
const AnchorField = "o365provSourceAnchor"

// keyAnchor is the Applied key recording that a group carries its anchor.
const keyAnchor = "_anchor"

// withAnchor adds to a group's record that it carries its anchor.
func withAnchor(record map[string]string, guid string) map[string]string {
	record[keyAnchor] = canon(guid)
	return record
}

// planAnchorMark marks with its source anchor a group o365prov manages
// that does not carry it yet (created by an earlier version, or adopted),
// once, so a fresh state finds it rather than creating it again.
func (e *Engine) planAnchorMark(p *planner, g *Entry, name string, st *state.Object) {
	p.b.add(Op{Type: OpUpdateGroup, Kind: KindGroup, GUID: g.GUID, DN: g.DN, Name: name, GraphID: st.GraphID,
		Fields: map[string]any{AnchorField: g.GUID}, Record: withAnchor(map[string]string{}, g.GUID),
		Reason: "marked with its source anchor, so a fresh state finds it (once)"})
}

// anchorLookup is what looking new groups up by their source anchor found:
// the groups carrying each GUID, and the GUIDs whose lookup failed.
type anchorLookup struct {
	found  map[string][]TargetGroup
	failed map[string]error
}

// findAnchored looks up the groups o365prov created earlier for guids:
// one listing of the tenant's groups when there are many, a filtered
// lookup each otherwise. A lookup that fails fails only its group.
func (e *Engine) findAnchored(ctx context.Context, guids []string) anchorLookup {
	res := anchorLookup{found: map[string][]TargetGroup{}, failed: map[string]error{}}
	if len(guids) == 0 {
		return res
	}
	if len(guids) >= bulkMatchThreshold {
		want := make(map[string]bool, len(guids))
		for _, g := range guids {
			want[g] = true
		}
		err := e.target.ListGroups(ctx, func(g TargetGroup) error {
			if want[g.SourceID] {
				res.found[g.SourceID] = append(res.found[g.SourceID], g)
			}
			return nil
		})
		if err == nil {
			return res
		}
		// A listing that failed may be one bad page: look each up instead.
		e.log.Warn("listing groups to find those o365prov created failed; looking each up", "err", err)
		res.found = map[string][]TargetGroup{}
	}
	var mu sync.Mutex
	sem := make(chan struct{}, lookupParallelism)
	var wg sync.WaitGroup
	for _, g := range guids {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			found, err := e.target.FindGroups(ctx, g)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				res.failed[g] = err
				return
			}
			if len(found) > 0 {
				res.found[g] = found
			}
		}()
	}
	wg.Wait()
	return res
}

// findGroupAfterCreate looks up, by its source anchor, the group a create
// whose outcome is unknown may have made, allowing for Entra's replication
// lag. nil when none exists.
func (e *Engine) findGroupAfterCreate(ctx context.Context, guid string) (*TargetGroup, error) {
	delay := max(e.settle/2, 10*time.Millisecond)
	for attempt := 0; ; attempt++ {
		found, err := e.target.FindGroups(ctx, guid)
		switch {
		case err != nil:
			return nil, err
		case len(found) == 1:
			return &found[0], nil
		case len(found) > 1:
			return nil, fmt.Errorf("%d groups carry the source anchor %s: remove the extra ones", len(found), guid)
		case attempt == 4:
			return nil, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(delay):
		}
		delay *= 2
	}
}
