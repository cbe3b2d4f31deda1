package faketenant

import (
	"net/http"
	"strings"
	"testing"
)

func TestCreateUser(t *testing.T) {
	f := newFixture(t, withDomains)

	t.Run("graph.md §1.1: a create returns 201 with the default properties and no password", func(t *testing.T) {
		r := f.call(http.MethodPost, "/v1.0/users", newUserBody("adelev"))
		want(t, r, http.StatusCreated)
		if r.str("@odata.context") != f.srv.URL+"/v1.0/$metadata#users/$entity" {
			t.Fatalf("context %q", r.str("@odata.context"))
		}
		if !strings.HasPrefix(string(r.raw), `{"@odata.context":`) || !strings.Contains(string(r.raw), `,"id":"`+r.str("id")+`","businessPhones":[]`) {
			t.Fatalf("id should follow the context, as in the documented example: %s", r.raw)
		}
		if strings.Contains(string(r.raw), "password") || r.str("userPrincipalName") != "adelev@contoso.com" {
			t.Fatalf("body %s", r.raw)
		}
	})

	cases := []struct {
		name    string
		change  func(map[string]any)
		status  int
		message string
	}{
		{"graph.md §1.1: accountEnabled is required", func(b map[string]any) { delete(b, "accountEnabled") }, 400,
			"A value is required for property 'accountEnabled' of resource 'User'."},
		{"graph.md §1.1: displayName is required", func(b map[string]any) { delete(b, "displayName") }, 400,
			"A value is required for property 'displayName' of resource 'User'."},
		{"graph.md §1.1: mailNickname is required", func(b map[string]any) { delete(b, "mailNickname") }, 400,
			"A value is required for property 'mailNickname' of resource 'User'."},
		{"graph.md §1.1: passwordProfile is required", func(b map[string]any) { delete(b, "passwordProfile") }, 400,
			"A value is required for property 'passwordProfile' of resource 'User'."},
		{"graph.md §1.1: an empty UPN gets the domain-portion message", func(b map[string]any) { delete(b, "userPrincipalName") }, 400, msgUPNDomain},
		{"graph.md §1.1: a UPN without @ gets the domain-portion message", func(b map[string]any) { b["userPrincipalName"] = "nobody" }, 400, msgUPNDomain},
		{"graph.md §1.1: a UPN on an unknown domain is refused", func(b map[string]any) { b["userPrincipalName"] = "a@fabrikam.com" }, 400, msgUPNDomain},
		{"graph.md §1.1: a UPN on an unverified domain is refused", func(b map[string]any) { b["userPrincipalName"] = "a@unverified.example" }, 400, msgUPNDomain},
		{"graph.md §1.1: bad UPN characters are 'Property userPrincipalName is invalid.'", func(b map[string]any) { b["userPrincipalName"] = "a b@contoso.com" }, 400,
			"Property userPrincipalName is invalid."},
		{"graph.md §1.1: a federated UPN needs onPremisesImmutableId", func(b map[string]any) { b["userPrincipalName"] = "f1@fed.contoso.com" }, 400,
			"SourceAnchor is a required property for creation of a federated user."},
		{"graph.md §1.1: onPremisesImmutableId cannot contain '$'", func(b map[string]any) {
			b["userPrincipalName"], b["onPremisesImmutableId"] = "f2@fed.contoso.com", "abc$def"
		}, 400, "Invalid value specified for property 'onPremisesImmutableId' of resource 'User'."},
		{"graph.md §1.1: onPremisesImmutableId cannot contain '_'", func(b map[string]any) {
			b["userPrincipalName"], b["onPremisesImmutableId"] = "f3@fed.contoso.com", "abc_def"
		}, 400, "Invalid value specified for property 'onPremisesImmutableId' of resource 'User'."},
		{"graph.md §1.1: a federated UPN with an immutable id is created", func(b map[string]any) {
			b["userPrincipalName"], b["onPremisesImmutableId"] = "f4@fed.contoso.com", "AAECAwQFBgcICQoLDA0ODw=="
		}, 201, ""},
		{"graph.md §1.1: a weak password is refused", func(b map[string]any) { b["passwordProfile"] = map[string]any{"password": "password"} }, 400,
			"The specified password does not comply with password complexity requirements. Please provide a different password."},
		{"graph.md §1.1: a bad mailNickname is refused", func(b map[string]any) { b["mailNickname"] = "has space" }, 400,
			"Invalid value specified for property 'mailNickname' of resource 'User'."},
		{"graph.md §1.1: displayName is at most 256 characters", func(b map[string]any) { b["displayName"] = strings.Repeat("x", 257) }, 400,
			"Invalid value specified for property 'displayName' of resource 'User'."},
		{"an unknown property is refused", func(b map[string]any) { b["favouriteColour"] = "blue" }, 400,
			"Property 'favouriteColour' does not exist as a declared property or extension property."},
		{"a read-only property is refused", func(b map[string]any) { b["proxyAddresses"] = []string{"SMTP:x@contoso.com"} }, 400,
			"Property 'proxyAddresses' is read-only and cannot be set."},
		{"a value of the wrong type is refused", func(b map[string]any) { b["accountEnabled"] = "yes" }, 400,
			"Cannot convert a primitive value to the expected type 'Edm.Boolean'. See the inner exception for more details."},
		{"graph.md §1.4: an app cannot set aboutMe", func(b map[string]any) { b["aboutMe"] = "hi" }, 403,
			"Insufficient privileges to complete the operation."},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := newUserBody("case" + string(rune('a'+i)))
			tc.change(b)
			r := f.call(http.MethodPost, "/v1.0/users", b)
			want(t, r, tc.status)
			if tc.message != "" && r.errMessage() != tc.message {
				t.Fatalf("message %q, want %q", r.errMessage(), tc.message)
			}
		})
	}
}

func TestUniqueness(t *testing.T) {
	f := newFixture(t)
	first := f.createUser("alex", map[string]any{"mail": "alex@contoso.com", "onPremisesImmutableId": "QUxFWA=="})

	conflicts := []struct {
		name, target string
		body         map[string]any
	}{
		{"graph.md §1.1: a duplicate UPN is 400 with details[].code ObjectConflict", "userPrincipalName", newUserBody("alex")},
		{"the UPN comparison ignores case", "userPrincipalName", func() map[string]any { b := newUserBody("x"); b["userPrincipalName"] = "ALEX@contoso.com"; return b }()},
		{"graph.md §1.1: a duplicate mail is a proxyAddresses conflict", "proxyAddresses", func() map[string]any { b := newUserBody("y"); b["mail"] = "Alex@contoso.com"; return b }()},
		{"graph.md §12.2: a duplicate onPremisesImmutableId is a conflict", "onPremisesImmutableId", func() map[string]any { b := newUserBody("z"); b["onPremisesImmutableId"] = "QUxFWA=="; return b }()},
	}
	for _, tc := range conflicts {
		t.Run(tc.name, func(t *testing.T) {
			r := f.call(http.MethodPost, "/v1.0/users", tc.body)
			want(t, r, http.StatusBadRequest, "Request_BadRequest")
			if r.errMessage() != "Another object with the same value for property "+tc.target+" already exists." {
				t.Fatalf("message %q", r.errMessage())
			}
			details, _ := r.body["error"].(map[string]any)["details"].([]any)
			d0, _ := details[0].(map[string]any)
			if d0["code"] != "ObjectConflict" || d0["target"] != tc.target {
				t.Fatalf("details %v", details)
			}
		})
	}

	t.Run("a soft-deleted user keeps its immutable id", func(t *testing.T) {
		want(t, f.call(http.MethodDelete, "/v1.0/users/"+first, nil), http.StatusNoContent)
		b := newUserBody("alexnew")
		b["onPremisesImmutableId"] = "QUxFWA=="
		r := f.call(http.MethodPost, "/v1.0/users", b)
		want(t, r, http.StatusBadRequest)
		if !strings.Contains(r.errMessage(), "onPremisesImmutableId") {
			t.Fatalf("message %q", r.errMessage())
		}
	})

	t.Run("docs/graph.md §14: a soft-deleted user's UPN and mail are free for a new user", func(t *testing.T) {
		f.createUser("alex", map[string]any{"mail": "alex@contoso.com"})
	})

	t.Run("after a permanent delete the immutable id is free again", func(t *testing.T) {
		want(t, f.call(http.MethodDelete, "/v1.0/directory/deletedItems/"+first, nil), http.StatusNoContent)
		f.createUser("alexb", map[string]any{"onPremisesImmutableId": "QUxFWA=="})
	})

	t.Run("a PATCH onto another user's UPN is a conflict", func(t *testing.T) {
		other := f.createUser("other", nil)
		r := f.call(http.MethodPatch, "/v1.0/users/"+other, map[string]any{"userPrincipalName": "alex@contoso.com"})
		want(t, r, http.StatusBadRequest, "Request_BadRequest")
	})
}

func TestReadUser(t *testing.T) {
	f := newFixture(t)
	id := f.createUser("megan", map[string]any{"jobTitle": "Engineer", "usageLocation": "US", "employeeId": "E1"})

	t.Run("graph.md §1.2: a user is read by id or by UPN", func(t *testing.T) {
		for _, key := range []string{id, "megan@contoso.com", "MEGAN@contoso.com"} {
			r := f.call(http.MethodGet, "/v1.0/users/"+key, nil)
			want(t, r, http.StatusOK)
			if r.str("id") != id {
				t.Fatalf("GET %s returned %s", key, r.raw)
			}
		}
	})

	t.Run("graph.md §1.2: the users('upn') form works", func(t *testing.T) {
		want(t, f.call(http.MethodGet, "/v1.0/users('megan@contoso.com')", nil), http.StatusOK)
	})

	t.Run("graph.md §1.2: only the default properties come back without $select", func(t *testing.T) {
		r := f.call(http.MethodGet, "/v1.0/users/"+id, nil)
		if _, ok := r.body["usageLocation"]; ok {
			t.Fatal("usageLocation is not a default property")
		}
		if r.str("jobTitle") != "Engineer" {
			t.Fatal("jobTitle is a default property")
		}
	})

	t.Run("graph.md §1.2: $select returns exactly the named properties", func(t *testing.T) {
		r := f.call(http.MethodGet, "/v1.0/users/"+id+"?$select=id,usageLocation,employeeId,accountEnabled", nil)
		want(t, r, http.StatusOK)
		if len(r.body) != 5 || r.str("usageLocation") != "US" || r.body["accountEnabled"] != true {
			t.Fatalf("body %s", r.raw)
		}
		if !strings.HasSuffix(r.str("@odata.context"), "#users(id,usageLocation,employeeId,accountEnabled)/$entity") {
			t.Fatalf("context %s", r.str("@odata.context"))
		}
	})

	t.Run("$select of an unknown property is 400", func(t *testing.T) {
		want(t, f.call(http.MethodGet, "/v1.0/users/"+id+"?$select=nope", nil), http.StatusBadRequest, "Request_BadRequest")
	})

	t.Run("graph.md §1.2: a missing user is 404 Request_ResourceNotFound with the documented message", func(t *testing.T) {
		r := f.call(http.MethodGet, "/v1.0/users/nobody@contoso.com", nil)
		want(t, r, http.StatusNotFound, "Request_ResourceNotFound")
		if r.errMessage() != "Resource 'nobody@contoso.com' does not exist or one of its queried reference-property objects are not present." {
			t.Fatalf("message %q", r.errMessage())
		}
	})

	t.Run("graph.md §1.2: selecting aboutMe on the collection is 501", func(t *testing.T) {
		want(t, f.call(http.MethodGet, "/v1.0/users?$select=aboutMe", nil), http.StatusNotImplemented)
	})
}

func TestUpdateAndDeleteUser(t *testing.T) {
	f := newFixture(t, withTestApps)
	id := f.createUser("nestor", nil)

	t.Run("graph.md §1.4: PATCH is 204 with an empty body and keeps omitted properties", func(t *testing.T) {
		r := f.call(http.MethodPatch, "/v1.0/users/"+id, map[string]any{"jobTitle": "Lead", "usageLocation": "GB"})
		want(t, r, http.StatusNoContent)
		if len(r.raw) != 0 {
			t.Fatalf("204 with a body: %s", r.raw)
		}
		u, _ := f.tenant.User(id)
		if u.UsageLocation != "GB" || u.Properties["jobTitle"] != "Lead" || u.DisplayName != "User nestor" {
			t.Fatalf("user %+v", u)
		}
	})

	t.Run("graph.md §1.4: usageLocation is not nullable", func(t *testing.T) {
		want(t, f.call(http.MethodPatch, "/v1.0/users/"+id, map[string]any{"usageLocation": nil}), http.StatusBadRequest)
	})

	t.Run("graph.md §1.1: displayName cannot be cleared", func(t *testing.T) {
		want(t, f.call(http.MethodPatch, "/v1.0/users/"+id, map[string]any{"displayName": nil}), http.StatusBadRequest)
	})

	t.Run("graph.md §1.4: an app with User.ReadWrite.All cannot reset a password", func(t *testing.T) {
		r := f.call(http.MethodPatch, "/v1.0/users/"+id, map[string]any{"passwordProfile": map[string]any{"password": "N3w-Passw0rd!"}})
		want(t, r, http.StatusForbidden, "Authorization_RequestDenied")
	})

	t.Run("graph.md §1.5: DELETE is 204, then the user is gone from /users and in deleted items", func(t *testing.T) {
		want(t, f.call(http.MethodDelete, "/v1.0/users/"+id, nil), http.StatusNoContent)
		want(t, f.call(http.MethodGet, "/v1.0/users/"+id, nil), http.StatusNotFound, "Request_ResourceNotFound")
		items := f.tenant.DeletedItems()
		if len(items) != 1 || items[0].ID != id {
			t.Fatalf("deleted items %+v", items)
		}
	})
}

func TestGraphEnvelope(t *testing.T) {
	f := newFixture(t)

	t.Run("graph.md §11: every response has request-id and echoes client-request-id", func(t *testing.T) {
		r := f.call(http.MethodGet, "/v1.0/users/nobody", nil, "client-request-id", "11111111-1111-4111-8111-111111111111")
		if r.header.Get("request-id") == "" || r.header.Get("client-request-id") != "11111111-1111-4111-8111-111111111111" {
			t.Fatalf("headers %v", r.header)
		}
		inner, _ := r.body["error"].(map[string]any)["innerError"].(map[string]any)
		if inner["request-id"] != r.header.Get("request-id") || inner["client-request-id"] != "11111111-1111-4111-8111-111111111111" || inner["date"] == "" {
			t.Fatalf("innerError %v", inner)
		}
	})

	t.Run("graph.md §11: without client-request-id it equals request-id", func(t *testing.T) {
		r := f.call(http.MethodGet, "/v1.0/users", nil)
		if r.header.Get("client-request-id") != r.header.Get("request-id") {
			t.Fatalf("headers %v", r.header)
		}
	})

	t.Run("graph.md §11: JSON responses carry Graph's OData content type", func(t *testing.T) {
		r := f.call(http.MethodGet, "/v1.0/users", nil)
		if r.header.Get("Content-Type") != odataJSON {
			t.Fatalf("content type %q", r.header.Get("Content-Type"))
		}
	})

	t.Run("graph.md §6.2: x-ms-resource-unit is on successes and errors alike", func(t *testing.T) {
		for _, r := range []resp{f.call(http.MethodGet, "/v1.0/users", nil), f.call(http.MethodGet, "/v1.0/users/nobody", nil), f.callWith("", http.MethodGet, "/v1.0/users", nil)} {
			if r.header.Get("x-ms-resource-unit") == "" {
				t.Fatalf("no x-ms-resource-unit on %d %s", r.status, r.raw)
			}
		}
	})

	t.Run("an unknown segment is 400 BadRequest and a wrong method 405", func(t *testing.T) {
		want(t, f.call(http.MethodGet, "/v1.0/gadgets", nil), http.StatusBadRequest, "BadRequest")
		want(t, f.call(http.MethodPut, "/v1.0/users", nil), http.StatusMethodNotAllowed, "Request_BadRequest")
	})

	t.Run("a malformed JSON body is 400", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/v1.0/users", strings.NewReader("{not json"))
		req.Header.Set("Authorization", "Bearer "+f.token)
		want(t, f.send(req), http.StatusBadRequest, "BadRequest")
	})
}
