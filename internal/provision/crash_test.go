package provision_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/o365prov/o365prov/internal/config"
	"github.com/o365prov/o365prov/internal/directory/sambatest"
	"github.com/o365prov/o365prov/internal/engine"
	"github.com/o365prov/o365prov/internal/graph"
	"github.com/o365prov/o365prov/internal/ldapserver"
	"github.com/o365prov/o365prov/internal/provision"
)

// crashChildEnv names the configuration a re-executed test binary syncs
// with, to be killed mid-apply by TestACrashAtAnyMomentLosesNothing.
const crashChildEnv = "O365PROV_CRASH_CHILD_CONFIG"

func TestMain(m *testing.M) {
	if path := os.Getenv(crashChildEnv); path != "" {
		os.Exit(crashChild(path))
	}
	code := m.Run()
	// The shared Samba AD, if a test started it: its files and loopback
	// address go with the binary, and only after every test has run.
	sambatest.Stop()
	os.Exit(code)
}

// crashChild runs one full cycle, as `o365prov sync --once --full` does.
func crashChild(path string) int {
	cfg, err := config.Load(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	limits := graph.EntraLimits().Scaled(tenantTimeScale)
	limits.WriteBurst = 200
	retry := graph.RetryPolicy{LagBase: 20 * time.Millisecond, LagCap: 500 * time.Millisecond, TransientBase: 10 * time.Millisecond, TransientCap: 200 * time.Millisecond}
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	sys, err := provision.Open(ctx, cfg, provision.Options{GraphLimits: &limits, GraphRetry: &retry, Settle: settle, Logger: log})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer sys.Close()
	if _, err := sys.Engines[0].Sync(ctx, engine.SyncOptions{Mode: engine.Full}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// TestACrashAtAnyMomentLosesNothing kills o365prov (SIGKILL, no cleanup)
// at random points of its first sync, many times, changing the directory
// between runs (titles, and users disabled there), then lets it finish:
// every user must exist once, with the latest attributes, one licence and
// the right manager, disabled users included, and every group once with
// its members.
func TestACrashAtAnyMomentLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("the crash test re-runs o365prov many times; skipped with -short")
	}
	const users = 200
	w := newWorld(t, withLDIF(orgLDIF(users)+crashGroups(users)), withSource(groupsScope))
	w.sys.Close() // the children own the state from here
	path := filepath.Join(w.dir, "o365prov.yaml")
	if err := os.WriteFile(path, []byte(w.yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	titles := map[int]string{}
	disabled := map[int]bool{}
	kills := 0
	var progress []string // users/writes in the tenant after each kill
	for run := 0; run < 15; run++ {
		for range 20 {
			i := rng.IntN(users)
			titles[i] = fmt.Sprintf("Title v%d", run)
			w.modify(userDN(i), ldapserver.Replace("title", titles[i]))
		}
		if run%3 == 1 {
			i := 3 + rng.IntN(users-3) // not a manager
			disabled[i] = true
			w.modify(userDN(i), ldapserver.Replace("nsAccountLock", "true"))
		}
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("run %d failed before it was killed: %v\n%s", run, err, stderr.String())
			}
		case <-time.After(time.Duration(30+rng.IntN(700)) * time.Millisecond):
			_ = cmd.Process.Kill()
			<-done
			kills++
			progress = append(progress, fmt.Sprintf("%d/%d", len(w.tenant.Users()), w.writes()))
			if run < 6 {
				lines := strings.Split(stderr.String(), "\n")
				t.Logf("run %d stderr tail: %s", run, strings.Join(lines[max(0, len(lines)-4):], "\n"))
			}
		}
	}
	t.Logf("killed %d of 15 runs mid-way; tenant users/writes after each kill: %v", kills, progress)
	if kills < 5 {
		t.Fatalf("only %d runs were killed mid-way: the test did not exercise crashes", kills)
	}
	// Let it finish, then check a further cycle has nothing left to do.
	for run := 0; run < 2; run++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("final run %d: %v\n%s", run, err, out)
		}
	}
	w.open()
	res := w.sync(engine.Full)
	if !res.Plan.Empty() {
		t.Errorf("after the crashes and a complete run, a full cycle still plans %d operations: %+v", len(res.Plan.Ops), res.Plan.Ops)
	}
	checkTenantMatchesOrg(t, w, users, titles)
	for i := range disabled {
		if w.mustUser(userUPN(i)).AccountEnabled {
			t.Errorf("user %d, disabled in the directory, is enabled in the tenant", i)
		}
	}
	checkCounts(t, countTenant(w), tenantCounts{users: users, groups: users / 20, memberships: users, licences: users, managers: users - 1})
}

// crashGroups puts the users in groups of 20.
func crashGroups(users int) string {
	var ldif strings.Builder
	for g := 0; g < users/20; g++ {
		var members []string
		for i := g * 20; i < (g+1)*20; i++ {
			members = append(members, userDN(i))
		}
		ldif.WriteString(groupLDIF(fmt.Sprintf("Crew%02d", g), members...))
	}
	return ldif.String()
}

// checkTenantMatchesOrg checks every user of orgLDIF is in the tenant once,
// with its title, its licence and its manager.
func checkTenantMatchesOrg(t *testing.T, w *world, users int, titles map[int]string) {
	t.Helper()
	if err := w.tenant.CheckConsistency(); err != nil {
		t.Fatalf("tenant inconsistent: %v", err)
	}
	live := 0
	for _, u := range w.tenant.Users() {
		if u.Deleted.IsZero() {
			live++
		}
	}
	if live != users {
		t.Fatalf("tenant has %d users, want %d (a duplicate or a lost create)", live, users)
	}
	for i := 0; i < users; i++ {
		u := w.mustUser(userUPN(i))
		want := "Engineer"
		if tt, ok := titles[i]; ok {
			want = tt
		}
		if got, _ := u.Properties["jobTitle"].(string); got != want {
			t.Errorf("user %d title %q, want %q (a change lost)", i, got, want)
		}
		if len(u.Licenses) != 1 {
			t.Errorf("user %d has %d licences, want 1", i, len(u.Licenses))
		}
		if m := managerOf(i); m >= 0 && u.Manager != w.mustUser(userUPN(m)).ID {
			t.Errorf("user %d manager %q, want user %d", i, u.Manager, m)
		}
	}
}
