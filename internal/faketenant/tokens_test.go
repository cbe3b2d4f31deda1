package faketenant

import (
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const (
	readerClientID = "66666666-7777-4888-9999-000000000000"
	certClientID   = "77777777-8888-4999-8aaa-bbbbbbbbbbbb"
	dirClientID    = "88888888-9999-4aaa-8bbb-cccccccccccc"
	oldClientID    = "99999999-aaaa-4bbb-8ccc-dddddddddddd"
)

// withTestApps adds apps beyond the demo one: a reader, a certificate app,
// a Directory.ReadWrite.All app and one whose only secret has expired.
func withTestApps(c *Config) {
	pemCert, err := os.ReadFile("testdata/app-cert.pem")
	if err != nil {
		panic(err)
	}
	c.Apps = append(c.Apps,
		AppConfig{Name: "reader", ClientID: readerClientID, Secrets: []SecretConfig{{Value: "reader-secret"}}, Permissions: []string{"User.Read.All"}},
		AppConfig{Name: "cert", ClientID: certClientID, Certificates: []CertConfig{{PEM: string(pemCert)}}, Permissions: []string{"User.ReadWrite.All"}},
		AppConfig{Name: "directory", ClientID: dirClientID, Secrets: []SecretConfig{{Value: "dir-secret"}}, Permissions: []string{"Directory.ReadWrite.All"}},
		AppConfig{Name: "old", ClientID: oldClientID, Secrets: []SecretConfig{{Value: "old-secret", Expires: epoch.Add(-time.Hour)}}, Permissions: []string{"User.Read.All"}},
	)
}

type appCredential struct {
	cert *x509.Certificate
	key  *rsa.PrivateKey
}

func loadAppCredential(t *testing.T) appCredential {
	t.Helper()
	cp, _ := os.ReadFile("testdata/app-cert.pem")
	kp, _ := os.ReadFile("testdata/app-cert.key")
	cb, _ := pem.Decode(cp)
	kb, _ := pem.Decode(kp)
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	key, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return appCredential{cert: cert, key: key.(*rsa.PrivateKey)}
}

// assertion builds a client assertion; mutate edits claims and header.
func (ac appCredential) assertion(t *testing.T, method jwt.SigningMethod, aud string, now time.Time, mutate func(jwt.MapClaims, map[string]any)) string {
	t.Helper()
	claims := jwt.MapClaims{"aud": aud, "iss": certClientID, "sub": certClientID, "jti": "j1",
		"nbf": now.Unix(), "iat": now.Unix(), "exp": now.Add(10 * time.Minute).Unix()}
	tok := jwt.NewWithClaims(method, claims)
	if method.Alg() == "RS256" {
		s := sha1.Sum(ac.cert.Raw)
		tok.Header["x5t"] = base64.RawURLEncoding.EncodeToString(s[:])
	} else {
		s := sha256.Sum256(ac.cert.Raw)
		tok.Header["x5t#S256"] = base64.StdEncoding.EncodeToString(s[:]) // as MSAL for Go sends it
	}
	if mutate != nil {
		mutate(claims, tok.Header)
	}
	s, err := tok.SignedString(ac.key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func tokenForm(clientID string, extra ...string) url.Values {
	v := url.Values{"client_id": {clientID}, "grant_type": {"client_credentials"}, "scope": {"https://graph.microsoft.com/.default"}}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	return v
}

func TestTokenEndpoint(t *testing.T) {
	f := newFixture(t, withTestApps)
	tokenPath := "/" + DemoTenantID + "/oauth2/v2.0/token"

	t.Run("graph.md §9.1: a client secret gets a bearer token carrying the app's permissions as roles", func(t *testing.T) {
		r := f.form(tokenPath, tokenForm(DemoClientID, "client_secret", DemoClientSecret))
		want(t, r, http.StatusOK)
		if r.str("token_type") != "Bearer" || r.body["expires_in"].(float64) != 3599 {
			t.Fatalf("token response %s", r.raw)
		}
		claims := jwt.MapClaims{}
		if _, _, err := jwt.NewParser().ParseUnverified(r.str("access_token"), claims); err != nil {
			t.Fatal(err)
		}
		roles, _ := json.Marshal(claims["roles"])
		if !strings.Contains(string(roles), "User.ReadWrite.All") || claims["tid"] != DemoTenantID || claims["aud"] != "https://graph.microsoft.com" {
			t.Fatalf("claims %v", claims)
		}
	})

	t.Run("graph.md §9.1: the tenant may be named by a domain instead of its GUID", func(t *testing.T) {
		r := f.form("/contoso.com/oauth2/v2.0/token", tokenForm(DemoClientID, "client_secret", DemoClientSecret))
		want(t, r, http.StatusOK)
	})

	cases := []struct {
		name      string
		path      string
		form      url.Values
		status    int
		errName   string
		aadsts    int
		forbidden string
	}{
		{"graph.md §9.2: a wrong secret is 401 invalid_client AADSTS7000215 and is not echoed", tokenPath,
			tokenForm(DemoClientID, "client_secret", "not-the-secret"), 401, "invalid_client", 7000215, "not-the-secret"},
		{"graph.md §9.2: an unknown app is AADSTS700016", tokenPath,
			tokenForm("12345678-1234-4234-8234-123456789012", "client_secret", "x"), 400, "unauthorized_client", 700016, ""},
		{"graph.md §9.2: an expired secret is 401 AADSTS7000222", tokenPath,
			tokenForm(oldClientID, "client_secret", "old-secret"), 401, "invalid_client", 7000222, "old-secret"},
		{"graph.md §9.2: an unknown tenant is AADSTS90002", "/nowhere.example/oauth2/v2.0/token",
			tokenForm(DemoClientID, "client_secret", DemoClientSecret), 400, "invalid_request", 90002, ""},
		{"graph.md §9.2: a scope other than Graph's .default is AADSTS70011", tokenPath,
			tokenForm(DemoClientID, "client_secret", DemoClientSecret, "scope", "User.Read"), 400, "invalid_scope", 70011, ""},
		{"graph.md §9.2: no secret and no assertion is AADSTS7000218", tokenPath,
			tokenForm(DemoClientID), 401, "invalid_client", 7000218, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := f.form(tc.path, tc.form)
			want(t, r, tc.status)
			if r.str("error") != tc.errName {
				t.Fatalf("error %q, want %q", r.str("error"), tc.errName)
			}
			codes, _ := r.body["error_codes"].([]any)
			if len(codes) != 1 || int(codes[0].(float64)) != tc.aadsts || !strings.HasPrefix(r.str("error_description"), "AADSTS") {
				t.Fatalf("error_codes %v / description %q, want AADSTS%d", codes, r.str("error_description"), tc.aadsts)
			}
			for _, k := range []string{"timestamp", "trace_id", "correlation_id", "error_uri"} {
				if r.str(k) == "" {
					t.Fatalf("missing %s in %s", k, r.raw)
				}
			}
			if tc.forbidden != "" && strings.Contains(string(r.raw), tc.forbidden) {
				t.Fatal("the response echoes the secret")
			}
		})
	}
}

func TestClientAssertion(t *testing.T) {
	f := newFixture(t, withTestApps)
	ac := loadAppCredential(t)
	tokenPath := "/" + DemoTenantID + "/oauth2/v2.0/token"
	aud := f.srv.URL + tokenPath
	now := epoch

	cases := []struct {
		name   string
		method jwt.SigningMethod
		aud    string
		mutate func(jwt.MapClaims, map[string]any)
		status int
		aadsts int
	}{
		{"graph.md §9.1: an RS256 assertion named by its SHA-1 x5t is accepted", jwt.SigningMethodRS256, aud, nil, 200, 0},
		{"graph.md §9.1: a PS256 assertion named by x5t#S256 is accepted", jwt.SigningMethodPS256, aud, nil, 200, 0},
		{"an assertion for another audience is refused", jwt.SigningMethodRS256, "https://login.microsoftonline.com/other/oauth2/v2.0/token", nil, 401, 700212},
		{"an assertion whose iss is another app is refused", jwt.SigningMethodRS256, aud,
			func(c jwt.MapClaims, _ map[string]any) { c["iss"] = DemoClientID }, 401, 700021},
		{"an assertion whose sub is another app is refused", jwt.SigningMethodRS256, aud,
			func(c jwt.MapClaims, _ map[string]any) { c["sub"] = DemoClientID }, 401, 700021},
		{"an expired assertion is refused", jwt.SigningMethodRS256, aud,
			func(c jwt.MapClaims, _ map[string]any) { c["exp"] = now.Add(-time.Hour).Unix() }, 401, 700024},
		{"an assertion without exp is refused", jwt.SigningMethodRS256, aud,
			func(c jwt.MapClaims, _ map[string]any) { delete(c, "exp") }, 401, 700024},
		{"an assertion naming an unregistered certificate is refused", jwt.SigningMethodRS256, aud,
			func(_ jwt.MapClaims, h map[string]any) { h["x5t"] = "AAAAAAAAAAAAAAAAAAAAAAAAAAA" }, 401, 700027},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := ac.assertion(t, tc.method, tc.aud, now, tc.mutate)
			r := f.form(tokenPath, tokenForm(certClientID, "client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", "client_assertion", a))
			want(t, r, tc.status)
			if tc.aadsts != 0 {
				codes, _ := r.body["error_codes"].([]any)
				if len(codes) == 0 || int(codes[0].(float64)) != tc.aadsts {
					t.Fatalf("body %s, want AADSTS%d", r.raw, tc.aadsts)
				}
			}
		})
	}

	t.Run("an assertion whose signature does not match the registered certificate is refused", func(t *testing.T) {
		a := ac.assertion(t, jwt.SigningMethodRS256, aud, now, nil)
		parts := strings.Split(a, ".")
		sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
		sig[0] ^= 0xff
		parts[2] = base64.RawURLEncoding.EncodeToString(sig)
		r := f.form(tokenPath, tokenForm(certClientID, "client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", "client_assertion", strings.Join(parts, ".")))
		want(t, r, 401)
		if !strings.Contains(r.str("error_description"), "AADSTS700027") {
			t.Fatalf("body %s", r.raw)
		}
	})
}

func TestDiscovery(t *testing.T) {
	f := newFixture(t)

	t.Run("the OpenID configuration names endpoints on the same scheme and host as the authority", func(t *testing.T) {
		r := f.call(http.MethodGet, "/contoso.com/v2.0/.well-known/openid-configuration", nil)
		want(t, r, http.StatusOK)
		for _, k := range []string{"token_endpoint", "authorization_endpoint", "issuer", "jwks_uri"} {
			if !strings.HasPrefix(r.str(k), f.srv.URL+"/") {
				t.Fatalf("%s = %q, want it on %s", k, r.str(k), f.srv.URL)
			}
		}
		if r.str("token_endpoint") != f.srv.URL+"/"+DemoTenantID+"/oauth2/v2.0/token" {
			t.Fatalf("token_endpoint %s", r.str("token_endpoint"))
		}
	})

	t.Run("instance discovery answers in Entra's api-version 1.1 shape", func(t *testing.T) {
		ae := url.QueryEscape(f.srv.URL + "/" + DemoTenantID + "/oauth2/v2.0/authorize")
		r := f.call(http.MethodGet, "/common/discovery/instance?api-version=1.1&authorization_endpoint="+ae, nil)
		want(t, r, http.StatusOK)
		md, _ := r.body["metadata"].([]any)
		if !strings.HasSuffix(r.str("tenant_discovery_endpoint"), "/"+DemoTenantID+"/v2.0/.well-known/openid-configuration") || len(md) != 1 {
			t.Fatalf("discovery %s", r.raw)
		}
	})

	t.Run("the signing keys are published as a JWKS that verifies issued tokens", func(t *testing.T) {
		r := f.call(http.MethodGet, "/"+DemoTenantID+"/discovery/v2.0/keys", nil)
		want(t, r, http.StatusOK)
		keys, _ := r.body["keys"].([]any)
		k := keys[0].(map[string]any)
		if k["kid"] != f.tenant.signer.kid || k["kty"] != "RSA" {
			t.Fatalf("jwks %s", r.raw)
		}
	})
}

func TestGraphAuthentication(t *testing.T) {
	f := newFixture(t, withTestApps)

	cases := []struct {
		name  string
		token string
		msg   string
	}{
		{"graph.md §9.3: no token is 401 InvalidAuthenticationToken 'Access token is empty.'", "", "Access token is empty."},
		{"graph.md §9.3: a token that is not a JWT is 401 with the CompactToken parsing message", "garbage", "CompactToken parsing failed with error code: 80049217"},
		{"a token signed by someone else is 401", forgedToken(t), "Access token validation failure."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := f.callWith(tc.token, http.MethodGet, "/v1.0/users", nil)
			want(t, r, http.StatusUnauthorized, "InvalidAuthenticationToken")
			if r.errMessage() != tc.msg || r.header.Get("WWW-Authenticate") == "" {
				t.Fatalf("message %q, WWW-Authenticate %q", r.errMessage(), r.header.Get("WWW-Authenticate"))
			}
		})
	}

	t.Run("graph.md §9.3: an expired token is 401", func(t *testing.T) {
		tok := f.tokenFor(DemoClientID)
		f.clock.Advance(2 * time.Hour)
		defer f.clock.Set(epoch)
		r := f.callWith(tok, http.MethodGet, "/v1.0/users", nil)
		want(t, r, http.StatusUnauthorized, "InvalidAuthenticationToken")
	})

	t.Run("graph.md §9.3: a missing permission is 403 Authorization_RequestDenied", func(t *testing.T) {
		r := f.callWith(f.tokenFor(readerClientID), http.MethodPost, "/v1.0/users", newUserBody("x"))
		want(t, r, http.StatusForbidden, "Authorization_RequestDenied")
		if r.errMessage() != "Insufficient privileges to complete the operation." {
			t.Fatalf("message %q", r.errMessage())
		}
	})

	t.Run("graph.md §1.5: Directory.ReadWrite.All does not allow user deletion", func(t *testing.T) {
		id := f.createUser("deleteme", nil)
		r := f.callWith(f.tokenFor(dirClientID), http.MethodDelete, "/v1.0/users/"+id, nil)
		want(t, r, http.StatusForbidden, "Authorization_RequestDenied")
	})
}

// forgedToken is a well-formed token with the right claims but a key the
// tenant never saw.
func forgedToken(t *testing.T) string {
	t.Helper()
	kp, _ := os.ReadFile("testdata/idp-signing.key")
	kb, _ := pem.Decode(kp)
	key, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"aud": graphAudience, "iss": "https://sts.windows.net/" + DemoTenantID + "/",
		"appid": DemoClientID, "exp": epoch.Add(time.Hour).Unix(), "nbf": epoch.Unix()})
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// docs/graph.md §14: Graph accepts a token up to about five minutes past
// its exp, the clock skew Entra's token validation allows, and no further.
func TestTokenClockSkew(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		name   string
		past   time.Duration
		status int
	}{
		{"a token one minute past exp is accepted", accessTokenLifetime + time.Minute, http.StatusOK},
		{"a token four minutes past exp is accepted", accessTokenLifetime + 4*time.Minute, http.StatusOK},
		{"a token six minutes past exp is refused", accessTokenLifetime + 6*time.Minute, http.StatusUnauthorized},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f.clock.Set(epoch)
			tok := f.tokenFor(DemoClientID)
			// Used once while fresh, so the verified-token cache holds it too.
			want(t, f.callWith(tok, http.MethodGet, "/v1.0/users", nil), http.StatusOK)
			f.clock.Advance(tc.past)
			want(t, f.callWith(tok, http.MethodGet, "/v1.0/users", nil), tc.status)
		})
	}
	f.clock.Set(epoch)
}
