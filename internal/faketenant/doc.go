// Package faketenant emulates a Microsoft Entra ID tenant: the parts of
// login.microsoftonline.com a daemon and a federated sign-in use, and the
// Microsoft Graph v1.0 directory API a user and group provisioner calls. It
// follows Microsoft's documentation as summarised in docs/graph.md (cited as
// graph.md §N in the code and tests), not what any client expects, and
// imports no other package of this module. docs/fake-tenant.md lists what it
// does and where it chose.
//
// # Serving
//
// A *Tenant is an http.Handler. One server URL is both the login URL and
// the Graph URL:
//
//	POST /{tenant}/oauth2/v2.0/token                 client credentials (secret or certificate assertion)
//	GET  /{tenant}/v2.0/.well-known/openid-configuration
//	GET  /common/discovery/instance                  MSAL instance discovery
//	GET  /{tenant}/discovery/v2.0/keys               token signing keys (JWKS)
//	GET  /login?username=UPN                         home-realm discovery, WS-Fed/SAML redirect
//	POST /login.srf                                  WS-Fed RSTR or SAML 2.0 Response from the IdP
//	     /v1.0/...                                   Microsoft Graph
//	     /_fake/...                                  inspection (no auth, never throttled)
//
// {tenant} is the tenant GUID or any of its domains. MSAL needs an https
// authority: serve the tenant with httptest.NewTLSServer(tenant) in tests,
// or with SelfSignedTLS, and disable MSAL's instance discovery or point it
// at this server.
//
// # Go API
//
//	func DemoConfig() Config
//	func LoadConfig(path string) (Config, error)
//	func EntraLimits() Limits
//	func New(cfg Config) (*Tenant, error)
//	func NewManualClock(t time.Time) *ManualClock
//	func SelfSignedTLS(hosts []string, now time.Time) (tls.Certificate, []byte, error)
//
//	func (t *Tenant) ServeHTTP(w http.ResponseWriter, r *http.Request)
//	func (t *Tenant) Close() error
//	func (t *Tenant) TenantID() string
//	func (t *Tenant) InitialDomain() string
//	func (t *Tenant) IssueToken(clientID string) (string, error)
//	func (t *Tenant) Now() time.Time                  // tenant time
//	func (t *Tenant) Advance(d time.Duration)         // push tenant time (deleted-item expiry)
//	func (t *Tenant) Reset()
//	func (t *Tenant) SetReplicationLag(d time.Duration)
//	func (t *Tenant) SetFaults(f FaultConfig) error
//	func (t *Tenant) SetLatency(l LatencyConfig) error
//
//	func (t *Tenant) Users() []User
//	func (t *Tenant) User(idOrUPN string) (User, bool)
//	func (t *Tenant) Groups() []Group
//	func (t *Tenant) Group(id string) (Group, bool)
//	func (t *Tenant) Members(groupID string) []string
//	func (t *Tenant) DeletedItems() []DeletedItem
//	func (t *Tenant) Domains() []Domain
//	func (t *Tenant) SKUs() []SKU
//	func (t *Tenant) Counters() Counters               // .Count(method, path, status), .MaxWritesIn(window)
//	func (t *Tenant) SignIns() []SignIn
//	func (t *Tenant) CheckConsistency() error
//
//	func (t *Tenant) AddUser(u SeedUser) (string, error)
//	func (t *Tenant) AddGroup(g SeedGroup) (string, error)
//	func (t *Tenant) AddMembers(groupID string, memberIDs ...string) error
//	func (t *Tenant) SetManager(userID, managerID string) error
//
// # Time
//
// The wall clock (Config.Clock, the system clock by default) judges token
// lifetimes, client assertions and SAML validity windows, because the
// clients that mint and cache them live on wall time. Tenant time runs
// Config.TimeScale times faster than the wall clock and can be pushed ahead
// with Advance; it drives throttling windows and Retry-After, latency,
// replication lag, createdDateTime/deletedDateTime and the 30-day deleted
// item retention.
//
// # Throttling
//
// Each quota of graph.md §6.2 (per app and tenant: resource units per 10 s
// by size class, 3,000 writes per 150 s; per app: 150,000 RU per 20 s,
// 35,000 writes per 5 min; per tenant: 18,000 writes per 5 min) is a token
// bucket whose tokens return one window after they were spent, so no window
// of that length ever accepts more than the quota. Every request of a
// $batch is metered on its own. Refusals are 429 TooManyRequests with
// Retry-After (the exact, possibly fractional, wait scaled to wall time),
// x-ms-throttle-scope and x-ms-throttle-information.
package faketenant
