package faketenant

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
)

func assignedLicensesJSON(u *object) []map[string]any {
	out := make([]map[string]any, 0, len(u.licenses))
	for _, l := range u.licenses {
		dp := l.Disabled
		if dp == nil {
			dp = []string{}
		}
		out = append(out, map[string]any{"disabledPlans": dp, "skuId": l.SkuID})
	}
	return out
}

// serviceOf approximates assignedPlan.service from the plan name; the
// catalogue has plan names, not service names.
func serviceOf(plan string) string {
	for _, m := range []struct{ prefix, service string }{
		{"EXCHANGE", "exchange"}, {"SHAREPOINT", "SharePoint"}, {"MCO", "MicrosoftCommunicationsOnline"},
		{"TEAMS", "TeamspaceAPI"}, {"INTUNE", "SCO"}, {"AAD_PREMIUM", "AADPremiumService"}, {"MFA", "MultiFactorService"},
		{"RMS", "RMSOnline"}, {"YAMMER", "YammerEnterprise"}, {"OFFICESUBSCRIPTION", "MicrosoftOffice"},
		{"PROJECTWORKMANAGEMENT", "ProjectWorkManagement"}, {"SWAY", "Sway"}, {"FORMS", "OfficeForms"},
	} {
		if strings.HasPrefix(plan, m.prefix) {
			return m.service
		}
	}
	return plan
}

func (t *Tenant) assignedPlansJSON(u *object) []map[string]any {
	out := []map[string]any{}
	for _, l := range u.licenses {
		s := t.dir.sku(l.SkuID)
		if s == nil {
			continue
		}
		for _, p := range s.plans {
			if containsFold(l.Disabled, p.ID) {
				continue
			}
			out = append(out, map[string]any{"assignedDateTime": formatTime(l.Assigned), "capabilityStatus": "Enabled",
				"service": serviceOf(p.Name), "servicePlanId": p.ID})
		}
	}
	return out
}

func containsFold(list []string, s string) bool {
	for _, e := range list {
		if strings.EqualFold(e, s) {
			return true
		}
	}
	return false
}

type licenseChange struct {
	add    []license
	remove []string
}

// parseAssignLicense reads graph.md §3.1's body; both arrays are required.
func parseAssignLicense(rc *reqCtx, body map[string]any) (licenseChange, *gresp) {
	var ch licenseChange
	badGUID := rc.badRequest("Cannot convert a primitive value to the expected type 'Edm.Guid'. See the inner exception for more details.")
	addRaw, okA := body["addLicenses"].([]any)
	remRaw, okR := body["removeLicenses"].([]any)
	if !okA {
		return ch, rc.badRequest("A value is required for property 'addLicenses' of resource 'assignLicense'.")
	}
	if !okR {
		return ch, rc.badRequest("A value is required for property 'removeLicenses' of resource 'assignLicense'.")
	}
	for k := range body {
		if k != "addLicenses" && k != "removeLicenses" {
			return ch, rc.badRequest(fmt.Sprintf("The parameter '%s' in the request payload is not a valid parameter for the operation 'assignLicense'.", k))
		}
	}
	for _, a := range addRaw {
		m, ok := a.(map[string]any)
		if !ok {
			return ch, badGUID
		}
		id, _ := m["skuId"].(string)
		if !isGUID(id) {
			return ch, badGUID
		}
		l := license{SkuID: strings.ToLower(id), Disabled: []string{}}
		if dp, ok := m["disabledPlans"].([]any); ok {
			for _, p := range dp {
				s, _ := p.(string)
				if !isGUID(s) {
					return ch, badGUID
				}
				l.Disabled = append(l.Disabled, strings.ToLower(s))
			}
		}
		ch.add = append(ch.add, l)
	}
	for _, r := range remRaw {
		s, _ := r.(string)
		if !isGUID(s) {
			return ch, badGUID
		}
		ch.remove = append(ch.remove, strings.ToLower(s))
	}
	return ch, nil
}

// assignLicense is POST /users/{id}/assignLicense (graph.md §3.1): checks
// usageLocation, then that each SKU exists, then free units; 200 with the
// user.
func (t *Tenant) assignLicense(rc *reqCtx) *gresp {
	body, bad := rc.decodeBody()
	if bad != nil {
		return bad
	}
	ch, bad := parseAssignLicense(rc, body)
	if bad != nil {
		return bad
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	u, bad := t.userRef(rc, rc.param(0))
	if bad != nil {
		return bad
	}
	if u.str("usageLocation") == "" {
		return rc.badRequest("License assignment cannot be done for user with invalid usage location.")
	}
	if bad := t.checkLicenseChange(rc, u, ch); bad != nil {
		return bad
	}
	t.applyLicenseChange(u, ch)
	t.markDirty()
	// graph.md §3.1: the user comes back with its licences, besides the
	// default properties.
	out := append(jsonObject{{"@odata.context", rc.context("users/$entity")}}, t.render(u, nil, false)...)
	for _, name := range []string{"assignedLicenses", "assignedPlans"} {
		if _, ok := t.schemaOf(u).lookup(name); ok {
			out = append(out, kv{name, t.value(u, name)})
		}
	}
	return jsonResp(http.StatusOK, out)
}

func (t *Tenant) checkLicenseChange(rc *reqCtx, u *object, ch licenseChange) *gresp {
	held := map[string]bool{}
	for _, l := range u.licenses {
		held[l.SkuID] = true
	}
	invalidSku := func(id string) *gresp {
		return rc.badRequest(fmt.Sprintf("License %s does not correspond to a valid company License.", id))
	}
	removing := map[string]bool{}
	for _, id := range ch.remove {
		if t.dir.sku(id) == nil {
			return invalidSku(id)
		}
		if !held[id] {
			return rc.badRequest("User does not have a corresponding license.")
		}
		removing[id] = true
	}
	need := map[string]int{}
	for _, l := range ch.add {
		s := t.dir.sku(l.SkuID)
		if s == nil {
			return invalidSku(l.SkuID)
		}
		if removing[l.SkuID] {
			return rc.badRequest(fmt.Sprintf("License %s cannot be added and removed in the same request.", l.SkuID))
		}
		for _, p := range l.Disabled {
			if !s.plan(p) {
				return rc.badRequest(fmt.Sprintf("Service plan %s is not part of license %s.", p, l.SkuID))
			}
		}
		if !held[l.SkuID] {
			need[l.SkuID]++
		}
	}
	for id, n := range need {
		s := t.dir.sku(id)
		if s.enabled-s.consumed < n {
			return rc.badRequest(fmt.Sprintf("Subscription with SKU %s does not have any available licenses.", id))
		}
	}
	return nil
}

func (t *Tenant) applyLicenseChange(u *object, ch licenseChange) {
	now := t.clock.Now()
	kept := u.licenses[:0:0]
	for _, l := range u.licenses {
		if containsFold(ch.remove, l.SkuID) {
			t.dir.sku(l.SkuID).consumed--
			continue
		}
		kept = append(kept, l)
	}
	for _, a := range ch.add {
		found := false
		for i := range kept {
			if kept[i].SkuID == a.SkuID {
				kept[i].Disabled, found = a.Disabled, true
			}
		}
		if !found {
			a.Assigned = now
			kept = append(kept, a)
			t.dir.sku(a.SkuID).consumed++
		}
	}
	u.licenses = kept
}

func licenseDetailID(userID, skuID string) string {
	sum := sha256.Sum256([]byte(userID + "_" + skuID))
	return base64.RawURLEncoding.EncodeToString(sum[:24])
}

// listLicenseDetails is GET /users/{id}/licenseDetails (graph.md §3.3).
func (t *Tenant) listLicenseDetails(rc *reqCtx) *gresp {
	t.mu.RLock()
	defer t.mu.RUnlock()
	u, bad := t.userRef(rc, rc.param(0))
	if bad != nil {
		return bad
	}
	vals := []jsonObject{}
	for _, l := range u.licenses {
		s := t.dir.sku(l.SkuID)
		if s == nil {
			continue
		}
		plans := make([]jsonObject, 0, len(s.plans))
		for _, p := range s.plans {
			status := "Success"
			if containsFold(l.Disabled, p.ID) {
				status = "Disabled"
			}
			plans = append(plans, jsonObject{{"servicePlanId", p.ID}, {"servicePlanName", p.Name}, {"provisioningStatus", status}, {"appliesTo", "User"}})
		}
		vals = append(vals, jsonObject{{"id", licenseDetailID(u.id, s.skuID)}, {"skuId", s.skuID}, {"skuPartNumber", s.part}, {"servicePlans", plans}})
	}
	sel := rc.query.Get("$select")
	if sel != "" {
		vals = selectFields(vals, sel)
	}
	return jsonResp(http.StatusOK, jsonObject{{"@odata.context", rc.context("users('" + u.id + "')/licenseDetails")}, {"value", vals}})
}

// selectFields keeps only the named fields of plain objects.
func selectFields(vals []jsonObject, sel string) []jsonObject {
	want := map[string]bool{}
	for _, s := range strings.Split(sel, ",") {
		want[strings.ToLower(strings.TrimSpace(s))] = true
	}
	out := make([]jsonObject, 0, len(vals))
	for _, v := range vals {
		var o jsonObject
		for _, e := range v {
			if want[strings.ToLower(e.k)] {
				o = append(o, e)
			}
		}
		out = append(out, o)
	}
	return out
}

func (t *Tenant) skuJSON(s *sku) jsonObject {
	plans := make([]jsonObject, 0, len(s.plans))
	for _, p := range s.plans {
		plans = append(plans, jsonObject{{"servicePlanId", p.ID}, {"servicePlanName", p.Name}, {"provisioningStatus", "Success"}, {"appliesTo", "User"}})
	}
	return jsonObject{
		{"capabilityStatus", "Enabled"}, {"consumedUnits", s.consumed}, {"id", t.tenantID + "_" + s.skuID},
		{"prepaidUnits", jsonObject{{"enabled", s.enabled}, {"suspended", s.suspended}, {"warning", s.warning}, {"lockedOut", 0}}},
		{"servicePlans", plans}, {"skuId", s.skuID}, {"skuPartNumber", s.part}, {"appliesTo", "User"},
	}
}

// listSubscribedSkus is GET /subscribedSkus (graph.md §3.2); it takes no
// OData query options.
func (t *Tenant) listSubscribedSkus(rc *reqCtx) *gresp {
	for k := range rc.query {
		if strings.HasPrefix(k, "$") {
			return rc.fail(http.StatusBadRequest, "BadRequest", fmt.Sprintf("The query parameter '%s' is not supported.", k))
		}
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	vals := make([]jsonObject, 0, len(t.dir.skus))
	for _, s := range t.dir.skus {
		vals = append(vals, t.skuJSON(s))
	}
	return jsonResp(http.StatusOK, jsonObject{{"@odata.context", rc.context("subscribedSkus")}, {"value", vals}})
}

func (t *Tenant) getSubscribedSku(rc *reqCtx) *gresp {
	t.mu.RLock()
	defer t.mu.RUnlock()
	for _, s := range t.dir.skus {
		if strings.EqualFold(t.tenantID+"_"+s.skuID, rc.param(0)) {
			body := jsonObject{{"@odata.context", rc.context("subscribedSkus/$entity")}}
			return jsonResp(http.StatusOK, append(body, t.skuJSON(s)...))
		}
	}
	return rc.notFound(rc.param(0))
}
