package provision

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/o365prov/o365prov/internal/config"
	"github.com/o365prov/o365prov/internal/directory"
	"github.com/o365prov/o365prov/internal/mapping"
	"github.com/o365prov/o365prov/internal/sso"
	"github.com/o365prov/o365prov/internal/state"
)

// IdP is the assembled identity provider: its HTTP side, and the
// directory connection it checks passwords on.
type IdP struct {
	Server *sso.Server
	Keys   sso.Keys
	dir    *directory.Directory
}

// Close releases the identity provider's directory connection.
func (p *IdP) Close() error { return p.dir.Close() }

// SSOKeys returns the signing keys the configuration names: PEM files, or
// the keys kept (sealed) in the state store, generated on first use.
func SSOKeys(ctx context.Context, cfg *config.Config, st state.Store) (sso.Keys, error) {
	s := cfg.SSO
	if config.IsPKCS12(s.SigningKey) {
		kp, err := sso.LoadPKCS12File(s.SigningKey, s.SigningKeyPassword.Value())
		if err != nil {
			return sso.Keys{}, err
		}
		return sso.Keys{Current: kp}, nil
	}
	if s.SigningKey != "" {
		kp, err := sso.LoadPEMFiles(s.SigningKey, s.SigningCertificate)
		if err != nil {
			return sso.Keys{}, err
		}
		return sso.Keys{Current: kp}, nil
	}
	return KeyVault(cfg, st).Load(ctx)
}

// KeyVault is where generated signing keys are kept.
func KeyVault(cfg *config.Config, st state.Store) sso.KeyVault {
	subject := cfg.SSO.Issuer
	if u, err := url.Parse(cfg.SSO.BaseURL); err == nil && u.Hostname() != "" {
		subject = u.Hostname()
	}
	return sso.KeyVault{Store: settings{st}, Secret: cfg.SSO.KeyEncryptionKey.Value(), Random: rand.Reader, Now: time.Now, Subject: subject}
}

// OpenIdP assembles the identity provider of cfg.SSO on the system's
// state store. store keeps sessions, sign-ins in progress and lockout
// counters.
func (s *System) OpenIdP(ctx context.Context, store sso.Store, log *slog.Logger) (*IdP, error) {
	cfg := s.Config
	if cfg.SSO == nil {
		return nil, errors.New("the configuration has no sso section")
	}
	keys, err := SSOKeys(ctx, cfg, s.Store)
	if err != nil {
		return nil, fmt.Errorf("sso signing keys: %w", err)
	}
	ch, ok := cfg.Channel(cfg.SSO.LoginSource)
	if !ok {
		return nil, fmt.Errorf("sso.loginSource %q names no channel", cfg.SSO.LoginSource)
	}
	adapter, err := newLoginDirectory(ctx, *ch, cfg.SSO.LoginAttribute, s.Store, log)
	if err != nil {
		return nil, err
	}
	srv, err := sso.New(SSOOptions(cfg), sso.Deps{
		Keys: keys, Directory: adapter, Store: store, Audit: auditSink{st: s.Store, channel: ch.Name, metrics: s.signInMetrics},
		Clock: clockwork.NewRealClock(), Log: log,
	})
	if err != nil {
		adapter.d.Close()
		return nil, err
	}
	reportCertificates(s.signInMetrics, keys)
	return &IdP{Server: srv, Keys: keys, dir: adapter.d}, nil
}

// SSOOptions translates the sso section.
func SSOOptions(cfg *config.Config) sso.Options {
	s := cfg.SSO
	org := s.Organisation
	if org == "" && len(s.Domains) > 0 {
		org = s.Domains[0]
	}
	var corp []netip.Prefix
	for _, n := range s.CorporateNetworks {
		if p, err := netip.ParsePrefix(n); err == nil { // config validation refused the rest
			corp = append(corp, p.Masked())
		}
	}
	return sso.Options{
		BaseURL: s.BaseURL, Issuer: s.Issuer, Protocols: s.Protocols, ReplyURLs: s.ReplyURLs, RelayStates: s.RelayStates,
		SessionLifetime: s.SessionLifetime, SecureCookies: s.TLS != nil || s.BehindProxy || strings.HasPrefix(s.BaseURL, "https://"),
		TrustProxy: s.BehindProxy, SignResponse: s.SignResponse, Organisation: org, CorporateNetworks: corp,
	}
}

// loginDirectory checks passwords against the loginSource channel's
// directory and names the user as that channel provisioned them.
type loginDirectory struct {
	d         *directory.Directory
	channel   string
	loginAttr string
	users     *mapping.Mapper
	attrs     []string
	store     state.Store
}

func newLoginDirectory(ctx context.Context, ch config.Channel, loginAttr string, st state.Store, log *slog.Logger, opts ...directory.Option) (*loginDirectory, error) {
	users, errs := mapping.Compile(mapping.User, ch.Mapping.User, mapping.Options{Base64ImmutableID: ch.Options.Base64ImmutableID})
	if len(errs) > 0 {
		return nil, fmt.Errorf("channel %s: user mapping: %v", ch.Name, errs[0])
	}
	if loginAttr == "" {
		loginAttr = "mail"
		if ch.Source.Type == config.ActiveDirectory {
			loginAttr = "userPrincipalName"
		}
	}
	attrs := []string{"*"}
	if !users.AllAttributes() {
		attrs = append(users.Attributes(), "displayName")
	}
	d, err := directory.Open(ctx, ch.Source, append([]directory.Option{directory.WithLogger(log.With("component", "sso-directory", "channel", ch.Name))}, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("sso login source %s: %w", ch.Name, err)
	}
	return &loginDirectory{d: d, channel: ch.Name, loginAttr: loginAttr, users: users, attrs: attrs, store: st}, nil
}

// Authenticate binds as the user, then maps the entry as the channel does
// and requires the user to be provisioned and active in Entra.
func (l *loginDirectory) Authenticate(ctx context.Context, login, password string) (sso.Identity, error) {
	e, err := l.d.Authenticate(ctx, l.loginAttr, login, password, l.attrs)
	switch {
	case errors.Is(err, directory.ErrInvalidCredentials):
		return sso.Identity{}, sso.ErrInvalidCredentials
	case errors.Is(err, directory.ErrAccountDisabled):
		return sso.Identity{}, sso.ErrAccountDisabled
	case errors.Is(err, directory.ErrAccountLocked):
		return sso.Identity{}, sso.ErrAccountLocked
	case errors.Is(err, directory.ErrPasswordExpired):
		return sso.Identity{}, sso.ErrPasswordExpired
	case err != nil:
		return sso.Identity{}, err
	}
	desired, err := l.users.Map(mapping.Entry{DN: e.DN, GUID: e.GUID, RawGUID: e.RawGUID, Enabled: e.Enabled, Attributes: e.Attributes})
	if err != nil {
		return sso.Identity{}, fmt.Errorf("%w: the channel's mapping fails for this user (%v)", sso.ErrNotProvisioned, err)
	}
	o, err := l.store.Object(ctx, l.channel, state.KindUser, e.GUID)
	if errors.Is(err, state.ErrNotFound) {
		return sso.Identity{}, fmt.Errorf("%w: channel %s has not provisioned %s", sso.ErrNotProvisioned, l.channel, e.DN)
	}
	if err != nil {
		return sso.Identity{}, fmt.Errorf("read provisioning state: %w", err)
	}
	if o.Lifecycle != state.LifecycleActive || o.GraphID == "" {
		return sso.Identity{}, fmt.Errorf("%w: %s is %s in Microsoft 365 (last result %s %s)", sso.ErrNotProvisioned, e.DN, o.Lifecycle, o.Status, o.LastError)
	}
	// The token names the cloud user as provisioned: the applied values
	// win over what the mapping would write now (a rename not yet synced).
	iid := appliedString(o, "onPremisesImmutableId", desired.String("onPremisesImmutableId"))
	upn := appliedString(o, "userPrincipalName", desired.String("userPrincipalName"))
	if iid == "" || upn == "" {
		return sso.Identity{}, fmt.Errorf("%w: %s has no onPremisesImmutableId or userPrincipalName", sso.ErrNotProvisioned, e.DN)
	}
	return sso.Identity{ImmutableID: iid, UPN: upn, DisplayName: e.First("displayName"), DN: e.DN}, nil
}

func appliedString(o state.Object, field, fallback string) string {
	raw, ok := o.Applied[field]
	if !ok {
		return fallback
	}
	var s string
	if err := json.Unmarshal([]byte(raw), &s); err != nil || s == "" {
		return fallback
	}
	return s
}

// settings adapts the state store's settings for the key vault.
type settings struct{ st state.Store }

func (s settings) Setting(ctx context.Context, key string) ([]byte, error) {
	v, err := s.st.Setting(ctx, key)
	if errors.Is(err, state.ErrNotFound) {
		return nil, sso.ErrNoSetting
	}
	return v, err
}

func (s settings) PutSetting(ctx context.Context, key string, value []byte) error {
	return s.st.PutSetting(ctx, key, value)
}

// auditSink writes sign-ins to the audit log and counts them.
type auditSink struct {
	st      state.Store
	channel string
	metrics SignInMetrics // nil: none
}

func (a auditSink) SignIn(ctx context.Context, e sso.Event) error {
	if a.metrics != nil && e.Operation == "signIn" {
		a.metrics.SignIn(signInResult(e))
	}
	return a.st.Audit(ctx, state.AuditEntry{Time: e.Time, Channel: a.channel, Kind: state.KindUser, DN: e.DN,
		Operation: e.Operation, Result: e.Result, Detail: signInDetail(e)})
}

// SSOStore is where the identity provider keeps sessions, sign-ins in
// progress, answered request ids and lockout counters: the state store
// when it can (so every node of a cluster honours them), else memory.
func SSOStore(st state.Store) sso.Store {
	if is, ok := st.(state.ItemStore); ok {
		return itemStore{is}
	}
	return sso.NewMemoryStore()
}

// PruneSSOItems drops expired items (the identity provider's and the
// console's sessions alike) now and then until ctx ends.
func PruneSSOItems(ctx context.Context, st state.Store, every time.Duration, log *slog.Logger) {
	is, ok := st.(state.ItemStore)
	if !ok {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := is.PruneItems(ctx, time.Now()); err != nil && ctx.Err() == nil {
				log.Warn("prune expired sign-in sessions", "err", err)
			}
		}
	}
}

type itemStore struct{ is state.ItemStore }

func (s itemStore) PutItem(ctx context.Context, key string, value []byte, expires time.Time) error {
	return s.is.PutItem(ctx, key, value, expires)
}

func (s itemStore) Item(ctx context.Context, key string, now time.Time) ([]byte, error) {
	v, err := s.is.Item(ctx, key, now)
	if errors.Is(err, state.ErrNotFound) {
		return nil, sso.ErrNoItem
	}
	return v, err
}

func (s itemStore) DeleteItem(ctx context.Context, key string) error {
	return s.is.DeleteItem(ctx, key)
}

func (s itemStore) AddItem(ctx context.Context, key string, value []byte, expires, now time.Time) (bool, error) {
	return s.is.AddItem(ctx, key, value, expires, now)
}

func (s itemStore) Increment(ctx context.Context, key string, expires, now time.Time) (int, error) {
	return s.is.Increment(ctx, key, expires, now)
}

func (s itemStore) Count(ctx context.Context, key string, now time.Time) (int, error) {
	return s.is.Count(ctx, key, now)
}
