package faketenant

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestAnAppReadsWhenItsOwnSecretsExpire(t *testing.T) {
	expires := time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
	f := newFixture(t, func(c *Config) {
		c.Apps[0].Secrets = append(c.Apps[0].Secrets, SecretConfig{Value: "second-secret-value", Expires: expires})
	})
	get := func(filter string) resp {
		return f.call("GET", "/v1.0/applications?$filter="+url.QueryEscape(filter), nil)
	}
	r := get("appId eq '" + DemoClientID + "'")
	want(t, r, 200)
	apps := r.values()
	if len(apps) != 1 || apps[0]["appId"] != DemoClientID {
		t.Fatalf("%s", r.raw)
	}
	creds, _ := apps[0]["passwordCredentials"].([]any)
	if len(creds) != 2 || creds[0].(map[string]any)["endDateTime"] != nil || creds[1].(map[string]any)["endDateTime"] != "2027-03-01T00:00:00Z" {
		t.Fatalf("passwordCredentials %s", r.raw)
	}
	if strings.Contains(string(r.raw), "second-secret-value") || strings.Contains(string(r.raw), DemoClientSecret) {
		t.Fatal("a secret's value was served")
	}
	if r := get("appId eq '00000000-0000-4000-8000-000000000000'"); r.status != 200 || len(r.values()) != 0 {
		t.Fatalf("an unknown app: %s", r.raw)
	}
	want(t, get("displayName eq 'x'"), 400)
}

func TestReadingApplicationsNeedsApplicationReadAll(t *testing.T) {
	f := newFixture(t, func(c *Config) {
		c.Apps[0].Permissions = slices.DeleteFunc(c.Apps[0].Permissions, func(p string) bool { return strings.HasPrefix(p, "Directory.") })
	})
	want(t, f.call("GET", "/v1.0/applications?$filter="+url.QueryEscape("appId eq '"+DemoClientID+"'"), nil), 403, "Authorization_RequestDenied")
}
