package faketenant

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestFilterParser(t *testing.T) {
	get := func(m map[string]any) func(string) any { return func(k string) any { return m[k] } }
	user := map[string]any{
		"userPrincipalName": "O'Brien@contoso.com", "displayName": "Pat O'Brien", "accountEnabled": true,
		"proxyAddresses":   []string{"SMTP:pat@contoso.com", "smtp:p@contoso.com"},
		"assignedLicenses": []map[string]any{{"skuId": "6fd2c87f-b296-42f0-b197-1e91e994b900", "disabledPlans": []string{}}},
	}
	cases := []struct {
		filter string
		match  bool
	}{
		{"userPrincipalName eq 'o''brien@contoso.com'", true}, // graph.md §1.3: '' escapes a quote; comparison ignores case
		{"startsWith(displayName,'pat')", true},
		{"displayName in ('x','Pat O''Brien')", true},
		{"accountEnabled eq false", false},
		{"proxyAddresses/any(p:p eq 'smtp:p@contoso.com')", true},
		{"proxyAddresses/any(p:startsWith(p,'SMTP:pat'))", true},
		{"assignedLicenses/any(u:u/skuId eq 6fd2c87f-b296-42f0-b197-1e91e994b900)", true},
		{"accountEnabled eq true and (startsWith(displayName,'x') or endsWith(userPrincipalName,'@contoso.com'))", true},
		{"not (accountEnabled eq true)", false},
		{"mail eq null", true},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s matches: %v", tc.filter, tc.match), func(t *testing.T) {
			e, err := parseFilter(tc.filter)
			if err != nil {
				t.Fatal(err)
			}
			if got := evalFilter(e, get(user)); got != tc.match {
				t.Fatalf("got %v", got)
			}
		})
	}
	for _, bad := range []string{"displayName eq", "displayName eq 'x", "(displayName eq 'x'", "startsWith(displayName)", "displayName like 'x'"} {
		t.Run("malformed: "+bad, func(t *testing.T) {
			if _, err := parseFilter(bad); err == nil {
				t.Fatal("expected a syntax error")
			}
		})
	}
}

func TestListUsers(t *testing.T) {
	f := newFixture(t)
	var ids []string
	for i := 0; i < 250; i++ {
		id, err := f.tenant.AddUser(SeedUser{Properties: map[string]any{
			"userPrincipalName": fmt.Sprintf("u%03d@contoso.com", i), "displayName": fmt.Sprintf("User %03d", i),
			"mailNickname": fmt.Sprintf("u%03d", i), "mail": fmt.Sprintf("u%03d@contoso.com", i),
			"onPremisesImmutableId": fmt.Sprintf("imm%03d", i), "employeeId": fmt.Sprintf("E%03d", i),
			"accountEnabled": i%10 != 0, "usageLocation": "US", "department": "D" + fmt.Sprint(i%3),
		}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	q := func(query string, headers ...string) resp {
		return f.call(http.MethodGet, "/v1.0/users?"+query, nil, headers...)
	}

	t.Run("graph.md §1.3: pages hold 100 by default and nextLink is absolute on this host with $skiptoken", func(t *testing.T) {
		r := q("$select=id,displayName")
		want(t, r, http.StatusOK)
		next := r.str("@odata.nextLink")
		if len(r.values()) != 100 || !strings.HasPrefix(next, f.srv.URL+"/v1.0/users?") || !strings.Contains(next, "$skiptoken=X%27") || !strings.Contains(next, "$select=id,displayName") {
			t.Fatalf("page of %d, nextLink %q", len(r.values()), next)
		}
	})

	t.Run("graph.md §1.3: following nextLinks visits every user exactly once", func(t *testing.T) {
		seen := map[string]bool{}
		next := f.srv.URL + "/v1.0/users?$top=37&$select=id"
		pages := 0
		for next != "" {
			r := f.call(http.MethodGet, next, nil)
			want(t, r, http.StatusOK)
			for _, v := range r.values() {
				if seen[v["id"].(string)] {
					t.Fatalf("%s seen twice", v["id"])
				}
				seen[v["id"].(string)] = true
			}
			next, _ = r.body["@odata.nextLink"].(string)
			pages++
		}
		if len(seen) != 250 || pages != 7 {
			t.Fatalf("%d users over %d pages", len(seen), pages)
		}
	})

	t.Run("graph.md §1.3: $top must be 1..999", func(t *testing.T) {
		for _, top := range []string{"0", "1000", "x"} {
			r := q("$top=" + top)
			want(t, r, http.StatusBadRequest, "Request_BadRequest")
			if r.errMessage() != "Invalid page size specified: '"+top+"'. Must be between 1 and 999 inclusive." {
				t.Fatalf("message %q", r.errMessage())
			}
		}
		if r := q("$top=999"); len(r.values()) != 250 {
			t.Fatalf("$top=999 returned %d", len(r.values()))
		}
	})

	t.Run("graph.md §1.3: /users does not support $skip", func(t *testing.T) {
		want(t, q("$skip=10"), http.StatusBadRequest, "Request_BadRequest")
	})

	filters := []struct {
		name, filter string
		n            int
	}{
		{"userPrincipalName eq", "userPrincipalName eq 'u007@contoso.com'", 1},
		{"userPrincipalName startsWith", "startsWith(userPrincipalName,'u01')", 10},
		{"userPrincipalName in", "userPrincipalName in ('u001@contoso.com','u002@contoso.com','nobody@contoso.com')", 2},
		{"mail eq", "mail eq 'U042@contoso.com'", 1},
		{"onPremisesImmutableId eq", "onPremisesImmutableId eq 'imm100'", 1},
		{"employeeId startsWith", "startsWith(employeeId,'E2')", 50},
		{"accountEnabled eq", "accountEnabled eq false", 25},
		{"displayName ge/le", "displayName ge 'User 240' and displayName le 'User 249'", 10},
		{"usageLocation eq", "usageLocation eq 'US'", 250},
		{"mailNickname eq", "mailNickname eq 'u005'", 1},
		{"proxyAddresses any", "proxyAddresses/any(p:p eq 'smtp:u123@contoso.com')", 1},
		{"id in", "id in ('" + ids[3] + "','" + ids[4] + "')", 2},
	}
	for _, tc := range filters {
		t.Run("graph.md §1.3: "+tc.name+" works without advanced query headers", func(t *testing.T) {
			r := q("$top=999&$filter=" + url.QueryEscape(tc.filter))
			want(t, r, http.StatusOK)
			if len(r.values()) != tc.n {
				t.Fatalf("%d results, want %d", len(r.values()), tc.n)
			}
		})
	}

	t.Run("graph.md §1.3: a filtered result pages too", func(t *testing.T) {
		r := q("$top=20&$filter=" + url.QueryEscape("usageLocation eq 'US'"))
		next, _ := r.body["@odata.nextLink"].(string)
		if len(r.values()) != 20 || !strings.Contains(next, "$filter=") {
			t.Fatalf("page %d, next %q", len(r.values()), next)
		}
	})

	t.Run("graph.md §1.3: an advanced-only filter without ConsistencyLevel is 400 Unsupported Query", func(t *testing.T) {
		for _, flt := range []string{"endsWith(mail,'@contoso.com')", "accountEnabled ne true", "not(accountEnabled eq true)", "department eq 'D1'"} {
			r := q("$filter=" + url.QueryEscape(flt))
			want(t, r, http.StatusBadRequest, "Request_UnsupportedQuery")
			if r.errMessage() != "Unsupported Query." {
				t.Fatalf("%s: %q", flt, r.errMessage())
			}
		}
	})

	t.Run("graph.md §1.3: with ConsistencyLevel eventual and $count=true the advanced filter works and counts", func(t *testing.T) {
		r := q("$count=true&$top=5&$filter="+url.QueryEscape("department eq 'D1'"), "ConsistencyLevel", "eventual")
		want(t, r, http.StatusOK)
		if r.body["@odata.count"] != float64(83) || len(r.values()) != 5 {
			t.Fatalf("count %v, page %d", r.body["@odata.count"], len(r.values()))
		}
		next := f.call(http.MethodGet, r.str("@odata.nextLink"), nil, "ConsistencyLevel", "eventual")
		if _, ok := next.body["@odata.count"]; ok {
			t.Fatal("@odata.count only appears on the first page")
		}
	})

	t.Run("graph.md §1.3: ConsistencyLevel is not carried by nextLink and must be resent", func(t *testing.T) {
		r := q("$count=true&$top=5&$filter="+url.QueryEscape("department eq 'D1'"), "ConsistencyLevel", "eventual")
		want(t, f.call(http.MethodGet, r.str("@odata.nextLink"), nil), http.StatusBadRequest, "Request_UnsupportedQuery")
	})

	t.Run("graph.md §1.3: $count=true without the header is silently ignored", func(t *testing.T) {
		r := q("$count=true")
		want(t, r, http.StatusOK)
		if _, ok := r.body["@odata.count"]; ok {
			t.Fatal("@odata.count without ConsistencyLevel")
		}
	})

	t.Run("graph.md §1.3: /users/$count needs the header and answers text", func(t *testing.T) {
		r := f.call(http.MethodGet, "/v1.0/users/$count", nil)
		want(t, r, http.StatusBadRequest, "Request_BadRequest")
		if r.errMessage() != "$count is not currently supported." {
			t.Fatalf("message %q", r.errMessage())
		}
		r = f.call(http.MethodGet, "/v1.0/users/$count", nil, "ConsistencyLevel", "eventual")
		if r.status != 200 || string(r.raw) != "250" {
			t.Fatalf("%d %s", r.status, r.raw)
		}
	})

	t.Run("graph.md §1.3: $search without the header is 400 Request_UnsupportedQuery", func(t *testing.T) {
		r := q("$search=" + url.QueryEscape(`"displayName:User 01"`))
		want(t, r, http.StatusBadRequest, "Request_UnsupportedQuery")
		if !strings.HasPrefix(r.errMessage(), "Request with $search query parameter only works through MSGraph") {
			t.Fatalf("message %q", r.errMessage())
		}
		r = q("$search="+url.QueryEscape(`"displayName:024"`), "ConsistencyLevel", "eventual")
		if len(r.values()) != 1 {
			t.Fatalf("search found %d", len(r.values()))
		}
	})

	t.Run("a filter on an unknown property is 400 and on a non-filterable one Request_UnsupportedQuery", func(t *testing.T) {
		want(t, q("$filter="+url.QueryEscape("shoeSize eq '9'")), http.StatusBadRequest, "Request_BadRequest")
		want(t, q("$filter="+url.QueryEscape("passwordPolicies eq 'x'")), http.StatusBadRequest, "Request_UnsupportedQuery")
	})

	t.Run("$orderby displayName sorts and pages", func(t *testing.T) {
		r := q("$orderby=displayName%20desc&$top=3&$select=displayName")
		vals := r.values()
		if len(vals) != 3 || vals[0]["displayName"] != "User 249" || vals[2]["displayName"] != "User 247" {
			t.Fatalf("%s", r.raw)
		}
		r = f.call(http.MethodGet, r.str("@odata.nextLink"), nil)
		if r.values()[0]["displayName"] != "User 246" {
			t.Fatalf("second page %s", r.raw)
		}
	})

	t.Run("graph.md §7: $filter with $orderby is an advanced query", func(t *testing.T) {
		want(t, q("$orderby=displayName&$filter="+url.QueryEscape("usageLocation eq 'US'")), http.StatusBadRequest, "Request_UnsupportedQuery")
	})

	t.Run("an invalid skiptoken is 400", func(t *testing.T) {
		want(t, q("$skiptoken=bogus"), http.StatusBadRequest, "Request_BadRequest")
	})
}
