package faketenant

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestConfig(t *testing.T) {
	t.Run("the demo config builds a tenant with contoso.com, the initial domain, E3 and E5", func(t *testing.T) {
		tn, err := New(DemoConfig())
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, d := range tn.Domains() {
			names = append(names, d.Name)
		}
		if strings.Join(names, ",") != "contoso.onmicrosoft.com,contoso.com" {
			t.Fatalf("domains %v", names)
		}
		skus := tn.SKUs()
		if len(skus) != 2 || skus[0].SkuPartNumber != "ENTERPRISEPACK" || skus[1].SkuPartNumber != "ENTERPRISEPREMIUM" || skus[0].Enabled == 0 {
			t.Fatalf("skus %+v", skus)
		}
	})

	t.Run("the example config loads with every section and resolves files next to it", func(t *testing.T) {
		t.Setenv("FAKETENANT_READER_SECRET", "reader-secret")
		cfg, err := LoadConfig("testdata/tenant.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if cfg.TimeScale != 10 || cfg.ReplicationLag != 2*time.Second || cfg.Latency.Median != 40*time.Millisecond {
			t.Fatalf("knobs not read: %+v", cfg)
		}
		tn, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		doms := tn.Domains()
		if doms[2].AuthenticationType != "Federated" || doms[2].Federation == nil {
			t.Fatalf("corp.fabrikam.com should be federated: %+v", doms[2])
		}
		if doms[3].IsVerified {
			t.Fatal("unverified.example should be unverified")
		}
		// graph.md §13: the catalogue fills the real skuId of SPE_E3.
		if tn.SKUs()[0].SkuID != "05e9a617-0261-4cee-bb44-138d3ef5d965" {
			t.Fatalf("SPE_E3 skuId %s", tn.SKUs()[0].SkuID)
		}
		if l, on := cfg.effectiveLimits(); !on || l.AppTenantWrites != 600 || l.TenantWrites != 18000 {
			t.Fatalf("custom limits should override only what they set: %+v", l)
		}
	})

	bad := []struct {
		name, yaml, want string
	}{
		{"an unknown field is an error, not a silent default", "tenant: {id: 2b3c4d5e-6f70-4182-93a4-b5c6d7e8f901, name: x}\nthrotling: {}\n", "throtling"},
		{"a tenant id must be a GUID", "tenant: {id: nope, name: x}\n", "tenant.id"},
		{"an unknown permission is refused", "tenant: {id: 2b3c4d5e-6f70-4182-93a4-b5c6d7e8f901, name: x}\napps: [{clientId: 11111111-2222-4333-8444-555555555555, permissions: [User.Everything]}]\n", "User.Everything"},
		{"a SKU outside the catalogue needs its skuId", "tenant: {id: 2b3c4d5e-6f70-4182-93a4-b5c6d7e8f901, name: x}\nskus: [{skuPartNumber: NOPE, units: 1}]\n", "catalogue"},
		{"an unknown throttling profile is refused", "tenant: {id: 2b3c4d5e-6f70-4182-93a4-b5c6d7e8f901, name: x}\nthrottling: {profile: fast}\n", "profile"},
		{"fault rates must be fractions", "tenant: {id: 2b3c4d5e-6f70-4182-93a4-b5c6d7e8f901, name: x}\nfaults: {serviceUnavailableRate: 2}\n", "serviceUnavailableRate"},
		{"a federated domain needs a signing certificate", "tenant: {id: 2b3c4d5e-6f70-4182-93a4-b5c6d7e8f901, name: x}\ndomains: [{name: a.com, federation: {issuerUri: x, passiveSignInUri: https://idp/ls}}]\n", "signingCertificate"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "t.yaml")
			if err := os.WriteFile(path, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := LoadConfig(path)
			if err == nil {
				_, err = New(cfg)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}
