package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// The error paths every command shares: a missing --config, a file that
// is not there, a required flag left out, an unknown channel. Each exits
// with the documented status and says what is wrong.
func TestEveryCommandReportsABadCommandLineWithExitTwo(t *testing.T) {
	w := newWorld(t)
	missing := filepath.Join(t.TempDir(), "nope.yaml")
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"init without --type", []string{"init"}, `required flag(s) "type" not set`},
		{"init with an unknown type", []string{"init", "--type", "novell"}, "novell"},
		{"check without --config", []string{"check"}, `required flag(s) "config" not set`},
		{"check of a file that is not there", []string{"check", "--config", missing}, missing},
		{"plan of a file that is not there", []string{"plan", "--config", missing}, missing},
		{"plan of a channel that does not exist", []string{"plan", "--config", w.cfg, "--channel", "nope"}, "no such channel nope"},
		{"plan show without an id", []string{"plan", "show", "--config", w.cfg}, "accepts 1 arg(s)"},
		{"plan list of a channel that does not exist", []string{"plan", "list", "--config", w.cfg, "--channel", "nope"}, "the channels are contoso"},
		{"plan approve without --channel", []string{"plan", "approve", "--config", w.cfg, "abc"}, `required flag(s) "channel" not set`},
		{"sync without --channel", []string{"sync", "--once", "--config", w.cfg}, `required flag(s) "channel" not set`},
		{"sync of a channel that does not exist", []string{"sync", "--once", "--config", w.cfg, "--channel", "nope"}, "the channels are contoso"},
		{"run of a file that is not there", []string{"run", "--config", missing}, missing},
		{"status without --config", []string{"status"}, `required flag(s) "config" not set`},
		{"audit of a channel that does not exist", []string{"audit", "--config", w.cfg, "--channel", "nope"}, "the channels are contoso"},
		{"channel reset with neither --watermark nor --all", []string{"channel", "reset", "--config", w.cfg, "--channel", "contoso"}, "give exactly one of --watermark or --all"},
		{"channel reset of a channel that does not exist", []string{"channel", "reset", "--config", w.cfg, "--channel", "nope", "--all"}, "the channels are contoso"},
		{"an unknown command", []string{"federat"}, `unknown command "federat"`},
		{"version with an argument", []string{"version", "now"}, "unknown command"},
	}
	for _, tc := range cases {
		t.Run(tc.name+" exits 2", func(t *testing.T) {
			code, _, errOut := runCLI(t, tc.args...)
			if code != 2 || !strings.Contains(errOut, tc.want) || strings.Contains(errOut, "panic") {
				t.Fatalf("exit %d, want 2 and %q:\n%s", code, tc.want, errOut)
			}
		})
	}
}

// channel reset --all forgets everything of the channel; the next cycle
// reads everything and matches every user again instead of creating it
// twice.
func TestChannelResetAllThenSyncCreatesNobodyTwice(t *testing.T) {
	w := newWorld(t)
	mustRun(t, 0, "sync", "--once", "--config", w.cfg, "--channel", "contoso", "--log-level", "error")
	before := len(w.tenant.Users())
	if out := mustRun(t, 0, "channel", "reset", "--config", w.cfg, "--channel", "contoso", "--all"); !strings.Contains(out, "channel contoso: state reset; the next cycle reads every entry") {
		t.Fatalf("reset: %q", out)
	}
	if st := mustRun(t, 0, "status", "--config", w.cfg); !strings.Contains(st, "contoso  0 ") {
		t.Fatalf("status after reset --all:\n%s", st)
	}
	plan := mustRun(t, 0, "plan", "--config", w.cfg, "--json", "--log-level", "error")
	var p struct {
		Mode string
		Ops  []struct{ Type string }
	}
	if err := json.Unmarshal([]byte(plan), &p); err != nil {
		t.Fatalf("plan --json: %v\n%s", err, plan)
	}
	for _, op := range p.Ops {
		// Groups are matched only with options.adoptExistingGroups
		// (docs/operations.md): users always are.
		if op.Type == "createUser" {
			t.Fatalf("after reset --all the plan creates users again:\n%s", plan)
		}
	}
	out := mustRun(t, 0, "sync", "--once", "--config", w.cfg, "--channel", "contoso", "--log-level", "error")
	if !strings.Contains(out, "contoso: full cycle") {
		t.Fatalf("sync after reset:\n%s", out)
	}
	if after := len(w.tenant.Users()); after != before {
		t.Fatalf("%d users in the tenant before the reset, %d after", before, after)
	}
	if st := mustRun(t, 0, "status", "--config", w.cfg); !strings.Contains(st, "contoso  24 ") {
		t.Fatalf("status after the sync:\n%s", st)
	}
	if out := mustRun(t, 0, "channel", "reset", "--config", w.cfg, "--channel", "contoso", "--watermark"); !strings.Contains(out, "watermark reset") {
		t.Fatalf("reset --watermark: %q", out)
	}
}

func TestAuditShowsWhatASyncDid(t *testing.T) {
	w := newWorld(t)
	mustRun(t, 0, "sync", "--once", "--config", w.cfg, "--channel", "contoso", "--log-level", "error")
	out := mustRun(t, 0, "audit", "--config", w.cfg, "--channel", "contoso", "--operation", "createUser", "--since", "1h", "--limit", "1000")
	if got := strings.Count(out, "createUser"); got != worldPeople {
		t.Fatalf("%d createUser entries, want %d:\n%s", got, worldPeople, out)
	}
	if failed := mustRun(t, 0, "audit", "--config", w.cfg, "--result", "failed"); strings.Count(failed, "\n") != 1 {
		t.Fatalf("failed entries after a clean sync:\n%s", failed)
	}
}

func TestGenLDIFWritesTheNumberOfPeopleAskedFor(t *testing.T) {
	out := mustRun(t, 0, "gen-ldif", "--users", "3", "--groups", "1")
	if got := strings.Count(out, "\ndn: uid="); got != 3 {
		t.Fatalf("%d people:\n%s", got, out)
	}
	if code, _, errOut := runCLI(t, "gen-ldif", "--users", "0"); code == 0 || !strings.Contains(errOut, "users") {
		t.Fatalf("--users 0: exit %d: %s", code, errOut)
	}
}
