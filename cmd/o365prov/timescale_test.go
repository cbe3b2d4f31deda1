package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckTakesATimeScaleOnlyForTheFakeTenant(t *testing.T) {
	t.Setenv("O365PROV_CLIENT_SECRET", "cs-4f9e2a71-value")
	t.Setenv("O365PROV_LDAP_PASSWORD", "lp-8d3b5c02-value")
	path := filepath.Join(t.TempDir(), "o365prov.yaml")
	initConfig(t, path)
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		graphURL string
		code     int
		want     string
	}{
		{"a time scale against Microsoft Graph is refused", "https://graph.microsoft.com", 2, "target.timeScale: 10 is for trials against the fake tenant"},
		{"a time scale against a national cloud is refused", "https://microsoftgraph.chinacloudapi.cn", 2, "target.timeScale"},
		{"a time scale against the fake tenant is accepted", "https://127.0.0.1:8650", 0, "ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := strings.Replace(string(orig), "  graphURL: https://graph.microsoft.com\n", "  graphURL: "+tt.graphURL+"\n  timeScale: 10\n", 1)
			if doc == string(orig) {
				t.Fatal("the template has no graphURL line to replace")
			}
			p := filepath.Join(t.TempDir(), "c.yaml")
			if err := os.WriteFile(p, []byte(doc), 0o600); err != nil {
				t.Fatal(err)
			}
			code, out, errOut := runCLI(t, "check", "--config", p)
			if code != tt.code || !strings.Contains(out+errOut, tt.want) {
				t.Errorf("exit %d, want %d with %q:\n%s%s", code, tt.code, tt.want, out, errOut)
			}
		})
	}
}
