package faketenant

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestADirectoryExtensionIsRegisteredThenSetSelectedAndFilteredOnGroups(t *testing.T) {
	f := newFixture(t)
	app := "/v1.0/applications(appId='" + DemoClientID + "')/extensionProperties"
	full := "extension_" + strings.ReplaceAll(DemoClientID, "-", "") + "_sourceAnchor"

	if r := f.call(http.MethodPost, "/v1.0/groups", map[string]any{"displayName": "Early", "mailEnabled": false, "mailNickname": "early", "securityEnabled": true, full: "x"}); r.status != http.StatusBadRequest {
		t.Fatalf("an unregistered extension was accepted: %d %s", r.status, r.raw)
	}
	r := f.call(http.MethodPost, app, map[string]any{"name": "sourceAnchor", "dataType": "String", "targetObjects": []string{"Group"}})
	if r.status != http.StatusCreated || r.str("name") != full {
		t.Fatalf("register: %d %s", r.status, r.raw)
	}
	if r := f.call(http.MethodPost, app, map[string]any{"name": "sourceAnchor", "dataType": "String", "targetObjects": []string{"Group"}}); r.status != http.StatusBadRequest {
		t.Errorf("a second registration of the same name answered %d", r.status)
	}
	if r := f.call(http.MethodGet, app+"?$filter="+url.QueryEscape("name eq '"+full+"'"), nil); r.status != http.StatusOK || len(r.values()) != 1 {
		t.Fatalf("list by name: %d %s", r.status, r.raw)
	}
	for i, anchor := range []string{"guid-1", "guid-2"} {
		body := map[string]any{"displayName": "G" + anchor, "mailEnabled": false, "mailNickname": "g" + string(rune('a'+i)), "securityEnabled": true, full: anchor}
		if r := f.call(http.MethodPost, "/v1.0/groups", body); r.status != http.StatusCreated {
			t.Fatalf("create group with the extension: %d %s", r.status, r.raw)
		}
	}
	r = f.call(http.MethodGet, "/v1.0/groups?$select=id,displayName,"+full+"&$filter="+url.QueryEscape(full+" eq 'guid-2'"), nil)
	if r.status != http.StatusOK || len(r.values()) != 1 || r.values()[0][full] != "guid-2" {
		t.Fatalf("filter on the extension: %d %s", r.status, r.raw)
	}
	if r := f.call(http.MethodGet, "/v1.0/users?$select="+full, nil); r.status != http.StatusBadRequest {
		t.Errorf("an extension registered for groups was selectable on users: %d", r.status)
	}
	r = f.call(http.MethodGet, "/v1.0/groups?$select=id,displayName", nil)
	for _, g := range r.values() {
		if _, ok := g[full]; ok {
			t.Errorf("an extension came back without $select: %v", g)
		}
	}
}

func TestRegisteringADirectoryExtensionNeedsAnApplicationWritePermission(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Apps[0].Permissions = []string{"Group.ReadWrite.All"} })
	r := f.call(http.MethodPost, "/v1.0/applications(appId='"+DemoClientID+"')/extensionProperties", map[string]any{"name": "a", "dataType": "String", "targetObjects": []string{"Group"}})
	if r.status != http.StatusForbidden {
		t.Fatalf("registered without permission: %d %s", r.status, r.raw)
	}
}
