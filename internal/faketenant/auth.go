package faketenant

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// graphAudience is the aud of app-only tokens for Microsoft Graph.
const graphAudience = "https://graph.microsoft.com"

// graphAppID is Microsoft Graph's well-known application id, also accepted as
// a token audience and scope resource.
const graphAppID = "00000003-0000-0000-c000-000000000000"

// registeredApp is an app registration with its service principal.
type registeredApp struct {
	name     string
	clientID string
	spID     string // service principal object id: the oid of its tokens
	secrets  []appSecret
	certs    []appCert
	perms    map[string]bool
}

type appSecret struct {
	value   string
	expires time.Time
}

type appCert struct {
	cert   *x509.Certificate
	sha1   []byte
	sha256 []byte
}

func (a *registeredApp) roles() []string {
	out := make([]string, 0, len(a.perms))
	for p := range a.perms {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// hasAny reports whether the app holds one of perms (an empty list means no
// permission is needed).
func (a *registeredApp) hasAny(perms []string) bool {
	if len(perms) == 0 {
		return true
	}
	for _, p := range perms {
		if a.perms[p] {
			return true
		}
	}
	return false
}

// buildApps turns the config's app registrations into the runtime registry.
func buildApps(cfg *Config, ids *idSource) (map[string]*registeredApp, error) {
	apps := map[string]*registeredApp{}
	for i, ac := range cfg.Apps {
		a := &registeredApp{name: ac.Name, clientID: strings.ToLower(ac.ClientID), spID: ids.guid(), perms: map[string]bool{}}
		for _, p := range ac.Permissions {
			a.perms[p] = true
		}
		for j, s := range ac.Secrets {
			v := s.Value
			if s.ValueEnv != "" {
				v = os.Getenv(s.ValueEnv)
				if v == "" {
					return nil, fmt.Errorf("apps[%d].secrets[%d]: environment variable %s is empty", i, j, s.ValueEnv)
				}
			}
			a.secrets = append(a.secrets, appSecret{value: v, expires: s.Expires})
		}
		for j, cc := range ac.Certificates {
			data := []byte(cc.PEM)
			if cc.File != "" {
				var err error
				if data, err = os.ReadFile(cfg.resolvePath(cc.File)); err != nil {
					return nil, fmt.Errorf("apps[%d].certificates[%d]: %w", i, j, err)
				}
			}
			cert, err := parseCertificate(data)
			if err != nil {
				return nil, fmt.Errorf("apps[%d].certificates[%d]: %w", i, j, err)
			}
			s1 := sha1.Sum(cert.Raw)
			s2 := sha256.Sum256(cert.Raw)
			a.certs = append(a.certs, appCert{cert: cert, sha1: s1[:], sha256: s2[:]})
		}
		apps[a.clientID] = a
	}
	return apps, nil
}

// parseCertificate reads a certificate as PEM, base64 DER or raw DER.
func parseCertificate(data []byte) (*x509.Certificate, error) {
	if block, _ := pem.Decode(data); block != nil {
		return x509.ParseCertificate(block.Bytes)
	}
	s := strings.Join(strings.Fields(string(data)), "")
	if der, err := base64.StdEncoding.DecodeString(s); err == nil {
		return x509.ParseCertificate(der)
	}
	return x509.ParseCertificate(data)
}

// checkSecret finds the secret; it reports whether one matched and whether
// that one has expired. Comparison is constant-time.
func (a *registeredApp) checkSecret(given string, now time.Time) (matched, expired bool) {
	for _, s := range a.secrets {
		if subtle.ConstantTimeCompare([]byte(s.value), []byte(given)) == 1 {
			return true, !s.expires.IsZero() && now.After(s.expires)
		}
	}
	return false, false
}

// signingKey signs access tokens and SAML requests; its self-signed
// certificate gives the kid/x5t and is what a relying party would trust.
type signingKey struct {
	key  *rsa.PrivateKey
	cert *x509.Certificate
	kid  string
}

func newSigningKey(now time.Time, tenantID string) (*signingKey, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generate token signing key: %w", err)
	}
	return signingKeyFrom(key, now, tenantID)
}

func signingKeyFrom(key *rsa.PrivateKey, now time.Time, tenantID string) (*signingKey, error) {
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "accounts.accesscontrol.windows.net (fake tenant " + tenantID + ")"},
		NotBefore:    now.Add(-24 * time.Hour),
		NotAfter:     now.Add(5 * 365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("self-sign token signing certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	sum := sha1.Sum(der)
	return &signingKey{key: key, cert: cert, kid: base64.RawURLEncoding.EncodeToString(sum[:])}, nil
}

func (k *signingKey) keyPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k.key)})
}

// accessTokenLifetime is what Entra issues to client-credential apps.
const accessTokenLifetime = 3599 * time.Second

// issueToken mints an app-only access token shaped like Entra's v1 tokens
// for Graph, with the app's application permissions as roles.
func (t *Tenant) issueToken(a *registeredApp, viaCert bool) (string, time.Time, error) {
	now := t.wall.Now()
	exp := now.Add(accessTokenLifetime)
	acr := "1"
	if viaCert {
		acr = "2"
	}
	iss := "https://sts.windows.net/" + t.tenantID + "/"
	claims := jwt.MapClaims{
		"aud": graphAudience, "iss": iss, "iat": now.Unix(), "nbf": now.Unix(), "exp": exp.Unix(),
		"app_displayname": a.name, "appid": a.clientID, "appidacr": acr, "idp": iss, "idtyp": "app",
		"oid": a.spID, "sub": a.spID, "roles": a.roles(), "tid": t.tenantID, "uti": t.ids.guid(), "ver": "1.0",
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = t.signer.kid
	tok.Header["x5t"] = t.signer.kid
	s, err := tok.SignedString(t.signer.key)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign access token: %w", err)
	}
	return s, exp, nil
}

// wireError is an error whose text is what Graph puts on the wire, so it
// keeps Graph's capitals and full stops.
type wireError string

func (e wireError) Error() string { return string(e) }

const (
	errTokenEmpty     wireError = "Access token is empty."
	errTokenMalformed wireError = "CompactToken parsing failed with error code: 80049217"
	errTokenExpired   wireError = "Access token has expired or is not yet valid."
	errTokenInvalid   wireError = "Access token validation failure."
	errTokenAudience  wireError = "Access token validation failure. Invalid audience."
)

// tokenClockSkew is how far past exp (or before nbf) a token is still
// accepted: resource servers validating Entra tokens allow about five
// minutes of clock skew (docs/graph.md §14), so a client whose clock is a
// little behind, or that uses a token up to its last second, is not refused.
const tokenClockSkew = 5 * time.Minute

// authenticate validates a bearer token and returns its app; the error's
// text is the message Graph puts in its 401 (graph.md §9.3).
func (t *Tenant) authenticate(header string) (*registeredApp, error) {
	raw, ok := strings.CutPrefix(header, "Bearer ")
	if !ok {
		raw, ok = strings.CutPrefix(header, "bearer ")
	}
	raw = strings.TrimSpace(raw)
	if !ok || raw == "" {
		return nil, errTokenEmpty
	}
	if strings.Count(raw, ".") != 2 {
		return nil, errTokenMalformed
	}
	if a, ok := t.tokens.get(raw, t.wall.Now()); ok {
		return a, nil
	}
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) { return &t.signer.key.PublicKey, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithTimeFunc(t.wall.Now), jwt.WithExpirationRequired(),
		jwt.WithLeeway(tokenClockSkew),
		jwt.WithIssuer("https://sts.windows.net/"+t.tenantID+"/"))
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return nil, errTokenMalformed
	case errors.Is(err, jwt.ErrTokenExpired), errors.Is(err, jwt.ErrTokenNotValidYet):
		return nil, errTokenExpired
	case err != nil:
		return nil, errTokenInvalid
	}
	if aud, _ := claims["aud"].(string); aud != graphAudience && aud != graphAppID {
		return nil, errTokenAudience
	}
	appid, _ := claims["appid"].(string)
	a := t.apps[strings.ToLower(appid)]
	if a == nil {
		return nil, errTokenInvalid
	}
	if exp, err := claims.GetExpirationTime(); err == nil && exp != nil {
		t.tokens.put(raw, a, exp.Time.Add(tokenClockSkew))
	}
	return a, nil
}

// tokenCache remembers tokens already verified, so each request does not
// pay for an RSA verification; entries still expire with their token.
type tokenCache struct {
	mu      sync.Mutex
	entries map[string]cachedToken
}

type cachedToken struct {
	app *registeredApp
	exp time.Time
}

// maxCachedTokens bounds the cache; a client gets a new token hourly.
const maxCachedTokens = 4096

func (c *tokenCache) get(raw string, now time.Time) (*registeredApp, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[raw]
	if !ok || !now.Before(e.exp) {
		return nil, false
	}
	return e.app, true
}

func (c *tokenCache) put(raw string, a *registeredApp, exp time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) >= maxCachedTokens {
		c.entries = map[string]cachedToken{}
	}
	c.entries[raw] = cachedToken{app: a, exp: exp}
}

// thumbprintMatches compares a JWT x5t/x5t#S256 header, which clients encode
// as base64url (RFC 7515) or, like MSAL for Go, as standard base64.
func thumbprintMatches(header string, sum []byte) bool {
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.URLEncoding, base64.StdEncoding, base64.RawStdEncoding} {
		if b, err := enc.DecodeString(header); err == nil && subtle.ConstantTimeCompare(b, sum) == 1 {
			return true
		}
	}
	return false
}

// publicKeyOf returns a certificate's RSA key for assertion checks.
func publicKeyOf(c *x509.Certificate) (crypto.PublicKey, bool) {
	k, ok := c.PublicKey.(*rsa.PublicKey)
	return k, ok
}
