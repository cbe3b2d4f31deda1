package graph

import (
	"context"
	"fmt"
	"net/http"
)

// ListDomains reads the tenant's domains.
func (c *Client) ListDomains(ctx context.Context) ([]Domain, error) {
	ds, err := collect(list[Domain](ctx, c, listRequest("/domains", "/domains", Query{})))
	if err != nil {
		return nil, fmt.Errorf("list domains: %w", err)
	}
	return ds, nil
}

// GetDomain reads one domain by name.
func (c *Client) GetDomain(ctx context.Context, name string) (Domain, error) {
	r := NewRequest(http.MethodGet, "/domains/"+segment(name), nil)
	r.Template = "/domains/{id}"
	var d Domain
	if err := c.doDecode(ctx, r, &d); err != nil {
		return Domain{}, fmt.Errorf("get domain %s: %w", name, err)
	}
	return d, nil
}

// PatchDomain writes domain properties (authenticationType, …); 204.
func (c *Client) PatchDomain(ctx context.Context, name string, props Properties) error {
	if len(props) == 0 {
		return nil
	}
	r := NewRequest(http.MethodPatch, "/domains/"+segment(name), map[string]any(props))
	r.Template = "/domains/{id}"
	if _, err := c.Do(ctx, r); err != nil {
		return fmt.Errorf("patch domain %s: %w", name, err)
	}
	return nil
}

func federationPath(domain string) string {
	return "/domains/" + segment(domain) + "/federationConfiguration"
}

// GetFederation returns a domain's federation configuration, or nil if it
// has none (Graph answers the list with 404 then, graph.md §10.2).
func (c *Client) GetFederation(ctx context.Context, domain string) (*FederationConfig, error) {
	r := NewRequest(http.MethodGet, federationPath(domain), nil)
	r.Template = "/domains/{id}/federationConfiguration"
	fs, err := collect(list[FederationConfig](ctx, c, r))
	if IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("federation of %s: %w", domain, err)
	}
	if len(fs) == 0 {
		return nil, nil
	}
	return &fs[0], nil
}

// CreateFederation federates a domain (POST, 201). Not idempotent.
func (c *Client) CreateFederation(ctx context.Context, domain string, f FederationConfig) (FederationConfig, error) {
	body := struct {
		Type string `json:"@odata.type"`
		FederationConfig
	}{"#microsoft.graph.internalDomainFederation", f}
	body.ID = ""
	r := NewRequest(http.MethodPost, federationPath(domain), body)
	r.Template = "/domains/{id}/federationConfiguration"
	var out FederationConfig
	if err := c.doDecode(ctx, r, &out); err != nil {
		return FederationConfig{}, fmt.Errorf("federate %s: %w", domain, err)
	}
	return out, nil
}

// UpdateFederation writes changed properties of a federation configuration
// and returns the updated object (PATCH answers 200 with it here).
func (c *Client) UpdateFederation(ctx context.Context, domain, id string, props Properties) (FederationConfig, error) {
	r := NewRequest(http.MethodPatch, federationPath(domain)+"/"+segment(id), map[string]any(props))
	r.Template = "/domains/{id}/federationConfiguration/{id}"
	resp, err := c.Do(ctx, r)
	if err != nil {
		return FederationConfig{}, fmt.Errorf("update federation of %s: %w", domain, err)
	}
	var out FederationConfig
	if len(resp.Body) == 0 {
		return out, nil // a 204 carries nothing to decode
	}
	if err := resp.Decode(&out); err != nil {
		return FederationConfig{}, fmt.Errorf("update federation of %s: %w", domain, err)
	}
	return out, nil
}

// DeleteFederation removes a domain's federation configuration.
func (c *Client) DeleteFederation(ctx context.Context, domain, id string) error {
	r := NewRequest(http.MethodDelete, federationPath(domain)+"/"+segment(id), nil)
	r.Template = "/domains/{id}/federationConfiguration/{id}"
	if _, err := c.Do(ctx, r); err != nil {
		return fmt.Errorf("delete federation of %s: %w", domain, err)
	}
	return nil
}
