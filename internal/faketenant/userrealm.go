package faketenant

import (
	"net/http"
	"strings"
)

// serveUserRealm is GET /common/userrealm/{upn}?api-version=1.0, the
// user-realm discovery MSAL runs before a password grant: a managed domain
// is Managed; a federated one is Federated with where its MEX and active
// endpoint are, which the client then uses itself (docs/sso.md, "Rich
// clients"). A domain the tenant does not have is Unknown.
func (t *Tenant) serveUserRealm(w http.ResponseWriter, r *http.Request, upn string) {
	if r.Method != http.MethodGet {
		t.aadError(w, r, http.StatusBadRequest, "invalid_request", 900561, "The endpoint only accepts GET requests. Received a "+r.Method+" request.")
		return
	}
	_, dom, _ := strings.Cut(upn, "@")
	body := jsonObject{{"ver", "1.0"}}
	t.mu.RLock()
	d := t.dir.domain(dom)
	if dom == "" || d == nil {
		t.mu.RUnlock()
		body = append(body, jsonObject{{"account_type", "Unknown"}, {"cloud_instance_name", "microsoftonline.com"}, {"cloud_audience_urn", msOnlineRealm}}...)
		writeLoginJSON(w, http.StatusOK, body)
		return
	}
	body = append(body, jsonObject{{"account_type", d.authType()}, {"domain_name", d.name}}...)
	if d.fed != nil {
		protocol := "WSTrust"
		if p, _ := d.fed.props["preferredAuthenticationProtocol"].(string); p == "saml" {
			protocol = "SAML20"
		}
		body = append(body, jsonObject{{"federation_protocol", protocol}}...)
		if mex, _ := d.fed.props["metadataExchangeUri"].(string); mex != "" {
			body = append(body, jsonObject{{"federation_metadata_url", mex}}...)
		}
		if active, _ := d.fed.props["activeSignInUri"].(string); active != "" {
			body = append(body, jsonObject{{"federation_active_auth_url", active}}...)
		}
	}
	t.mu.RUnlock()
	body = append(body, jsonObject{{"cloud_instance_name", "microsoftonline.com"}, {"cloud_audience_urn", msOnlineRealm}}...)
	writeLoginJSON(w, http.StatusOK, body)
}
