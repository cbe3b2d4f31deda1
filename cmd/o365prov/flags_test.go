package main

import (
	"strings"
	"testing"
)

// Every command of the README's table, with the flags it needs to run.
func everyCommand(cfg string) [][]string {
	return [][]string{
		{"version"},
		{"init", "--type", "openldap"},
		{"check", "--config", cfg},
		{"plan", "--config", cfg},
		{"plan", "list", "--config", cfg},
		{"sync", "--once", "--config", cfg, "--channel", "contoso"},
		{"run", "--config", cfg},
		{"status", "--config", cfg},
		{"audit", "--config", cfg},
		{"channel", "reset", "--config", cfg, "--channel", "contoso", "--watermark"},
		{"demo", "--once", "--ldap", "127.0.0.1:0", "--tenant", "127.0.0.1:0"},
		{"fake-tenant", "--listen", "127.0.0.1:0"},
		{"gen-ldif", "--users", "1", "--groups", "0"},
	}
}

// --log-format xml was accepted silently by version, status and audit.
func TestEveryCommandRefusesABadLogFlagListingTheValuesAllowed(t *testing.T) {
	cfg := newWorld(t).cfg
	for _, cmd := range everyCommand(cfg) {
		for _, bad := range []struct{ flag, value, allowed string }{
			{"--log-format", "xml", "(allowed: text, json)"},
			{"--log-level", "verbose", "(allowed: debug, info, warn, error)"},
		} {
			t.Run(strings.Join(cmd[:1], " ")+" "+bad.flag, func(t *testing.T) {
				code, out, errOut := runCLI(t, append(cmd, bad.flag, bad.value)...)
				if code != 2 || !strings.Contains(errOut, bad.flag+` "`+bad.value+`"`) || !strings.Contains(errOut, bad.allowed) {
					t.Fatalf("%v: exit %d\nstdout %q\nstderr %q", cmd, code, out, errOut)
				}
			})
		}
	}
}

func TestAuditRefusesAnUnknownResultListingTheResults(t *testing.T) {
	cfg := newWorld(t).cfg
	code, out, errOut := runCLI(t, "audit", "--config", cfg, "--result", "bogus")
	if code != 2 || !strings.Contains(errOut, `--result "bogus" is not a result (allowed: ok, failed, skipped)`) || out != "" {
		t.Fatalf("exit %d\nstdout %q\nstderr %q", code, out, errOut)
	}
}

func TestAnUnknownFlagIsAUsageError(t *testing.T) {
	code, _, errOut := runCLI(t, "version", "--bogus")
	if code != 2 || !strings.Contains(errOut, "unknown flag: --bogus") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
}

// check warned of insecureSkipVerify; plan, sync and run said nothing.
func TestInsecureSkipVerifyIsWarnedAtEveryStart(t *testing.T) {
	w := newWorld(t)
	w.edit(t, "      type: openldap\n", "      type: openldap\n      insecureSkipVerify: true\n")
	for _, cmd := range [][]string{{"plan"}, {"sync", "--once", "--dry-run", "--channel", "contoso"}} {
		code, _, errOut := runCLI(t, append(cmd, "--config", w.cfg, "--log-level", "warn")...)
		if code != 0 || !strings.Contains(errOut, "channels[0].source.insecureSkipVerify: true: the directory's certificate is not checked") {
			t.Errorf("%s: exit %d:\n%s", cmd[0], code, errOut)
		}
	}
}
