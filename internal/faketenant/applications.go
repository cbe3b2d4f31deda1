package faketenant

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// appIDFilter is the one $filter GET /applications serves: the lookup of
// an app registration by its appId (client id), which a provisioner makes
// to learn when its own credentials expire.
var appIDFilter = regexp.MustCompile(`^appId eq '([0-9A-Fa-f-]{36})'$`)

// listApplications is GET /applications?$filter=appId eq '…': the app
// registration with its passwordCredentials and keyCredentials, their
// values left out as Graph leaves them out (the fake gives no hint either).
// A secret configured without expiry has a null endDateTime.
func (t *Tenant) listApplications(rc *reqCtx) *gresp {
	m := appIDFilter.FindStringSubmatch(strings.TrimSpace(rc.query.Get("$filter")))
	if m == nil {
		return rc.unsupportedQuery("this fake serves /applications only with $filter=appId eq '{clientId}'")
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	vals := []jsonObject{}
	if a := t.apps[strings.ToLower(m[1])]; a != nil {
		vals = append(vals, t.applicationJSON(a))
	}
	return jsonResp(http.StatusOK, jsonObject{{"@odata.context", rc.context("applications")}, {"value", vals}})
}

func (t *Tenant) applicationJSON(a *registeredApp) jsonObject {
	passwords := make([]jsonObject, 0, len(a.secrets))
	for i, s := range a.secrets {
		var end any // a secret configured without expiry has none
		if !s.expires.IsZero() {
			end = s.expires.UTC().Format(time.RFC3339)
		}
		passwords = append(passwords, jsonObject{
			{"customKeyIdentifier", nil}, {"displayName", fmt.Sprintf("secret %d", i+1)},
			{"endDateTime", end}, {"hint", nil},
			{"keyId", fmt.Sprintf("%08x-0000-4000-8000-%012x", i+1, i+1)}, {"secretText", nil},
			{"startDateTime", nil},
		})
	}
	keys := make([]jsonObject, 0, len(a.certs))
	for i, c := range a.certs {
		keys = append(keys, jsonObject{
			{"customKeyIdentifier", fmt.Sprintf("%X", c.sha1)}, {"displayName", c.cert.Subject.String()},
			{"endDateTime", c.cert.NotAfter.UTC().Format(time.RFC3339)}, {"keyId", fmt.Sprintf("%08x-0000-4000-8000-%012x", i+101, i+101)},
			{"startDateTime", c.cert.NotBefore.UTC().Format(time.RFC3339)}, {"type", "AsymmetricX509Cert"}, {"usage", "Verify"},
		})
	}
	return jsonObject{
		{"id", a.spID}, {"appId", a.clientID}, {"displayName", a.name},
		{"passwordCredentials", passwords}, {"keyCredentials", keys},
	}
}
