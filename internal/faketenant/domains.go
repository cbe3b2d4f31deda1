package faketenant

import (
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
)

func derBase64(c *x509.Certificate) string { return base64.StdEncoding.EncodeToString(c.Raw) }

// federationEnums lists the allowed values of internalDomainFederation's
// enumerations (graph.md §10.2).
func federationEnums() map[string][]string {
	return map[string][]string{
		"preferredAuthenticationProtocol": {"wsFed", "saml", "unknownFutureValue"},
		"promptLoginBehavior":             {"translateToFreshPasswordAuthentication", "nativeSupport", "disabled", "unknownFutureValue"},
		"federatedIdpMfaBehavior":         {"acceptIfMfaDoneByFederatedIdp", "enforceMfaByFederatedIdp", "rejectMfaByFederatedIdp", "unknownFutureValue"},
	}
}

// applyFederation validates body and copies it onto fed; it returns Graph's
// error message, or "" on success.
func applyFederation(fed *federation, body map[string]any, create bool) string {
	enums := federationEnums()
	for k, v := range body {
		if strings.HasPrefix(k, "@odata.") {
			continue
		}
		invalid := fmt.Sprintf("Invalid value specified for property '%s' of resource 'InternalDomainFederation'.", k)
		switch k {
		case "displayName", "issuerUri", "metadataExchangeUri", "passiveSignInUri", "activeSignInUri", "signOutUri":
			s, ok := v.(string)
			if !ok && v != nil {
				return invalid
			}
			fed.props[k] = s
		case "signingCertificate", "nextSigningCertificate":
			s, ok := v.(string)
			if !ok && v != nil {
				return invalid
			}
			if s == "" {
				delete(fed.props, k)
				if k == "nextSigningCertificate" {
					fed.nextCert = nil
				}
				continue
			}
			c, err := parseCertificate([]byte(s))
			if err != nil {
				return invalid
			}
			fed.props[k] = derBase64(c)
			if k == "signingCertificate" {
				fed.cert = c
			} else {
				fed.nextCert = c
			}
		case "isSignedAuthenticationRequestRequired":
			b, ok := v.(bool)
			if !ok {
				return invalid
			}
			fed.props[k] = b
		case "preferredAuthenticationProtocol", "promptLoginBehavior", "federatedIdpMfaBehavior":
			s, _ := v.(string)
			okVal := false
			for _, e := range enums[k] {
				if strings.EqualFold(e, s) {
					fed.props[k], okVal = e, true
				}
			}
			if !okVal {
				return invalid
			}
		default:
			return fmt.Sprintf("Property '%s' does not exist as a declared property or extension property.", k)
		}
	}
	if create {
		if _, ok := fed.props["isSignedAuthenticationRequestRequired"]; !ok {
			fed.props["isSignedAuthenticationRequestRequired"] = false
		}
	}
	return ""
}

func (t *Tenant) domainJSON(d *domain) jsonObject {
	services := []string{"Email", "OfficeCommunicationsOnline"}
	if !d.verified {
		services = []string{}
	}
	validity, notify := d.validityDays, d.notificationDays
	if validity == 0 {
		validity = 2147483647
	}
	if notify == 0 {
		notify = 14
	}
	return jsonObject{
		{"authenticationType", d.authType()}, {"availabilityStatus", nil}, {"id", d.name},
		{"isAdminManaged", true}, {"isDefault", d.isDefault}, {"isInitial", d.isInitial}, {"isRoot", true},
		{"isVerified", d.verified}, {"passwordNotificationWindowInDays", notify},
		{"passwordValidityPeriodInDays", validity}, {"supportedServices", services}, {"state", nil},
	}
}

func (t *Tenant) federationJSON(rc *reqCtx, d *domain, entity bool) jsonObject {
	f := d.fed
	o := jsonObject{}
	if entity {
		o = append(o, kv{"@odata.context", rc.context("domains('" + d.name + "')/federationConfiguration/$entity")})
	}
	o = append(o, kv{"@odata.type", "#microsoft.graph.internalDomainFederation"}, kv{"id", f.id})
	for _, k := range []string{"displayName", "issuerUri", "metadataExchangeUri", "signingCertificate", "passiveSignInUri",
		"preferredAuthenticationProtocol", "activeSignInUri", "signOutUri", "promptLoginBehavior",
		"isSignedAuthenticationRequestRequired", "nextSigningCertificate", "federatedIdpMfaBehavior"} {
		o = append(o, kv{k, f.props[k]})
	}
	return append(o, kv{"signingCertificateUpdateStatus", jsonObject{{"certificateUpdateResult", "Success"}, {"lastRunDateTime", nil}}})
}

func (t *Tenant) listDomains(rc *reqCtx) *gresp {
	t.mu.RLock()
	defer t.mu.RUnlock()
	vals := make([]jsonObject, 0, len(t.dir.domains))
	for _, d := range t.dir.domains {
		vals = append(vals, t.domainJSON(d))
	}
	return jsonResp(http.StatusOK, jsonObject{{"@odata.context", rc.context("domains")}, {"value", vals}})
}

func (t *Tenant) getDomain(rc *reqCtx) *gresp {
	t.mu.RLock()
	defer t.mu.RUnlock()
	d := t.dir.domain(rc.param(0))
	if d == nil {
		return rc.notFound(rc.param(0))
	}
	return jsonResp(http.StatusOK, append(jsonObject{{"@odata.context", rc.context("domains/$entity")}}, t.domainJSON(d)...))
}

// patchDomain is graph.md §10.1: 204. Setting authenticationType to Managed
// removes the federation configuration (the domain is converted).
func (t *Tenant) patchDomain(rc *reqCtx) *gresp {
	body, bad := rc.decodeBody()
	if bad != nil {
		return bad
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	d := t.dir.domain(rc.param(0))
	if d == nil {
		return rc.notFound(rc.param(0))
	}
	for k, v := range body {
		invalid := rc.badRequest(fmt.Sprintf("Invalid value specified for property '%s' of resource 'Domain'.", k))
		switch k {
		case "authenticationType":
			s, _ := v.(string)
			switch {
			case strings.EqualFold(s, "Managed"):
				d.fed = nil
			case strings.EqualFold(s, "Federated") && d.fed != nil:
			default:
				return invalid
			}
		case "isDefault":
			if b, ok := v.(bool); !ok || !b || !d.verified {
				return invalid
			}
			for _, o := range t.dir.domains {
				o.isDefault = false
			}
			d.isDefault = true
		case "passwordValidityPeriodInDays", "passwordNotificationWindowInDays":
			n, ok := v.(float64)
			if !ok || n < 1 {
				return invalid
			}
			if k == "passwordValidityPeriodInDays" {
				d.validityDays = int(n)
			} else {
				d.notificationDays = int(n)
			}
		default:
			return rc.badRequest(fmt.Sprintf("Property '%s' does not exist as a declared property or extension property.", k))
		}
	}
	t.markDirty()
	return noContent()
}

// listFederation is graph.md §10.2: a collection of one, or 404 when the
// domain has none.
func (t *Tenant) listFederation(rc *reqCtx) *gresp {
	t.mu.RLock()
	defer t.mu.RUnlock()
	d := t.dir.domain(rc.param(0))
	if d == nil {
		return rc.notFound(rc.param(0))
	}
	if d.fed == nil {
		return rc.notFound("federationConfiguration")
	}
	return jsonResp(http.StatusOK, jsonObject{
		{"@odata.context", rc.context("domains('" + d.name + "')/federationConfiguration")},
		{"value", []jsonObject{t.federationJSON(rc, d, false)}},
	})
}

// createFederation is graph.md §10.2: 201 with the object; the domain becomes
// Federated. A POST without signingCertificate reproduces the documented
// service bug: 500, yet the domain ends up federated.
func (t *Tenant) createFederation(rc *reqCtx) *gresp {
	body, bad := rc.decodeBody()
	if bad != nil {
		return bad
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	d := t.dir.domain(rc.param(0))
	switch {
	case d == nil:
		return rc.notFound(rc.param(0))
	case d.isInitial:
		return rc.badRequest("Federation cannot be configured on the initial domain of the tenant.")
	case !d.verified:
		return rc.badRequest("The domain must be verified before it can be federated.")
	case d.fed != nil:
		return rc.badRequest("Another object with the same value for property federationConfiguration already exists.",
			errDetail{Code: "ObjectConflict", Message: "The domain is already federated.", Target: "federationConfiguration"})
	}
	fed := &federation{id: t.ids.guid(), props: map[string]any{}}
	if msg := applyFederation(fed, body, true); msg != "" {
		return rc.badRequest(msg)
	}
	d.fed = fed
	t.markDirty()
	if fed.cert == nil {
		return rc.fail(http.StatusInternalServerError, "generalException", "An internal server error occurred.")
	}
	return jsonResp(http.StatusCreated, t.federationJSON(rc, d, true))
}

func (t *Tenant) federationFor(rc *reqCtx) (*domain, *gresp) {
	d := t.dir.domain(rc.param(0))
	if d == nil {
		return nil, rc.notFound(rc.param(0))
	}
	if d.fed == nil || !strings.EqualFold(d.fed.id, rc.param(1)) {
		return nil, rc.notFound(rc.param(1))
	}
	return d, nil
}

func (t *Tenant) getFederation(rc *reqCtx) *gresp {
	t.mu.RLock()
	defer t.mu.RUnlock()
	d, bad := t.federationFor(rc)
	if bad != nil {
		return bad
	}
	return jsonResp(http.StatusOK, t.federationJSON(rc, d, true))
}

// patchFederation returns 200 with the updated object, not 204
// (graph.md §10.2).
func (t *Tenant) patchFederation(rc *reqCtx) *gresp {
	body, bad := rc.decodeBody()
	if bad != nil {
		return bad
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	d, bad := t.federationFor(rc)
	if bad != nil {
		return bad
	}
	next := &federation{id: d.fed.id, props: map[string]any{}, cert: d.fed.cert, nextCert: d.fed.nextCert}
	for k, v := range d.fed.props {
		next.props[k] = v
	}
	if msg := applyFederation(next, body, false); msg != "" {
		return rc.badRequest(msg)
	}
	d.fed = next
	t.markDirty()
	return jsonResp(http.StatusOK, t.federationJSON(rc, d, true))
}

func (t *Tenant) deleteFederation(rc *reqCtx) *gresp {
	t.mu.Lock()
	defer t.mu.Unlock()
	d, bad := t.federationFor(rc)
	if bad != nil {
		return bad
	}
	d.fed = nil
	t.markDirty()
	return noContent()
}

// listOrganization is GET /organization: the tenant itself.
func (t *Tenant) listOrganization(rc *reqCtx) *gresp {
	t.mu.RLock()
	defer t.mu.RUnlock()
	var verified []jsonObject
	for _, d := range t.dir.domains {
		if d.verified {
			verified = append(verified, jsonObject{{"capabilities", "Email, OfficeCommunicationsOnline"},
				{"isDefault", d.isDefault}, {"isInitial", d.isInitial}, {"name", d.name}, {"type", d.authType()}})
		}
	}
	org := jsonObject{{"id", t.tenantID}, {"displayName", t.cfg.Tenant.DisplayName}, {"tenantType", "AAD"}, {"verifiedDomains", verified}}
	return jsonResp(http.StatusOK, jsonObject{{"@odata.context", rc.context("organization")}, {"value", []jsonObject{org}}})
}
