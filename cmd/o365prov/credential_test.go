package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/o365prov/o365prov/internal/faketenant"
)

// A wrong client secret was silent when a cycle had nothing to write
// ("nothing to do", exit 0): every cycle now gets a token first.
func TestAWrongClientSecretFailsACycleWithNothingToDo(t *testing.T) {
	w := newWorld(t)
	mustRun(t, 0, "sync", "--once", "--config", w.cfg, "--channel", "contoso", "--log-level", "error")
	if out := mustRun(t, 0, "status", "--config", w.cfg); !strings.Contains(out, "OK: last token 20") || !strings.Contains(out, "last refusal never") {
		t.Fatalf("status after a good cycle:\n%s", out)
	}
	if err := os.WriteFile(filepath.Join(w.dir, "client-secret"), []byte("not-the-secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "sync", "--once", "--config", w.cfg, "--channel", "contoso", "--log-level", "error")
	if code != 3 || !strings.Contains(errOut, "AADSTS7000215") || !strings.Contains(errOut, "set target.clientSecret to the secret's Value") {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, out, errOut)
	}
	if strings.Contains(out+errOut, "not-the-secret") {
		t.Fatal("the secret was printed")
	}
	code, _, errOut = runCLI(t, "plan", "--config", w.cfg, "--log-level", "error")
	if code != 3 || !strings.Contains(errOut, "token refused by Entra: AADSTS7000215") {
		t.Fatalf("plan: exit %d\n%s", code, errOut)
	}
	status := mustRun(t, 0, "status", "--config", w.cfg)
	if !strings.Contains(status, "FAILING: last token 20") || !strings.Contains(status, "AADSTS7000215") || strings.Contains(status, "last refusal never") {
		t.Fatalf("status after a refused token:\n%s", status)
	}
	if !strings.Contains(status, "CHANNEL") || !strings.Contains(status, "failed") {
		t.Fatalf("status does not show the failed cycle:\n%s", status)
	}
}

func TestStatusShowsWhenTheSecretExpires(t *testing.T) {
	w := newWorldWith(t, func(c *faketenant.Config) { c.Apps[0].Secrets[0].Expires = time.Now().Add(20*24*time.Hour + time.Hour) })
	mustRun(t, 0, "sync", "--once", "--config", w.cfg, "--channel", "contoso", "--log-level", "error")
	out := mustRun(t, 0, "status", "--config", w.cfg)
	if !strings.Contains(out, `client secret "secret 1" expires `) || !strings.Contains(out, "(in 20 days: add a new one to the app registration and set it in target)") {
		t.Fatalf("status:\n%s", out)
	}
}

func TestStatusSaysWhichPermissionShowsTheExpiry(t *testing.T) {
	w := newWorldWith(t, func(c *faketenant.Config) {
		c.Apps[0].Permissions = slices.DeleteFunc(c.Apps[0].Permissions, func(p string) bool {
			return strings.HasPrefix(p, "Directory.") || strings.HasPrefix(p, "Application.")
		})
	})
	// Without any Application permission the groups cannot carry their
	// source anchor either, so they fail (exit 5): the users still sync.
	mustRun(t, 5, "sync", "--once", "--config", w.cfg, "--channel", "contoso", "--log-level", "error")
	out := mustRun(t, 0, "status", "--config", w.cfg)
	if !strings.Contains(out, "expiry unknown: grant the app Application.Read.All (or Application.ReadWrite.OwnedBy on its own registration, which groups need anyway) to see when its secret or certificate expires") {
		t.Fatalf("status:\n%s", out)
	}
}

// A secret the tenant gives no end date for was warned of as expiring
// "in -2562047h" at every cycle of the demo.
func TestASecretWithoutAnEndDateIsNotWarnedOfAsExpiring(t *testing.T) {
	w := newWorldWith(t, func(c *faketenant.Config) { c.Apps[0].Secrets[0].Expires = time.Time{} })
	code, out, errOut := runCLI(t, "sync", "--once", "--config", w.cfg, "--channel", "contoso", "--log-level", "warn")
	if code != 0 {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, out, errOut)
	}
	if strings.Contains(errOut, "expires soon") {
		t.Fatalf("a secret without an end date was warned of:\n%s", errOut)
	}
}
