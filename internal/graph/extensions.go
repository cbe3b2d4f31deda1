package graph

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

// ExtensionProperty is a directory extension definition registered on an
// application (docs/graph.md §14): once registered, its Name
// (extension_{appId without hyphens}_{name}) is a property of the objects it
// targets that can be written, $selected and $filtered with eq.
type ExtensionProperty struct {
	ID            string   `json:"id"`
	Name          string   `json:"name"`
	DataType      string   `json:"dataType"`
	TargetObjects []string `json:"targetObjects"`
}

// ExtensionName is the full name Graph gives the extension name registered
// by the application appID.
func ExtensionName(appID, name string) string {
	return "extension_" + strings.ReplaceAll(strings.ToLower(appID), "-", "") + "_" + name
}

// extensionPropertiesPath addresses an application by its client id, with
// the alternate-key form applications(appId='…').
func extensionPropertiesPath(appID string) string {
	return "/applications(appId='" + segment(strings.ReplaceAll(appID, "'", "''")) + "')/extensionProperties"
}

// FindExtensionProperty reads the application's directory extension with
// the full name given; ErrNotFound when none is registered.
func (c *Client) FindExtensionProperty(ctx context.Context, appID, fullName string) (ExtensionProperty, error) {
	r := listRequest(extensionPropertiesPath(appID), "/applications/{id}/extensionProperties", Query{Filter: Eq("name", fullName)})
	found, err := collect(list[ExtensionProperty](ctx, c, r))
	if err != nil {
		return ExtensionProperty{}, fmt.Errorf("read directory extension %s: %w", fullName, err)
	}
	for _, p := range found {
		if strings.EqualFold(p.Name, fullName) {
			return p, nil
		}
	}
	return ExtensionProperty{}, fmt.Errorf("directory extension %s: %w", fullName, ErrNotFound)
}

// CreateExtensionProperty registers a directory extension on the
// application appID: needs Application.ReadWrite.OwnedBy (the app owning
// its own registration), Application.ReadWrite.All or
// Directory.ReadWrite.All.
func (c *Client) CreateExtensionProperty(ctx context.Context, appID, name, dataType string, targets []string) (ExtensionProperty, error) {
	r := NewRequest(http.MethodPost, extensionPropertiesPath(appID), map[string]any{"name": name, "dataType": dataType, "targetObjects": targets})
	r.Template = "/applications/{id}/extensionProperties"
	var p ExtensionProperty
	if err := c.doDecode(ctx, r, &p); err != nil {
		return ExtensionProperty{}, fmt.Errorf("register directory extension %s: %w", name, err)
	}
	return p, nil
}
