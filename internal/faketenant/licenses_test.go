package faketenant

import (
	"net/http"
	"strings"
	"testing"
)

const (
	e3 = "6fd2c87f-b296-42f0-b197-1e91e994b900"
	e5 = "c7df2760-2c81-4ef7-b578-5b5392b571df"
)

func assign(add []map[string]any, remove []string) map[string]any {
	if add == nil {
		add = []map[string]any{}
	}
	if remove == nil {
		remove = []string{}
	}
	return map[string]any{"addLicenses": add, "removeLicenses": remove}
}

func TestLicenses(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.SKUs[1].Units = 1 }) // one E5 unit
	u := f.createUser("lic", nil)

	t.Run("graph.md §3.1: without usageLocation assignLicense is 400 with the documented message", func(t *testing.T) {
		r := f.call(http.MethodPost, "/v1.0/users/"+u+"/assignLicense", assign([]map[string]any{{"skuId": e3}}, nil))
		want(t, r, http.StatusBadRequest, "Request_BadRequest")
		if r.errMessage() != "License assignment cannot be done for user with invalid usage location." {
			t.Fatalf("message %q", r.errMessage())
		}
	})

	want(t, f.call(http.MethodPatch, "/v1.0/users/"+u, map[string]any{"usageLocation": "US"}), http.StatusNoContent)

	t.Run("graph.md §3.1: an unknown SKU is 400", func(t *testing.T) {
		r := f.call(http.MethodPost, "/v1.0/users/"+u+"/assignLicense", assign([]map[string]any{{"skuId": "11111111-1111-4111-8111-111111111111"}}, nil))
		want(t, r, http.StatusBadRequest)
		if r.errMessage() != "License 11111111-1111-4111-8111-111111111111 does not correspond to a valid company License." {
			t.Fatalf("message %q", r.errMessage())
		}
	})

	t.Run("graph.md §3.1: a malformed GUID is 400", func(t *testing.T) {
		r := f.call(http.MethodPost, "/v1.0/users/"+u+"/assignLicense", assign([]map[string]any{{"skuId": "E3"}}, nil))
		want(t, r, http.StatusBadRequest)
		if !strings.HasPrefix(r.errMessage(), "Cannot convert a primitive value to the expected type 'Edm.Guid'.") {
			t.Fatalf("message %q", r.errMessage())
		}
	})

	t.Run("graph.md §3.1: both arrays are required", func(t *testing.T) {
		want(t, f.call(http.MethodPost, "/v1.0/users/"+u+"/assignLicense", map[string]any{"addLicenses": []any{}}), http.StatusBadRequest)
	})

	t.Run("graph.md §3.1: a licence is 200 with the user and consumes a unit", func(t *testing.T) {
		r := f.call(http.MethodPost, "/v1.0/users/"+u+"/assignLicense", assign([]map[string]any{{"skuId": e5, "disabledPlans": []string{"57ff2da0-773e-42df-b2af-ffb7a2317929"}}}, nil))
		want(t, r, http.StatusOK)
		if r.str("id") != u || !strings.HasSuffix(r.str("@odata.context"), "#users/$entity") {
			t.Fatalf("%s", r.raw)
		}
		if !strings.Contains(string(r.raw), `"assignedLicenses":[{`) || !strings.Contains(string(r.raw), e5) {
			t.Fatalf("the user returned lacks its assignedLicenses: %s", r.raw)
		}
		skus := f.call(http.MethodGet, "/v1.0/subscribedSkus", nil)
		for _, s := range skus.values() {
			if s["skuId"] == e5 && s["consumedUnits"] != float64(1) {
				t.Fatalf("consumedUnits %v", s["consumedUnits"])
			}
		}
	})

	t.Run("graph.md §3.1: a SKU with no free units is 400", func(t *testing.T) {
		other := f.createUser("lic2", map[string]any{"usageLocation": "US"})
		r := f.call(http.MethodPost, "/v1.0/users/"+other+"/assignLicense", assign([]map[string]any{{"skuId": e5}}, nil))
		want(t, r, http.StatusBadRequest)
		if r.errMessage() != "Subscription with SKU "+e5+" does not have any available licenses." {
			t.Fatalf("message %q", r.errMessage())
		}
	})

	t.Run("graph.md §3.3: licenseDetails lists the SKU with disabled plans marked", func(t *testing.T) {
		r := f.call(http.MethodGet, "/v1.0/users/"+u+"/licenseDetails", nil)
		want(t, r, http.StatusOK)
		v := r.values()
		if len(v) != 1 || v[0]["skuPartNumber"] != "ENTERPRISEPREMIUM" {
			t.Fatalf("%s", r.raw)
		}
		for _, p := range v[0]["servicePlans"].([]any) {
			pm := p.(map[string]any)
			if pm["servicePlanName"] == "TEAMS1" && pm["provisioningStatus"] != "Disabled" {
				t.Fatalf("TEAMS1 %v", pm)
			}
		}
	})

	t.Run("graph.md §3.3: users filter on assignedLicenses/any", func(t *testing.T) {
		r := f.call(http.MethodGet, "/v1.0/users?$filter=assignedLicenses/any(x:x/skuId%20eq%20"+e5+")&$select=id,assignedLicenses", nil)
		if len(r.values()) != 1 || r.values()[0]["id"] != u {
			t.Fatalf("%s", r.raw)
		}
	})

	t.Run("graph.md §3.2: subscribedSkus has the documented shape", func(t *testing.T) {
		r := f.call(http.MethodGet, "/v1.0/subscribedSkus", nil)
		s := r.values()[0]
		if s["id"] != DemoTenantID+"_"+e3 || s["capabilityStatus"] != "Enabled" || s["appliesTo"] != "User" {
			t.Fatalf("%v", s)
		}
		pp, _ := s["prepaidUnits"].(map[string]any)
		if _, ok := pp["enabled"]; !ok {
			t.Fatalf("prepaidUnits %v", pp)
		}
		want(t, f.call(http.MethodGet, "/v1.0/subscribedSkus?$filter=skuId%20eq%20'x'", nil), http.StatusBadRequest)
	})

	t.Run("graph.md §3.1: removing a licence frees the unit", func(t *testing.T) {
		want(t, f.call(http.MethodPost, "/v1.0/users/"+u+"/assignLicense", assign(nil, []string{e5})), http.StatusOK)
		for _, s := range f.tenant.SKUs() {
			if s.SkuID == e5 && s.Consumed != 0 {
				t.Fatalf("consumed %d", s.Consumed)
			}
		}
	})

	t.Run("removing a licence the user does not hold is 400", func(t *testing.T) {
		want(t, f.call(http.MethodPost, "/v1.0/users/"+u+"/assignLicense", assign(nil, []string{e5})), http.StatusBadRequest)
	})
}
