package main

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/o365prov/o365prov/internal/faketenant"
)

func TestCheckConnectPassesAgainstAWorkingDirectoryAndTenant(t *testing.T) {
	w := newWorld(t)
	out := mustRun(t, 0, "check", "--connect", "--config", w.cfg)
	for _, want := range []string{
		"ok      channel contoso: directory " + w.ldapURL + ": bound as cn=o365prov,ou=services,dc=contoso,dc=com",
		"ok      channel contoso: user search: found uid=",
		"ok      channel contoso: group search: found cn=",
		"ok      tenant " + faketenant.DemoTenantID + ": token for app " + faketenant.DemoClientID + ": obtained",
		"domains: contoso.onmicrosoft.com (verified, managed), contoso.com (verified, managed)",
		"subscribedSkus: ENTERPRISEPACK (0 of 250 in use)",
		"ok      channel contoso: userPrincipalName domain: contoso.com (of ",
		"all 9 connection checks passed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("lacks %q:\n%s", want, out)
		}
	}
	if len(w.tenant.Users()) != 0 {
		t.Error("check --connect wrote to the tenant")
	}
}

// Each failure check --connect finds is printed with its fix, and exits 3.
func TestCheckConnectSaysHowToFixWhatFails(t *testing.T) {
	notVerified := false
	cases := []struct {
		name   string
		tenant func(*faketenant.Config)
		config [2]string // replace, by
		want   []string
	}{
		{name: "a wrong bind password", config: [2]string{"password: ${file:", "password: wrong-${file:"},
			want: []string{"FAILED  channel contoso: directory ", "Invalid Credentials", "to fix: the directory refused the bind as \"cn=o365prov,ou=services,dc=contoso,dc=com\": check source.bindDN and source.password"}},
		{name: "a search base that does not exist", config: [2]string{"baseDN: dc=contoso,dc=com", "baseDN: dc=fabrikam,dc=com"},
			want: []string{"FAILED  channel contoso: user search: ", "to fix: check source.baseDN (dc=fabrikam,dc=com) and source.users"}},
		{name: "an expired client secret", tenant: func(c *faketenant.Config) { c.Apps[0].Secrets[0].Expires = time.Now().Add(-time.Hour) },
			want: []string{"FAILED  tenant " + faketenant.DemoTenantID + ": token for app", "AADSTS7000222", "to fix: the client secret has expired"}},
		{name: "a missing Graph permission", tenant: func(c *faketenant.Config) {
			c.Apps[0].Permissions = slices.DeleteFunc(c.Apps[0].Permissions, func(p string) bool { return strings.HasPrefix(p, "Domain") || strings.HasPrefix(p, "Directory") })
		}, want: []string{"FAILED  tenant " + faketenant.DemoTenantID + ": domains: ", "403", "to fix: the app lacks the permission: grant it Domain.Read.All"}},
		{name: "a domain not verified", tenant: func(c *faketenant.Config) { c.Domains[0].Verified, c.Domains[0].Default = &notVerified, false },
			want: []string{"contoso.com (NOT verified", "FAILED  channel contoso: userPrincipalName domain: contoso.com (of ", "is not verified", "to fix: verify the domain in Entra"}},
		{name: "a licence name the tenant does not have", config: [2]string{"skuId: '${o365Sku}'", "skuId: 'SPE_E5'"},
			want: []string{"FAILED  channel contoso: licences: the tenant has no skuId SPE_E5", "to fix: use a skuPartNumber or skuId the tenant subscribes to"}},
	}
	for _, tc := range cases {
		t.Run(tc.name+" is reported with its fix", func(t *testing.T) {
			tenant := tc.tenant
			if tenant == nil {
				tenant = func(*faketenant.Config) {}
			}
			w := newWorldWith(t, tenant)
			if tc.config[0] != "" {
				w.edit(t, tc.config[0], tc.config[1])
			}
			code, out, errOut := runCLI(t, "check", "--connect", "--config", w.cfg, "--log-level", "error")
			if code != 3 || !strings.Contains(errOut, "connection checks failed") {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
			}
			for _, want := range tc.want {
				if !strings.Contains(out, want) {
					t.Errorf("lacks %q:\n%s", want, out)
				}
			}
		})
	}
}
