package provision

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"

	"github.com/o365prov/o365prov/internal/engine"
	"github.com/o365prov/o365prov/internal/graph"
)

// anchorExtension is the directory extension o365prov registers on its own
// application to mark the groups it creates with their directory GUID
// (docs/architecture.md, "Source anchors of groups"). Graph names it
// extension_{clientId without hyphens}_o365provSourceAnchor.
const anchorExtension = "o365provSourceAnchor"

// anchors resolves, once, the full name of the source-anchor extension,
// registering it on the application the first time.
type anchors struct {
	c     *graph.Client
	appID string
	mu    sync.Mutex
	name  string
}

// property returns the extension's full name, registering it if the
// application has none yet.
func (a *anchors) property(ctx context.Context) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.name != "" {
		return a.name, nil
	}
	full := graph.ExtensionName(a.appID, anchorExtension)
	_, err := a.c.FindExtensionProperty(ctx, a.appID, full)
	if graph.IsNotFound(err) {
		_, err = a.c.CreateExtensionProperty(ctx, a.appID, anchorExtension, "String", []string{"Group"})
		if _, taken := graph.IsConflict(err); taken {
			err = nil // registered meanwhile by another o365prov
		}
		if err != nil {
			var ge *graph.Error
			if errors.As(err, &ge) && ge.Status == 403 {
				err = fmt.Errorf("%w; grant the application Application.ReadWrite.OwnedBy (and make it an owner of its own registration), or register the extension %q (String, on Group) on it yourself", err, anchorExtension)
			}
		}
	}
	if err != nil {
		return "", classify(fmt.Errorf("source anchor of groups: %w", err))
	}
	a.name = full
	return full, nil
}

func (t target) FindGroups(ctx context.Context, sourceID string) ([]engine.TargetGroup, error) {
	prop, err := t.anchors.property(ctx)
	if err != nil {
		return nil, err
	}
	var out []engine.TargetGroup
	q := graph.Query{Filter: graph.Eq(prop, sourceID), Select: []string{"id", "displayName", "mailNickname", prop}}
	for g, err := range t.c.ListGroups(ctx, q) {
		if err != nil {
			return nil, classify(fmt.Errorf("find groups anchored to %s: %w", sourceID, err))
		}
		out = append(out, toTargetGroup(g, prop))
	}
	return out, nil
}

func (t target) ListGroups(ctx context.Context, fn func(engine.TargetGroup) error) error {
	prop, err := t.anchors.property(ctx)
	if err != nil {
		return err
	}
	for g, err := range t.c.ListGroups(ctx, graph.Query{Select: []string{"id", "displayName", "mailNickname", prop}, Top: 999}) {
		if err != nil {
			return fmt.Errorf("list groups: %w", err)
		}
		if err := fn(toTargetGroup(g, prop)); err != nil {
			return err
		}
	}
	return nil
}

func (t target) CreateGroup(ctx context.Context, sourceID string, props map[string]any, memberIDs []string) (engine.WriteResult, error) {
	prop, err := t.anchors.property(ctx)
	if err != nil {
		return engine.WriteResult{}, err
	}
	props = maps.Clone(props)
	props[prop] = sourceID
	if len(memberIDs) > 0 {
		refs := make([]string, len(memberIDs))
		for i, id := range memberIDs {
			refs[i] = t.c.ObjectRef(id)
		}
		props["members@odata.bind"] = refs
	}
	return t.create(ctx, graph.CreateGroupRequest(graph.Properties(props)), "create group")
}

func toTargetGroup(g graph.Group, prop string) engine.TargetGroup {
	tg := engine.TargetGroup{ID: g.ID, DisplayName: g.DisplayName, MailNickname: g.MailNickname}
	var anchor string
	if ok, _ := g.Property(prop, &anchor); ok {
		tg.SourceID = anchor
	}
	return tg
}

// UpdateGroup patches a group; the engine's AnchorField becomes the source
// anchor's directory extension property.
func (t target) UpdateGroup(ctx context.Context, id string, props map[string]any) (engine.WriteResult, error) {
	if v, ok := props[engine.AnchorField]; ok {
		prop, err := t.anchors.property(ctx)
		if err != nil {
			return engine.WriteResult{}, err
		}
		props = maps.Clone(props)
		delete(props, engine.AnchorField)
		props[prop] = v
	}
	return t.write(ctx, graph.PatchGroupRequest(id, graph.Properties(props)), "patch group "+id)
}
