package faketenant

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// assertionSkew is the clock skew Entra tolerates on client assertions.
const assertionSkew = 5 * time.Minute

type assertionError struct {
	status int
	code   int
	msg    string
}

func assertionFail(code int, format string, args ...any) *assertionError {
	return &assertionError{status: http.StatusUnauthorized, code: code, msg: fmt.Sprintf(format, args...)}
}

var errKeyNotFound = errors.New("key not found")

// verifyAssertion checks a certificate credential (graph.md §9.1): an RS256
// or PS256 JWT signed by a registered certificate named by x5t (SHA-1) or
// x5t#S256, with aud = this token endpoint, iss = sub = client_id, and a
// current exp.
func (t *Tenant) verifyAssertion(app *registeredApp, raw, base string) *assertionError {
	claims := jwt.MapClaims{}
	var used *appCert
	var thumb string
	parser := jwt.NewParser(jwt.WithValidMethods([]string{"RS256", "PS256"}), jwt.WithoutClaimsValidation())
	_, err := parser.ParseWithClaims(raw, claims, func(tok *jwt.Token) (any, error) {
		used, thumb = findCert(app, tok.Header)
		if used == nil {
			return nil, errKeyNotFound
		}
		key, ok := publicKeyOf(used.cert)
		if !ok {
			return nil, errors.New("certificate key is not RSA")
		}
		return key, nil
	})
	switch {
	case errors.Is(err, errKeyNotFound):
		return assertionFail(700027, "Client assertion failed signature validation. [Reason - The key was not found., Thumbprint of key used by client: '%s', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '%s'.]", thumb, app.clientID)
	case errors.Is(err, jwt.ErrTokenMalformed):
		return &assertionError{status: http.StatusBadRequest, code: 50027, msg: "JWT token is invalid or malformed."}
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		return assertionFail(700027, "Client assertion failed signature validation. [Reason - The provided signature value did not match the expected signature value., Thumbprint of key used by client: '%s']", thumb)
	case err != nil:
		return &assertionError{status: http.StatusBadRequest, code: 50027, msg: "JWT token is invalid or malformed."}
	}
	now := t.wall.Now()
	if now.Before(used.cert.NotBefore) || now.After(used.cert.NotAfter) {
		return assertionFail(700027, "Client assertion failed signature validation. [Reason - The key used is expired., Thumbprint of key used by client: '%s']", thumb)
	}
	if iss, _ := claims["iss"].(string); !strings.EqualFold(iss, app.clientID) {
		return assertionFail(700021, "Client assertion application identifier doesn't match 'client_id' parameter. Review the documentation at https://docs.microsoft.com/azure/active-directory/develop/active-directory-certificate-credentials .")
	}
	if sub, _ := claims["sub"].(string); !strings.EqualFold(sub, app.clientID) {
		return assertionFail(700021, "Client assertion application identifier doesn't match 'client_id' parameter. Review the documentation at https://docs.microsoft.com/azure/active-directory/develop/active-directory-certificate-credentials .")
	}
	if !t.audienceOK(claims, base) {
		return assertionFail(700212, "No matching federated identity record found for presented assertion audience. The assertion audience must be this tenant's token endpoint.")
	}
	return checkAssertionTimes(claims, now)
}

// checkAssertionTimes requires exp and honours nbf, with Entra's skew.
func checkAssertionTimes(claims jwt.MapClaims, now time.Time) *assertionError {
	exp, err := claims.GetExpirationTime()
	nbf, _ := claims.GetNotBefore()
	outside := err != nil || exp == nil || now.After(exp.Add(assertionSkew)) || (nbf != nil && now.Add(assertionSkew).Before(nbf.Time))
	if !outside {
		return nil
	}
	from, to := "(none)", "(none)"
	if nbf != nil {
		from = nbf.UTC().Format(time.RFC3339)
	}
	if exp != nil {
		to = exp.UTC().Format(time.RFC3339)
	}
	return assertionFail(700024, "Client assertion is not within its valid time range. Current time: %s, assertion valid from %s, expiry time of assertion %s.", now.UTC().Format(time.RFC3339), from, to)
}

// findCert picks the registered certificate the assertion header names.
func findCert(app *registeredApp, h map[string]any) (*appCert, string) {
	if v, ok := h["x5t#S256"].(string); ok && v != "" {
		for i := range app.certs {
			if thumbprintMatches(v, app.certs[i].sha256) {
				return &app.certs[i], v
			}
		}
		return nil, v
	}
	if v, ok := h["x5t"].(string); ok && v != "" {
		for i := range app.certs {
			if thumbprintMatches(v, app.certs[i].sha1) {
				return &app.certs[i], hex.EncodeToString(app.certs[i].sha1)
			}
		}
		return nil, v
	}
	// Without a thumbprint, accept the leaf of x5c if it is registered.
	if chain, ok := h["x5c"].([]any); ok && len(chain) > 0 {
		if s, ok := chain[0].(string); ok {
			der, err := base64.StdEncoding.DecodeString(s)
			if err == nil {
				sum := sha1.Sum(der)
				for i := range app.certs {
					if string(app.certs[i].sha1) == string(sum[:]) {
						return &app.certs[i], hex.EncodeToString(sum[:])
					}
				}
			}
		}
	}
	return nil, ""
}

// audienceOK accepts this server's token endpoint for the tenant id or any
// of its domains, v2.0 or v1.
func (t *Tenant) audienceOK(claims jwt.MapClaims, base string) bool {
	auds, err := claims.GetAudience()
	if err != nil || len(auds) == 0 {
		return false
	}
	names := []string{t.tenantID}
	t.mu.RLock()
	for _, d := range t.dir.domains {
		names = append(names, d.name)
	}
	t.mu.RUnlock()
	for _, aud := range auds {
		a := strings.TrimSuffix(strings.ToLower(aud), "/")
		for _, n := range names {
			for _, suffix := range []string{"/oauth2/v2.0/token", "/oauth2/token"} {
				if a == strings.ToLower(base+"/"+n+suffix) {
					return true
				}
			}
		}
	}
	return false
}
