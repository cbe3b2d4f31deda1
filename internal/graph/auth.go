package graph

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/cache"
	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"

	"github.com/o365prov/o365prov/internal/config"
)

// TokenSource hands out bearer tokens for Graph. The client calls Token for
// every request, so it must be cheap once a token is cached.
type TokenSource interface {
	Token(ctx context.Context) (string, error)
	// Invalidate forgets token if it is still the current one: Graph
	// refused it (401), and the next Token must fetch a new one. Several
	// requests failing with the same token cause one refresh, not many.
	Invalidate(token string)
}

// refreshMargin renews a token this long before it expires, so a request
// never leaves with a token that dies on the way.
const refreshMargin = 5 * time.Minute

// graphScope is the client-credentials scope for graphURL: all application
// permissions granted to the app (graph.md §9.1). The scope names Graph as a
// resource, not the URL it is reached at: national clouds have their own,
// while a proxy, a private endpoint or the fake tenant still serve
// https://graph.microsoft.com.
func graphScope(graphURL string) string {
	u, err := url.Parse(graphURL)
	if err == nil {
		switch h := strings.ToLower(u.Hostname()); h {
		case "graph.microsoft.us", "dod-graph.microsoft.us", "microsoftgraph.chinacloudapi.cn":
			return "https://" + h + "/.default"
		}
	}
	return "https://graph.microsoft.com/.default"
}

// msalSource gets app-only tokens through MSAL's confidential client and
// caches them itself: MSAL's own cache is disabled (see noCache) so that
// Invalidate really makes the next request fetch a fresh token.
type msalSource struct {
	client confidential.Client
	scopes []string
	now    func() time.Time // wall clock: token lifetimes are wall time

	mu      sync.Mutex
	token   string
	expires time.Time
}

// NewMSALTokenSource builds a TokenSource for target from its client secret
// or, when no secret is set, from its certificate and key PEM files. hc is
// used for every call to the login endpoint (proxy, extra CA).
func NewMSALTokenSource(target config.Target, hc *http.Client) (TokenSource, error) {
	cred, err := credentialFor(target)
	if err != nil {
		return nil, err
	}
	loginURL := strings.TrimRight(orDefault(target.LoginURL, config.DefaultLoginURL), "/")
	authority := loginURL + "/" + url.PathEscape(target.Tenant)
	opts := []confidential.Option{confidential.WithCache(noCache{})}
	if hc != nil {
		opts = append(opts, confidential.WithHTTPClient(hc))
	}
	if !microsoftLoginHost(loginURL) {
		// MSAL would validate an unknown authority against
		// login.microsoftonline.com, which a private cloud, a proxy
		// setup or the fake tenant cannot reach.
		opts = append(opts, confidential.WithInstanceDiscovery(false))
	}
	client, err := confidential.New(authority, target.ClientID, cred, opts...)
	if err != nil {
		return nil, fmt.Errorf("token client for app %s: %w", target.ClientID, err)
	}
	return &msalSource{
		client: client,
		scopes: []string{graphScope(orDefault(target.GraphURL, config.DefaultGraphURL))},
		now:    time.Now,
	}, nil
}

func (s *msalSource) Token(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token != "" && s.now().Before(s.expires.Add(-refreshMargin)) {
		return s.token, nil
	}
	res, err := s.client.AcquireTokenByCredential(ctx, s.scopes)
	if err != nil {
		return "", fmt.Errorf("acquire token: %w", err)
	}
	s.token, s.expires = res.AccessToken, res.ExpiresOn
	return s.token, nil
}

func (s *msalSource) Invalidate(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token == token {
		s.token = ""
	}
}

// credentialFor picks the app's credential: the secret when set, else the
// certificate with its key.
func credentialFor(t config.Target) (confidential.Credential, error) {
	if t.ClientSecret.IsSet() {
		cred, err := confidential.NewCredFromSecret(t.ClientSecret.Value())
		if err != nil {
			return confidential.Credential{}, fmt.Errorf("client secret: %w", err)
		}
		return cred, nil
	}
	if t.ClientCertificate == "" {
		return confidential.Credential{}, errors.New("target: set clientSecret, or clientCertificate and clientKey")
	}
	certPEM, err := os.ReadFile(t.ClientCertificate)
	if err != nil {
		return confidential.Credential{}, fmt.Errorf("client certificate: %w", err)
	}
	pemData := certPEM
	if t.ClientKey != "" && t.ClientKey != t.ClientCertificate {
		keyPEM, err := os.ReadFile(t.ClientKey)
		if err != nil {
			return confidential.Credential{}, fmt.Errorf("client key: %w", err)
		}
		pemData = append(append(append([]byte(nil), certPEM...), '\n'), keyPEM...)
	}
	certs, key, err := confidential.CertFromPEM(pemData, "")
	if err != nil {
		return confidential.Credential{}, fmt.Errorf("client certificate %s: %w", t.ClientCertificate, err)
	}
	cred, err := confidential.NewCredFromCert(certs, key)
	if err != nil {
		return confidential.Credential{}, fmt.Errorf("client certificate %s: %w", t.ClientCertificate, err)
	}
	return cred, nil
}

func microsoftLoginHost(loginURL string) bool {
	u, err := url.Parse(loginURL)
	if err != nil {
		return false
	}
	switch strings.ToLower(u.Hostname()) {
	case "login.microsoftonline.com", "login.microsoftonline.us", "login.partner.microsoftonline.cn",
		"login.windows.net", "login.microsoft.com", "sts.windows.net":
		return true
	}
	return false
}

// noCache keeps MSAL's token cache empty: msalSource caches the one token
// it needs and must be able to drop it.
type noCache struct{}

func (noCache) Replace(_ context.Context, c cache.Unmarshaler, _ cache.ReplaceHints) error {
	return c.Unmarshal([]byte("{}"))
}

func (noCache) Export(context.Context, cache.Marshaler, cache.ExportHints) error { return nil }

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}
