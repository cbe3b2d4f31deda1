package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The README's steps: demo --once --dir DIR, then plan on DIR's
// configuration. plan used to panic; the demo's directory is gone with
// it, so plan says so (exit 3) while status still reads the state.
func TestDemoOnceThenPlanOnItsConfigurationSaysTheDirectoryIsGone(t *testing.T) {
	if testing.Short() {
		t.Skip("heavy end to end: skipped with -short, run once by make e2e")
	}
	dir := t.TempDir()
	out := mustRun(t, 0, "demo", "--once", "--dir", dir, "--ldap", "127.0.0.1:0", "--tenant", "127.0.0.1:0", "--log-level", "warn")
	for _, want := range []string{"users created:        200", "licences assigned:", "managers set:         199", "groups created:       20", "(0 failed)", "o365prov status --config " + filepath.Join(dir, "o365prov.yaml")} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "problem:") || strings.Contains(out, "failed:") {
		t.Errorf("the demo's first sync reported problems:\n%s", out)
	}
	cfg := filepath.Join(dir, "o365prov.yaml")
	code, _, errOut := runCLI(t, "plan", "--config", cfg, "--log-level", "error")
	if code != 3 || !strings.Contains(errOut, "channel contoso: directory ldap://127.0.0.1:") || !strings.Contains(errOut, "to fix: nothing listens there") {
		t.Fatalf("plan after the demo: exit %d:\n%s", code, errOut)
	}
	if st := mustRun(t, 0, "status", "--config", cfg); !strings.Contains(st, "contoso  200") {
		t.Fatalf("status after the demo:\n%s", st)
	}
}

// While the demo runs, plan works on its configuration from another
// terminal.
func TestPlanWorksOnARunningDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("heavy end to end: skipped with -short, run once by make e2e")
	}
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"demo", "--dir", dir, "--ldap", "127.0.0.1:0", "--tenant", "127.0.0.1:0", "--log-level", "error"}, &out, &errOut)
	}()
	waitFor(t, 60*time.Second, func() bool { return strings.Contains(out.String(), "Ctrl-C stops the demo.") }, &errOut)
	if !strings.Contains(out.String(), "ldapmodify -x -H ldap://") {
		t.Errorf("the running demo does not say how to change the directory:\n%s", out.String())
	}
	plan := mustRun(t, 0, "plan", "--config", filepath.Join(dir, "o365prov.yaml"), "--log-level", "error")
	if !strings.Contains(plan, "for channel contoso") {
		t.Fatalf("plan:\n%s", plan)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("demo exit %d:\n%s", code, errOut.String())
	}
}
