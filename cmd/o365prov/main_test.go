package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/o365prov/o365prov/internal/config"
)

// runCLI runs the command line in-process and returns its output.
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestInitThenCheckPassesForEveryType(t *testing.T) {
	t.Setenv("O365PROV_CLIENT_SECRET", "cs-4f9e2a71-value")
	t.Setenv("O365PROV_LDAP_PASSWORD", "lp-8d3b5c02-value")
	for _, typ := range config.Types() {
		t.Run(typ, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "o365prov.yaml")
			if code, _, errOut := runCLI(t, "init", "--type", typ, "--out", path); code != 0 {
				t.Fatalf("init exit %d: %s", code, errOut)
			}
			// As written, only the placeholder clientId is wrong.
			code, _, errOut := runCLI(t, "check", "--config", path)
			if code != 2 || !strings.Contains(errOut, "target.clientId: is the placeholder") || strings.Count(errOut, "\n") != 1 {
				t.Fatalf("check of the file as written: exit %d, want 2 with the placeholder clientId alone:\n%s", code, errOut)
			}
			b, _ := os.ReadFile(path)
			if err := os.WriteFile(path, []byte(strings.Replace(string(b), config.PlaceholderClientID, "6f1c2f1e-8b1a-4a57-9d0a-3c1b7e2a9f10", 1)), 0o600); err != nil {
				t.Fatal(err)
			}
			code, out, errOut := runCLI(t, "check", "--config", path)
			if code != 0 {
				t.Fatalf("check exit %d:\n%s", code, errOut)
			}
			if !strings.Contains(out, "ok") {
				t.Errorf("check output %q", out)
			}
			for _, s := range []string{"cs-4f9e2a71-value", "lp-8d3b5c02-value"} {
				if strings.Contains(out+errOut, s) {
					t.Fatal("a secret was printed")
				}
			}
		})
	}
}

func TestInitRefusesToOverwrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(path, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCLI(t, "init", "--type", "openldap", "--out", path)
	if code == 0 || !strings.Contains(errOut, "--force") {
		t.Fatalf("exit %d, %q", code, errOut)
	}
	if b, _ := os.ReadFile(path); string(b) != "keep" {
		t.Fatal("file overwritten")
	}
}

func TestCheckReportsEveryProblemAndExitsTwo(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.yaml")
	doc := "target:\n  tenant: contoso.com\n  clientId: x\n  clientSecret: lit3ral-S3cret\nchannels:\n  - name: a\n    maxThreads: 0\n    mapping: {user: {mail: {expr: 'lower('}}}\n"
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCLI(t, "check", "--config", path)
	if code != 2 {
		t.Fatalf("exit %d, want 2:\n%s", code, errOut)
	}
	for _, want := range []string{path + ":3: target.clientId:", path + ":7: channels[0].maxThreads:", path + ":6: channels[0].source.url: required", path + ":8: channels[0].mapping.user.mail: expression"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("missing %q in\n%s", want, errOut)
		}
	}
	if strings.Contains(errOut, "lit3ral-S3cret") {
		t.Error("the secret was printed")
	}
}

func TestVersionPrints(t *testing.T) {
	code, out, _ := runCLI(t, "version")
	if code != 0 || !strings.HasPrefix(out, "o365prov ") {
		t.Fatalf("exit %d %q", code, out)
	}
}

func TestCheckReportsABadExpressionWithItsField(t *testing.T) {
	t.Setenv("O365PROV_CLIENT_SECRET", "x-secret-value")
	t.Setenv("O365PROV_LDAP_PASSWORD", "x-password-value")
	dir := t.TempDir()
	path := filepath.Join(dir, "c.yaml")
	if code, _, e := runCLI(t, "init", "--type", "openldap", "--out", path); code != 0 {
		t.Fatal(e)
	}
	b, _ := os.ReadFile(path)
	doc := strings.Replace(string(b), `mail: '${mail}'`, `mail: {expr: 'lower(attr("mail")'}`, 1)
	if doc == string(b) {
		t.Fatal("test broken: mail mapping not found in the template")
	}
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCLI(t, "check", "--config", path)
	if code != 2 || !strings.Contains(errOut, "channels[0].mapping.user.mail: expression:") || !strings.Contains(errOut, path+":") {
		t.Fatalf("exit %d:\n%s", code, errOut)
	}
}

// initConfig writes `o365prov init --type openldap` to path with its
// placeholder clientId replaced, as an administrator does before anything
// else works (check refuses the placeholder).
func initConfig(t *testing.T, path string) {
	t.Helper()
	if code, _, e := runCLI(t, "init", "--type", "openldap", "--out", path); code != 0 {
		t.Fatalf("init exit %d: %s", code, e)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := strings.Replace(string(b), config.PlaceholderClientID, "6f1c2f1e-8b1a-4a57-9d0a-3c1b7e2a9f10", 1)
	if doc == string(b) {
		t.Fatal("test broken: the template's placeholder clientId not found")
	}
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
}
