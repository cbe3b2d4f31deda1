package faketenant

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// User is a snapshot of a user for tests and inspection.
type User struct {
	ID                    string            `json:"id"`
	UserPrincipalName     string            `json:"userPrincipalName"`
	DisplayName           string            `json:"displayName"`
	MailNickname          string            `json:"mailNickname"`
	Mail                  string            `json:"mail,omitempty"`
	OnPremisesImmutableID string            `json:"onPremisesImmutableId,omitempty"`
	UsageLocation         string            `json:"usageLocation,omitempty"`
	AccountEnabled        bool              `json:"accountEnabled"`
	Manager               string            `json:"manager,omitempty"`
	Licenses              []AssignedLicense `json:"licenses,omitempty"`
	MemberOf              []string          `json:"memberOf,omitempty"`
	Properties            map[string]any    `json:"properties"`
	Created               time.Time         `json:"created"`
	VisibleAt             time.Time         `json:"visibleAt"`
	Deleted               time.Time         `json:"deleted,omitzero"`
}

// AssignedLicense is a SKU held by a user.
type AssignedLicense struct {
	SkuID         string   `json:"skuId"`
	DisabledPlans []string `json:"disabledPlans,omitempty"`
}

// Group is a snapshot of a group.
type Group struct {
	ID              string         `json:"id"`
	DisplayName     string         `json:"displayName"`
	MailNickname    string         `json:"mailNickname"`
	Mail            string         `json:"mail,omitempty"`
	GroupTypes      []string       `json:"groupTypes"`
	MailEnabled     bool           `json:"mailEnabled"`
	SecurityEnabled bool           `json:"securityEnabled"`
	Members         []string       `json:"members"`
	Owners          []string       `json:"owners,omitempty"`
	Properties      map[string]any `json:"properties"`
	Created         time.Time      `json:"created"`
	Deleted         time.Time      `json:"deleted,omitzero"`
}

// DeletedItem is an entry of /directory/deletedItems.
type DeletedItem struct {
	ID              string    `json:"id"`
	Kind            string    `json:"kind"` // user or group
	DisplayName     string    `json:"displayName"`
	DeletedDateTime time.Time `json:"deletedDateTime"`
}

// Domain is a snapshot of a domain.
type Domain struct {
	Name               string            `json:"name"`
	AuthenticationType string            `json:"authenticationType"`
	IsVerified         bool              `json:"isVerified"`
	IsDefault          bool              `json:"isDefault"`
	IsInitial          bool              `json:"isInitial"`
	Federation         *FederationConfig `json:"federation,omitempty"`
}

// FederationConfig is a domain's internalDomainFederation.
type FederationConfig struct {
	ID         string         `json:"id"`
	Properties map[string]any `json:"properties"`
}

// SKU is a subscription with its usage.
type SKU struct {
	SkuID         string              `json:"skuId"`
	SkuPartNumber string              `json:"skuPartNumber"`
	Enabled       int                 `json:"enabled"`
	Consumed      int                 `json:"consumed"`
	ServicePlans  []ServicePlanConfig `json:"servicePlans"`
}

func (t *Tenant) userSnapshot(o *object) User {
	u := User{ID: o.id, UserPrincipalName: o.str("userPrincipalName"), DisplayName: o.str("displayName"),
		MailNickname: o.str("mailNickname"), Mail: o.str("mail"), OnPremisesImmutableID: o.str("onPremisesImmutableId"),
		UsageLocation: o.str("usageLocation"), AccountEnabled: o.boolean("accountEnabled"), Manager: o.manager,
		Properties: copyProps(o.props), Created: o.created, VisibleAt: o.visibleAt, Deleted: o.deletedAt}
	for _, l := range o.licenses {
		u.Licenses = append(u.Licenses, AssignedLicense{SkuID: l.SkuID, DisabledPlans: append([]string(nil), l.Disabled...)})
	}
	for g := range t.dir.memberOf[o.id] {
		u.MemberOf = append(u.MemberOf, g)
	}
	slices.Sort(u.MemberOf)
	return u
}

func (t *Tenant) groupSnapshot(o *object) Group {
	g := Group{ID: o.id, DisplayName: o.str("displayName"), MailNickname: o.str("mailNickname"), Mail: o.str("mail"),
		GroupTypes: append([]string{}, o.strs("groupTypes")...), MailEnabled: o.boolean("mailEnabled"),
		SecurityEnabled: o.boolean("securityEnabled"), Members: o.members.keys(), Properties: copyProps(o.props),
		Created: o.created, Deleted: o.deletedAt}
	for id := range o.owners {
		g.Owners = append(g.Owners, id)
	}
	slices.Sort(g.Owners)
	return g
}

// Users returns the active users in creation order.
func (t *Tenant) Users() []User {
	t.maybeExpire()
	t.mu.RLock()
	defer t.mu.RUnlock()
	out := make([]User, 0, t.dir.users.len())
	t.dir.users.scan(0, func(id string, _ uint64) bool { out = append(out, t.userSnapshot(t.dir.objects[id])); return true })
	return out
}

// User finds a user, active or soft-deleted, by id or UPN.
func (t *Tenant) User(key string) (User, bool) {
	t.maybeExpire()
	t.mu.RLock()
	defer t.mu.RUnlock()
	o := t.dir.objects[strings.ToLower(key)]
	if o == nil {
		if id, ok := t.dir.upn[strings.ToLower(key)]; ok {
			o = t.dir.objects[id]
		}
	}
	if o == nil || o.kind != kindUser {
		return User{}, false
	}
	return t.userSnapshot(o), true
}

// Groups returns the active groups in creation order.
func (t *Tenant) Groups() []Group {
	t.maybeExpire()
	t.mu.RLock()
	defer t.mu.RUnlock()
	out := make([]Group, 0, t.dir.groups.len())
	t.dir.groups.scan(0, func(id string, _ uint64) bool { out = append(out, t.groupSnapshot(t.dir.objects[id])); return true })
	return out
}

// Group finds a group, active or soft-deleted, by id.
func (t *Tenant) Group(id string) (Group, bool) {
	t.maybeExpire()
	t.mu.RLock()
	defer t.mu.RUnlock()
	o := t.dir.objects[strings.ToLower(id)]
	if o == nil || o.kind != kindGroup {
		return Group{}, false
	}
	return t.groupSnapshot(o), true
}

// Members returns a group's member ids in the order they were added.
func (t *Tenant) Members(groupID string) []string {
	g, _ := t.Group(groupID)
	return g.Members
}

// DeletedItems returns the soft-deleted users and groups.
func (t *Tenant) DeletedItems() []DeletedItem {
	t.maybeExpire()
	t.mu.RLock()
	defer t.mu.RUnlock()
	var out []DeletedItem
	t.dir.deleted.scan(0, func(id string, _ uint64) bool {
		o := t.dir.objects[id]
		out = append(out, DeletedItem{ID: o.id, Kind: o.kind.String(), DisplayName: o.str("displayName"), DeletedDateTime: o.deletedAt})
		return true
	})
	return out
}

// Domains returns the tenant's domains with their federation settings.
func (t *Tenant) Domains() []Domain {
	t.mu.RLock()
	defer t.mu.RUnlock()
	var out []Domain
	for _, d := range t.dir.domains {
		dm := Domain{Name: d.name, AuthenticationType: d.authType(), IsVerified: d.verified, IsDefault: d.isDefault, IsInitial: d.isInitial}
		if d.fed != nil {
			dm.Federation = &FederationConfig{ID: d.fed.id, Properties: copyProps(d.fed.props)}
		}
		out = append(out, dm)
	}
	return out
}

// SKUs returns the subscriptions with consumed units.
func (t *Tenant) SKUs() []SKU {
	t.mu.RLock()
	defer t.mu.RUnlock()
	var out []SKU
	for _, s := range t.dir.skus {
		out = append(out, SKU{SkuID: s.skuID, SkuPartNumber: s.part, Enabled: s.enabled, Consumed: s.consumed, ServicePlans: s.plans})
	}
	return out
}

// Counters returns request, write and throttling counters, with the log of
// accepted write times.
func (t *Tenant) Counters() Counters { return t.stats.snapshot(true) }

// SignIns returns every sign-in attempt seen by /login and /login.srf.
func (t *Tenant) SignIns() []SignIn { return t.signin.snapshot() }

// Reset empties the directory back to the config (domains, federation from
// config, SKUs with no consumption) and clears counters, throttling buckets
// and the sign-in log. Apps, keys and the clock are kept.
func (t *Tenant) Reset() {
	dir, err := t.buildDirectory()
	if err != nil {
		t.log.Error("reset fake tenant", "err", err) // the config built once already, so this does not happen
		return
	}
	t.mu.Lock()
	t.dir = dir
	t.expiry.next.Store(0)
	t.mu.Unlock()
	if t.throttle != nil {
		t.throttle.reset()
	}
	t.stats.reset()
	t.signin.reset()
	t.markDirty()
}

// serveInspect serves /_fake/…, the inspection API for tests and demos. It
// is outside /v1.0, needs no token and is never throttled.
func (t *Tenant) serveInspect(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/_fake"), "/")
	get, post := r.Method == http.MethodGet, r.Method == http.MethodPost
	write := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(v)
	}
	switch {
	case get && path == "":
		write(http.StatusOK, map[string]any{"tenantId": t.tenantID, "initialDomain": t.initial, "endpoints": []string{
			"GET /_fake/users", "GET /_fake/groups", "GET /_fake/groups/{id}/members", "GET /_fake/deleted",
			"GET /_fake/domains", "GET /_fake/skus", "GET /_fake/counters[?times=1]", "GET /_fake/signins",
			"GET /_fake/clock", "POST /_fake/clock/advance?by=720h", "POST /_fake/reset", "GET /_fake/check",
		}})
	case get && path == "/users":
		write(http.StatusOK, t.Users())
	case get && path == "/groups":
		write(http.StatusOK, t.Groups())
	case get && strings.HasPrefix(path, "/groups/") && strings.HasSuffix(path, "/members"):
		id := strings.TrimSuffix(strings.TrimPrefix(path, "/groups/"), "/members")
		if _, ok := t.Group(id); !ok {
			write(http.StatusNotFound, map[string]string{"error": "no such group"})
			return
		}
		write(http.StatusOK, t.Members(id))
	case get && path == "/deleted":
		write(http.StatusOK, t.DeletedItems())
	case get && path == "/domains":
		write(http.StatusOK, t.Domains())
	case get && path == "/skus":
		write(http.StatusOK, t.SKUs())
	case get && path == "/counters":
		write(http.StatusOK, t.stats.snapshot(r.URL.Query().Get("times") != ""))
	case get && path == "/signins":
		write(http.StatusOK, t.SignIns())
	case get && path == "/clock":
		write(http.StatusOK, map[string]any{"tenantTime": t.Now(), "wallTime": t.wall.Now(), "timeScale": t.cfg.TimeScale})
	case get && path == "/check":
		if err := t.CheckConsistency(); err != nil {
			write(http.StatusConflict, map[string]string{"error": err.Error()})
			return
		}
		write(http.StatusOK, map[string]string{"status": "consistent"})
	case post && path == "/clock/advance":
		d, err := time.ParseDuration(r.URL.Query().Get("by"))
		if err != nil || d < 0 {
			write(http.StatusBadRequest, map[string]string{"error": fmt.Sprintf("by=%q: want a positive Go duration such as 720h", r.URL.Query().Get("by"))})
			return
		}
		t.Advance(d)
		write(http.StatusOK, map[string]any{"tenantTime": t.Now()})
	case post && path == "/reset":
		t.Reset()
		write(http.StatusOK, map[string]string{"status": "reset"})
	default:
		write(http.StatusNotFound, map[string]string{"error": "unknown inspection endpoint; GET /_fake lists them"})
	}
}
