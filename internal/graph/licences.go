package graph

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// AssignLicenseRequest is POST /users/{id}/assignLicense (graph.md §3.1).
// Both arrays are always sent, empty when there is nothing to add or remove.
// It is treated as idempotent: sending the same assignment twice leaves the
// user with the same licences, so a lost answer is retried rather than
// reported as an unknown outcome.
func AssignLicenseRequest(userID string, add []AssignedLicense, remove []string) *Request {
	adds := make([]AssignedLicense, len(add))
	for i, l := range add {
		if l.DisabledPlans == nil {
			l.DisabledPlans = []string{}
		}
		adds[i] = l
	}
	if remove == nil {
		remove = []string{}
	}
	r := NewRequest(http.MethodPost, userPath(userID)+"/assignLicense",
		map[string]any{"addLicenses": adds, "removeLicenses": remove})
	r.Template = "/users/{id}/assignLicense"
	r.refs = []string{userID}
	r.idempotent = true
	return r
}

// AssignLicense adds and removes licences and returns the user as Graph
// answered. With nothing to add or remove it sends nothing.
func (c *Client) AssignLicense(ctx context.Context, userID string, add []AssignedLicense, remove []string) (User, error) {
	if len(add) == 0 && len(remove) == 0 {
		return User{}, nil
	}
	var u User
	if err := c.doDecode(ctx, AssignLicenseRequest(userID, add, remove), &u); err != nil {
		return User{}, fmt.Errorf("assign licence to %s: %w", userID, err)
	}
	return u, nil
}

// AssignLicenseWithUsageLocation sets usageLocation and then assigns
// licences, in one $batch with dependsOn: Graph refuses a licence to a user
// without a usage location (graph.md §3.1).
func (c *Client) AssignLicenseWithUsageLocation(ctx context.Context, userID, usageLocation string, add []AssignedLicense, remove []string) (User, error) {
	b := c.NewBatch()
	patch := b.Add(PatchUserRequest(userID, Properties{"usageLocation": usageLocation}))
	assign := b.AddAfter(patch, AssignLicenseRequest(userID, add, remove))
	if err := b.Send(ctx); err != nil {
		return User{}, fmt.Errorf("assign licence to %s: %w", userID, err)
	}
	var u User
	if err := assign.Decode(&u); err != nil {
		return User{}, fmt.Errorf("assign licence to %s: %w", userID, err)
	}
	return u, nil
}

// GetLicenses returns a user's assigned licences (direct and inherited).
func (c *Client) GetLicenses(ctx context.Context, userID string) ([]AssignedLicense, error) {
	u, err := c.GetUser(ctx, userID, "id", "assignedLicenses")
	if err != nil {
		return nil, fmt.Errorf("licences of %s: %w", userID, err)
	}
	return u.AssignedLicenses, nil
}

// SubscribedSkus reads GET /subscribedSkus, uncached.
func (c *Client) SubscribedSkus(ctx context.Context) ([]SubscribedSku, error) {
	r := NewRequest(http.MethodGet, "/subscribedSkus", nil)
	r.Template = "/subscribedSkus"
	skus, err := collect(list[SubscribedSku](ctx, c, r))
	if err != nil {
		return nil, fmt.Errorf("subscribed skus: %w", err)
	}
	return skus, nil
}

// skuCacheTTL is how long SKUs resolves names from one read. Tenants rarely
// change subscriptions; Refresh forces a read.
const skuCacheTTL = time.Hour

type skuCache struct {
	ttl time.Duration

	mu      sync.Mutex
	catalog *SKUCatalog
	read    time.Time
}

// SKUs returns the tenant's subscriptions as a catalogue that resolves
// names to GUIDs, read at most once per hour.
func (c *Client) SKUs(ctx context.Context) (*SKUCatalog, error) {
	c.skus.mu.Lock()
	defer c.skus.mu.Unlock()
	now := c.clock.Now()
	if c.skus.catalog != nil && now.Sub(c.skus.read) < c.skus.ttl {
		return c.skus.catalog, nil
	}
	skus, err := c.SubscribedSkus(ctx)
	if err != nil {
		return nil, err
	}
	c.skus.catalog, c.skus.read = NewSKUCatalog(skus), now
	return c.skus.catalog, nil
}

// RefreshSKUs drops the cached catalogue (consumed units change with every
// assignment).
func (c *Client) RefreshSKUs() {
	c.skus.mu.Lock()
	defer c.skus.mu.Unlock()
	c.skus.catalog = nil
}

// SKUCatalog resolves skuPartNumbers and service-plan names to the GUIDs
// assignLicense takes. It is immutable.
type SKUCatalog struct {
	skus []SubscribedSku
}

// NewSKUCatalog wraps a list of subscriptions.
func NewSKUCatalog(skus []SubscribedSku) *SKUCatalog {
	return &SKUCatalog{skus: append([]SubscribedSku(nil), skus...)}
}

// All returns the subscriptions.
func (k *SKUCatalog) All() []SubscribedSku { return append([]SubscribedSku(nil), k.skus...) }

// Find returns the SKU named by skuId (GUID) or skuPartNumber
// ("ENTERPRISEPACK"), case-insensitively.
func (k *SKUCatalog) Find(nameOrID string) (SubscribedSku, bool) {
	for _, s := range k.skus {
		if strings.EqualFold(s.SkuID, nameOrID) || strings.EqualFold(s.SkuPartNumber, nameOrID) {
			return s, true
		}
	}
	return SubscribedSku{}, false
}

// License builds an assignment for a SKU with some of its plans disabled;
// SKU and plans may each be named or given as GUIDs.
func (k *SKUCatalog) License(sku string, disabledPlans ...string) (AssignedLicense, error) {
	s, ok := k.Find(sku)
	if !ok {
		return AssignedLicense{}, fmt.Errorf("licence %q: the tenant has no such subscription (known: %s)", sku, k.names())
	}
	plans := make([]string, 0, len(disabledPlans))
	for _, p := range disabledPlans {
		id, ok := findPlan(s, p)
		if !ok {
			return AssignedLicense{}, fmt.Errorf("licence %s: no service plan %q in it", s.SkuPartNumber, p)
		}
		plans = append(plans, id)
	}
	return AssignedLicense{SkuID: s.SkuID, DisabledPlans: plans}, nil
}

func findPlan(s SubscribedSku, nameOrID string) (string, bool) {
	for _, p := range s.ServicePlans {
		if strings.EqualFold(p.ServicePlanID, nameOrID) || strings.EqualFold(p.ServicePlanName, nameOrID) {
			return p.ServicePlanID, true
		}
	}
	return "", false
}

func (k *SKUCatalog) names() string {
	names := make([]string, len(k.skus))
	for i, s := range k.skus {
		names[i] = s.SkuPartNumber
	}
	return strings.Join(names, ", ")
}
