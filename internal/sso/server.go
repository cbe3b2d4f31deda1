// Package sso is o365prov's identity provider for Microsoft 365: people
// sign in to Entra ID with their directory password through WS-Federation
// (passive, SAML 1.1 tokens, at PingFederate's /idp/prp.wsf) or SAML 2.0
// (/idp/SSO.saml2, SP- and IdP-initiated), rich clients through the
// WS-Trust active profile (/idp/sts.wst, described by MEX at /idp/mex, the
// same SAML 1.1 token as the passive profile), and the tokens name the cloud
// user o365prov provisioned (onPremisesImmutableId and userPrincipalName
// from the same channel mapping).
//
// The package declares what it needs (Directory, Store, Auditor) and the
// provision package adapts the real directory, state store and audit log.
package sso

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"
)

// Directory checks a password and returns the provisioned identity.
//
// Errors: ErrInvalidCredentials (unknown user or wrong password, never told
// apart), ErrAccountDisabled, ErrAccountLocked, ErrPasswordExpired, and
// ErrNotProvisioned (wrapped with the reason) for a user Entra does not
// know as o365prov provisioned them. Anything else is an outage.
type Directory interface {
	Authenticate(ctx context.Context, login, password string) (Identity, error)
}

// Directory answers.
var (
	ErrInvalidCredentials = errors.New("invalid user name or password")
	ErrAccountDisabled    = errors.New("account disabled")
	ErrAccountLocked      = errors.New("account locked")
	ErrPasswordExpired    = errors.New("password expired")
	ErrNotProvisioned     = errors.New("not provisioned to Microsoft 365")
)

// Event is one sign-in attempt or sign-out, for the audit log. It never
// holds a password.
type Event struct {
	Time        time.Time
	Login       string // what the person typed, or the session's UPN
	DN          string
	ImmutableID string
	From        string // client address
	Protocol    string // wsfed | saml2 | wstrust1.3 | wstrust2005
	Operation   string // signIn | signOut
	Result      string // ok | failed
	Reason      string
}

// Auditor records events.
type Auditor interface {
	SignIn(ctx context.Context, e Event) error
}

// Options are the identity provider's settings.
type Options struct {
	BaseURL   string   // public URL, e.g. https://sso.contoso.com
	Issuer    string   // issuer URI; default BaseURL
	Protocols []string // wsfed, saml2; default both
	// ReplyURLs are the only places tokens are posted: wreply, ACS URLs and
	// IdP-initiated RelayState targets. The first is the default.
	ReplyURLs []string
	// RelayStates are the targets an IdP-initiated sign-in may name.
	RelayStates     []string
	SessionLifetime time.Duration // default 8h
	TokenLifetime   time.Duration // default 1h
	Skew            time.Duration // NotBefore this far back; default 3m
	// SecureCookies marks cookies Secure; set under TLS or behind a
	// TLS-terminating proxy.
	SecureCookies bool
	// TrustProxy takes the client address from the last X-Forwarded-For
	// hop (the proxy's).
	TrustProxy bool
	// SignResponse signs SAML 2.0 Responses as well as assertions.
	SignResponse bool
	Lockout      Lockout
	// Organisation is shown on the login page.
	Organisation string
	// LoginHint says what to type, e.g. "alice@contoso.com".
	LoginHint string
	// CorporateNetworks are the client addresses whose sign-ins carry
	// insidecorporatenetwork=true.
	CorporateNetworks []netip.Prefix
}

// Deps are what the identity provider works with.
type Deps struct {
	Keys      Keys
	Directory Directory
	Store     Store
	Audit     Auditor
	Clock     clockwork.Clock
	Random    io.Reader
	Log       *slog.Logger
}

// Server is the identity provider's HTTP side.
type Server struct {
	o       Options
	d       Deps
	tokens  tokenBuilder
	limit   limiter
	pages   *template.Template
	replies map[string]bool
}

// New checks the options and returns a Server.
func New(o Options, d Deps) (*Server, error) {
	if _, err := url.Parse(o.BaseURL); err != nil || o.BaseURL == "" {
		return nil, fmt.Errorf("sso: base URL %q is not a URL", o.BaseURL)
	}
	o.BaseURL = strings.TrimSuffix(o.BaseURL, "/")
	if o.Issuer == "" {
		o.Issuer = o.BaseURL
	}
	if len(o.Protocols) == 0 {
		o.Protocols = []string{"wsfed", "saml2"}
	}
	if len(o.ReplyURLs) == 0 {
		o.ReplyURLs = []string{"https://login.microsoftonline.com/login.srf"}
	}
	if o.SessionLifetime <= 0 {
		o.SessionLifetime = 8 * time.Hour
	}
	if o.TokenLifetime <= 0 {
		o.TokenLifetime = time.Hour
	}
	if o.Skew <= 0 {
		o.Skew = 3 * time.Minute
	}
	if o.Organisation == "" {
		o.Organisation = "your organisation"
	}
	o.Lockout = o.Lockout.withDefaults()
	if d.Keys.Current.Signer == nil || d.Keys.Current.Cert == nil {
		return nil, errors.New("sso: no signing key")
	}
	if d.Directory == nil || d.Store == nil {
		return nil, errors.New("sso: a directory and a store are required")
	}
	if d.Clock == nil {
		d.Clock = clockwork.NewRealClock()
	}
	if d.Random == nil {
		d.Random = rand.Reader
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Audit == nil {
		d.Audit = logAuditor{d.Log}
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	s := &Server{o: o, d: d, pages: pages, replies: map[string]bool{},
		tokens: tokenBuilder{issuer: o.Issuer, signer: signer{key: d.Keys.Current}, random: d.Random},
		limit:  limiter{store: d.Store, l: o.Lockout}}
	for _, r := range o.ReplyURLs {
		s.replies[r] = true
	}
	return s, nil
}

// logAuditor writes events to the log when no audit sink is given.
type logAuditor struct{ log *slog.Logger }

func (l logAuditor) SignIn(_ context.Context, e Event) error {
	l.log.Info("sign-in", "login", e.Login, "from", e.From, "protocol", e.Protocol, "operation", e.Operation, "result", e.Result, "reason", e.Reason)
	return nil
}

func (s *Server) enabled(protocol string) bool {
	for _, p := range s.o.Protocols {
		if p == protocol {
			return true
		}
	}
	return false
}

// Handler serves every endpoint of the identity provider.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	if s.enabled("wsfed") {
		mux.HandleFunc("/idp/prp.wsf", s.serveWSFed)
		mux.HandleFunc("GET /FederationMetadata/2007-06/FederationMetadata.xml", s.serveWSFedMetadata)
		// The active profile issues the same SAML 1.1 token, so it comes
		// with WS-Federation.
		mux.HandleFunc(ActivePath, s.serveActive)
		mux.HandleFunc("GET "+MEXPath, s.serveMEX)
	}
	if s.enabled("saml2") {
		mux.HandleFunc("/idp/SSO.saml2", s.serveSAML2)
		mux.HandleFunc("GET /idp/startSSO.ping", s.serveIdPInitiated)
		mux.HandleFunc("/idp/SLO.saml2", s.serveSLO)
		mux.HandleFunc("GET /idp/metadata.xml", s.serveSAML2Metadata)
	}
	mux.HandleFunc("POST /idp/login", s.serveLogin)
	mux.HandleFunc("GET /idp/signout", s.serveSignOutPage)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	return limitBody(mux)
}

// maxRequestBytes bounds every request body, AuthnRequests included.
const maxRequestBytes = 64 << 10

func limitBody(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxRequestBytes)
		h.ServeHTTP(w, r)
	})
}

// clientAddr is who is signing in, for lockout and the audit log.
func (s *Server) clientAddr(r *http.Request) string {
	if s.o.TrustProxy {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			parts := strings.Split(xff, ",")
			return strings.TrimSpace(parts[len(parts)-1])
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (s *Server) audit(ctx context.Context, e Event) {
	e.Time = s.d.Clock.Now()
	if err := s.d.Audit.SignIn(ctx, e); err != nil {
		s.d.Log.Error("audit sign-in", "login", e.Login, "err", err)
	}
}

// replyAllowed reports whether u is on the allow-list (exact match: a
// prefix or host match would let an attacker pick a path that redirects).
func (s *Server) replyAllowed(u string) bool { return s.replies[u] }
