package faketenant

import (
	"encoding/base64"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"strings"
)

// baseURL is scheme://host of a request, so every link the fake hands out
// points back at itself whatever address it is reached on.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// knowsTenant accepts the tenant GUID or any of its domains, as the
// {tenant} segment of login URLs does (graph.md §9.1).
func (t *Tenant) knowsTenant(seg string) bool {
	if strings.EqualFold(seg, t.tenantID) {
		return true
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.dir.domain(seg) != nil
}

// aadError writes the AADSTS error body of graph.md §9.2.
func (t *Tenant) aadError(w http.ResponseWriter, r *http.Request, status int, errName string, code int, msg string) {
	trace, corr := t.ids.guid(), r.Header.Get("client-request-id")
	if corr == "" {
		corr = t.ids.guid()
	}
	ts := t.wall.Now().UTC().Format("2006-01-02 15:04:05Z")
	body := jsonObject{
		{"error", errName},
		{"error_description", fmt.Sprintf("AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s", code, msg, trace, corr, ts)},
		{"error_codes", []int{code}},
		{"timestamp", ts},
		{"trace_id", trace},
		{"correlation_id", corr},
		{"error_uri", fmt.Sprintf("%s/error?code=%d", baseURL(r), code)},
	}
	w.Header().Set("x-ms-request-id", trace)
	writeLoginJSON(w, status, body)
}

func writeLoginJSON(w http.ResponseWriter, status int, body any) {
	data, _ := marshalNoEscape(body)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.Header().Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_, _ = w.Write(data)
}

// serveToken is POST /{tenant}/oauth2/v2.0/token with client credentials.
func (t *Tenant) serveToken(w http.ResponseWriter, r *http.Request, tenantSeg string) {
	if r.Method != http.MethodPost {
		t.aadError(w, r, http.StatusBadRequest, "invalid_request", 900561, "The endpoint only accepts POST requests. Received a "+r.Method+" request.")
		return
	}
	if !t.knowsTenant(tenantSeg) {
		t.aadError(w, r, http.StatusBadRequest, "invalid_request", 90002, fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.", tenantSeg))
		return
	}
	if err := r.ParseForm(); err != nil {
		t.aadError(w, r, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
		return
	}
	f := r.PostForm
	clientID, secret := f.Get("client_id"), f.Get("client_secret")
	if u, p, ok := r.BasicAuth(); ok {
		clientID, secret = u, p
	}
	if gt := f.Get("grant_type"); gt != "client_credentials" {
		if gt == "" {
			t.aadError(w, r, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
			return
		}
		t.aadError(w, r, http.StatusBadRequest, "unsupported_grant_type", 70003, fmt.Sprintf("The app requested an unsupported grant type '%s'.", gt))
		return
	}
	if clientID == "" {
		t.aadError(w, r, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'client_id'.")
		return
	}
	if !validGraphScope(f.Get("scope")) {
		t.aadError(w, r, http.StatusBadRequest, "invalid_scope", 70011, fmt.Sprintf("The provided value for the input parameter 'scope' isn't valid. The scope %s isn't valid.", f.Get("scope")))
		return
	}
	app := t.apps[strings.ToLower(clientID)]
	if app == nil {
		t.aadError(w, r, http.StatusBadRequest, "unauthorized_client", 700016, fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", clientID, tenantSeg))
		return
	}
	viaCert, ok := t.checkClientCredential(w, r, app, tenantSeg, secret)
	if !ok {
		return
	}
	tok, _, err := t.issueToken(app, viaCert)
	if err != nil {
		t.log.Error("issue token", "err", err)
		t.aadError(w, r, http.StatusInternalServerError, "server_error", 50000, "There was an error issuing a token.")
		return
	}
	secs := int(accessTokenLifetime.Seconds())
	writeLoginJSON(w, http.StatusOK, jsonObject{
		{"token_type", "Bearer"}, {"expires_in", secs}, {"ext_expires_in", secs}, {"access_token", tok},
	})
}

// checkClientCredential verifies the secret or the client assertion and
// writes the AADSTS error when it fails.
func (t *Tenant) checkClientCredential(w http.ResponseWriter, r *http.Request, app *registeredApp, tenantSeg, secret string) (viaCert, ok bool) {
	f := r.PostForm
	assertion := f.Get("client_assertion")
	switch {
	case assertion != "":
		if f.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
			t.aadError(w, r, http.StatusBadRequest, "invalid_request", 70002, "The client_assertion_type parameter must be 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'.")
			return false, false
		}
		if ae := t.verifyAssertion(app, assertion, baseURL(r)); ae != nil {
			t.aadError(w, r, ae.status, "invalid_client", ae.code, ae.msg)
			return false, false
		}
		return true, true
	case secret != "":
		matched, expired := app.checkSecret(secret, t.wall.Now())
		if !matched {
			t.aadError(w, r, http.StatusUnauthorized, "invalid_client", 7000215, fmt.Sprintf("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", app.clientID))
			return false, false
		}
		if expired {
			t.aadError(w, r, http.StatusUnauthorized, "invalid_client", 7000222, fmt.Sprintf("The provided client secret keys for app '%s' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.", app.clientID))
			return false, false
		}
		return false, true
	default:
		t.aadError(w, r, http.StatusUnauthorized, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
		return false, false
	}
}

// validGraphScope accepts .default for Graph, plus the OIDC scopes MSAL
// always appends (openid, profile, offline_access).
func validGraphScope(scope string) bool {
	found := false
	for _, s := range strings.Fields(scope) {
		switch strings.ToLower(s) {
		case "openid", "profile", "offline_access":
		case graphAudience + "/.default", graphAudience + "//.default", graphAppID + "/.default":
			found = true
		default:
			return false
		}
	}
	return found
}

// serveOpenIDConfig is GET /{tenant}/v2.0/.well-known/openid-configuration,
// shaped like Entra's, with every endpoint on this server. MSAL reads
// token_endpoint, authorization_endpoint and issuer, and wants the issuer on
// the authority's scheme and host.
func (t *Tenant) serveOpenIDConfig(w http.ResponseWriter, r *http.Request, tenantSeg string) {
	if !t.knowsTenant(tenantSeg) {
		t.aadError(w, r, http.StatusBadRequest, "invalid_tenant", 90002, fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.", tenantSeg))
		return
	}
	b, tid := baseURL(r), t.tenantID
	host := r.Host
	writeLoginJSON(w, http.StatusOK, jsonObject{
		{"token_endpoint", b + "/" + tid + "/oauth2/v2.0/token"},
		{"token_endpoint_auth_methods_supported", []string{"client_secret_post", "private_key_jwt", "client_secret_basic"}},
		{"jwks_uri", b + "/" + tid + "/discovery/v2.0/keys"},
		{"response_modes_supported", []string{"query", "fragment", "form_post"}},
		{"subject_types_supported", []string{"pairwise"}},
		{"id_token_signing_alg_values_supported", []string{"RS256"}},
		{"response_types_supported", []string{"code", "id_token", "code id_token", "id_token token"}},
		{"scopes_supported", []string{"openid", "profile", "email", "offline_access"}},
		{"issuer", b + "/" + tid + "/v2.0"},
		{"request_uri_parameter_supported", false},
		{"userinfo_endpoint", b + "/oidc/userinfo"},
		{"authorization_endpoint", b + "/" + tid + "/oauth2/v2.0/authorize"},
		{"device_authorization_endpoint", b + "/" + tid + "/oauth2/v2.0/devicecode"},
		{"http_logout_supported", true},
		{"frontchannel_logout_supported", true},
		{"end_session_endpoint", b + "/" + tid + "/oauth2/v2.0/logout"},
		{"claims_supported", []string{"sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"}},
		{"kerberos_endpoint", b + "/" + tid + "/kerberos"},
		{"tenant_region_scope", "NA"},
		{"cloud_instance_name", host},
		{"cloud_graph_host_name", host},
		{"msgraph_host", host},
		{"rbac_url", b},
	})
}

// serveInstanceDiscovery is GET /common/discovery/instance (api-version 1.1),
// which MSAL may call before trusting an authority host.
func (t *Tenant) serveInstanceDiscovery(w http.ResponseWriter, r *http.Request) {
	ae := r.URL.Query().Get("authorization_endpoint")
	u, err := url.Parse(ae)
	if ae == "" || err != nil || u.Host == "" {
		t.aadError(w, r, http.StatusBadRequest, "invalid_instance", 50049, "Unknown or invalid instance.")
		return
	}
	tenantSeg := strings.Split(strings.Trim(u.Path, "/"), "/")[0]
	if tenantSeg == "" {
		tenantSeg = "common"
	}
	writeLoginJSON(w, http.StatusOK, jsonObject{
		{"tenant_discovery_endpoint", fmt.Sprintf("%s://%s/%s/v2.0/.well-known/openid-configuration", u.Scheme, u.Host, tenantSeg)},
		{"api-version", "1.1"},
		{"metadata", []jsonObject{{
			{"preferred_network", u.Host}, {"preferred_cache", u.Host}, {"aliases", []string{u.Host}},
		}}},
	})
}

// serveKeys publishes the token signing key as a JWKS.
func (t *Tenant) serveKeys(w http.ResponseWriter, r *http.Request) {
	pub := &t.signer.key.PublicKey
	writeLoginJSON(w, http.StatusOK, jsonObject{{"keys", []jsonObject{{
		{"kty", "RSA"}, {"use", "sig"}, {"kid", t.signer.kid}, {"x5t", t.signer.kid},
		{"n", b64url(pub.N.Bytes())}, {"e", b64url(big.NewInt(int64(pub.E)).Bytes())},
		{"x5c", []string{base64.StdEncoding.EncodeToString(t.signer.cert.Raw)}},
		{"issuer", "https://sts.windows.net/" + t.tenantID + "/"},
	}}}})
}

func b64url(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
