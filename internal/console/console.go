// Package console is o365prov's web console, its JSON admin API under
// /api/v1/, the Prometheus endpoint /metrics, and the health endpoints
// /healthz and /readyz.
//
// The console reads the state store and acts through small interfaces it
// declares here (Store, Controller, Check); package provision adapts the
// real engine and directory to them, so the console never reaches into the
// engine. Pages are server-rendered html/template with embedded assets: no
// front-end build step. Every figure a page shows comes from the same view
// functions the API serialises.
package console

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/o365prov/o365prov/internal/state"
)

// Store is what the console reads of the state store, and the one write it
// makes itself: the audit entries of operators' actions.
type Store interface {
	Channel(ctx context.Context, name string) (state.ChannelState, error)
	ResetChannel(ctx context.Context, name string, all bool) error
	Object(ctx context.Context, channel string, kind state.Kind, guid string) (state.Object, error)
	ObjectByDN(ctx context.Context, channel string, kind state.Kind, dn string) (state.Object, error)
	ObjectByGraphID(ctx context.Context, channel string, graphID string) (state.Object, error)
	Objects(ctx context.Context, channel string, kind state.Kind, fn func(state.Object) error) error
	CountObjects(ctx context.Context, channel string, kind state.Kind) (int, error)
	DueRetries(ctx context.Context, channel string, now time.Time, limit int) ([]state.Object, error)
	GroupsOf(ctx context.Context, channel, memberGUID string) ([]string, error)
	Cycles(ctx context.Context, channel string, limit int) ([]state.Cycle, error)
	Plan(ctx context.Context, id string) (state.Plan, error)
	Plans(ctx context.Context, channel string, statuses ...state.PlanStatus) ([]state.Plan, error)
	Audit(ctx context.Context, entries ...state.AuditEntry) error
	QueryAudit(ctx context.Context, q state.AuditQuery) ([]state.AuditEntry, error)
	Leases(ctx context.Context) ([]state.Lease, error)
}

// SyncMode is the kind of cycle an operator asks for.
type SyncMode string

// Sync modes an operator can ask for.
const (
	SyncNow    SyncMode = "incremental" // what changed since the watermark
	SyncFull   SyncMode = "full"        // every entry, deletions included
	SyncVerify SyncMode = "verify"      // full, and repair drift made in Entra
)

// Controller acts on channels. provision adapts the engine's runner to it;
// a console without one is read-only.
type Controller interface {
	// Sync asks the channel's runner for a cycle now.
	Sync(ctx context.Context, channel string, mode SyncMode) error
	// Approve lets a held plan be applied by the channel's next cycle;
	// Reject drops it. by names the operator, for the record.
	Approve(ctx context.Context, channel, planID, by string) error
	Reject(ctx context.Context, channel, planID, by string) error
	// Preview computes what a cycle would do now, applying nothing.
	Preview(ctx context.Context, channel string) (Preview, error)
	// Source reads an object's directory entry and what the channel's
	// mapping makes of it now.
	Source(ctx context.Context, channel string, kind state.Kind, dn string) (SourceEntry, error)
}

// Preview is a plan computed on demand.
type Preview struct {
	ID       string         `json:"id"`
	Mode     string         `json:"mode"`
	Held     string         `json:"held,omitempty"`
	Counts   map[string]int `json:"counts"`
	Ops      []PlanOp       `json:"ops"`
	Problems []string       `json:"problems,omitempty"`
}

// SourceEntry is an object as the directory has it now.
type SourceEntry struct {
	DN         string              `json:"dn"`
	Enabled    bool                `json:"enabled"`
	Attributes map[string][]string `json:"attributes"`
	Mapped     map[string]any      `json:"mapped"`
	Error      string              `json:"error,omitempty"` // the mapping's error, if it fails
}

// ErrUnknownChannel: no channel by that name is configured.
var ErrUnknownChannel = errors.New("no such channel")

// Check is one readiness probe: /readyz names each in its answer.
type Check struct {
	Name  string // "store", "token", "directory contoso", …
	Probe func(ctx context.Context) error
}

// ChannelInfo is what the configuration says of a channel.
type ChannelInfo struct {
	Name             string        `json:"name"`
	Active           bool          `json:"active"`
	Interval         time.Duration `json:"-"`
	FullSyncInterval time.Duration `json:"-"`
}

// SignIns is the identity provider's side of the console, when SSO is on.
// The provision package adapts the audit log, the signing keys and the
// tenant's federation settings to it; the console knows nothing of SSO.
type SignIns interface {
	SignInSummary(ctx context.Context) (SignInSummary, error)
}

// SignInSummary is what the Sign-in page shows.
type SignInSummary struct {
	Recent       []SignIn      `json:"recent"`
	Certificates []Certificate `json:"certificates"`
	Domains      []Federation  `json:"domains"`
}

// SignIn is one sign-in attempt, from the audit log. It never holds a
// password.
type SignIn struct {
	Time     time.Time `json:"time"`
	User     string    `json:"user"`         // what the person typed
	DN       string    `json:"dn,omitempty"` // who the directory said they are
	From     string    `json:"from"`         // client address
	Protocol string    `json:"protocol"`     // wsfed | saml2
	Result   string    `json:"result"`       // ok | failed
	Reason   string    `json:"reason,omitempty"`
}

// Certificate is a signing certificate and when it expires.
type Certificate struct {
	Use        string    `json:"use"` // current | next
	Subject    string    `json:"subject"`
	Thumbprint string    `json:"thumbprint"` // SHA-1, as administrators compare them
	NotAfter   time.Time `json:"notAfter"`
	DaysLeft   int       `json:"daysLeft"`
}

// Federation compares a federated domain's settings in the tenant with ours.
type Federation struct {
	Domain    string              `json:"domain"`
	Federated bool                `json:"federated"`       // the tenant has a federation for it
	Error     string              `json:"error,omitempty"` // the tenant could not be read
	Settings  []FederationSetting `json:"settings"`
	Differing int                 `json:"differing"` // settings the tenant has otherwise`
}

// FederationSetting is one setting as the tenant has it and as o365prov
// wants it.
type FederationSetting struct {
	Name    string `json:"name"`
	Tenant  string `json:"tenant"`
	Ours    string `json:"ours"`
	Differs bool   `json:"differs"`
}

// Options configure a Server.
type Options struct {
	Channels []ChannelInfo
	Store    Store
	Control  Controller // nil: read-only
	Checks   []Check
	Monitor  *Monitor // required: metrics, charts and progress
	SignIns  SignIns  // nil: SSO is off
	// Sessions keeps sign-in sessions; nil keeps them in this process's
	// memory (a restart signs everyone out; other nodes do not see them).
	Sessions SessionStore
	// Token is the admin token; empty means no sign-in at all, which
	// Listen allows on loopback only.
	Token string
	// Secure marks the session cookie Secure (the console is served over
	// TLS).
	Secure bool
	Clock  func() time.Time
	Rand   io.Reader
	Logger *slog.Logger
	// Version is shown in the footer.
	Version string
}

// Server is the console's HTTP handler.
type Server struct {
	o        Options
	mux      *http.ServeMux
	routes   []route
	sessions *sessions
	pages    *pages
}

// New builds the console.
func New(o Options) (*Server, error) {
	if o.Store == nil || o.Monitor == nil {
		return nil, errors.New("console: a store and a monitor are required")
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Sessions == nil {
		o.Sessions = NewMemorySessions()
	}
	p, err := loadPages()
	if err != nil {
		return nil, err
	}
	s := &Server{o: o, mux: http.NewServeMux(), sessions: newSessions(o.Sessions, o.Rand, o.Clock), pages: p}
	s.register()
	return s, nil
}

// ServeHTTP serves every request with the security headers.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	securityHeaders(w.Header())
	s.mux.ServeHTTP(w, r)
}

func (s *Server) channel(name string) (ChannelInfo, bool) {
	for _, c := range s.o.Channels {
		if c.Name == name {
			return c, true
		}
	}
	return ChannelInfo{}, false
}
