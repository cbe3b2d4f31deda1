package main

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/o365prov/o365prov/internal/state"
	"github.com/o365prov/o365prov/internal/state/sqlite"
)

// storeConfig writes a configuration whose state is a SQLite file holding
// one provisioned user of channel staff, and returns its path.
func storeConfig(t *testing.T) string {
	t.Helper()
	t.Setenv("O365PROV_CLIENT_SECRET", "cs-object-test-value")
	t.Setenv("O365PROV_LDAP_PASSWORD", "lp-object-test-value")
	dir := t.TempDir()
	path := filepath.Join(dir, "o365prov.yaml")
	initConfig(t, path)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "state.db")
	if err := os.WriteFile(path, []byte(strings.Replace(string(b), "dsn: 'o365prov.db'", "dsn: '"+db+"'", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := sqlite.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Now()
	if err := st.PutObject(ctx, state.Object{Channel: "staff", Kind: state.KindUser, GUID: "6f1c0c7e-0000-4000-8000-000000000001", DN: "uid=ada,ou=people,dc=example,dc=com",
		GraphID: "8a7b0000-0000-4000-8000-0000000000aa", Lifecycle: state.LifecycleActive, Status: state.StatusOK, UpdatedAt: now,
		Applied: map[string]string{"userPrincipalName": `"ada@example.com"`, "jobTitle": `"Countess"`}}); err != nil {
		t.Fatal(err)
	}
	if err := st.Audit(ctx, state.AuditEntry{Time: now, Channel: "staff", Cycle: 1, Kind: state.KindUser, GUID: "6f1c0c7e-0000-4000-8000-000000000001", Operation: "createUser", Result: "ok", RequestID: "req-0001"}); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestObjectFindsAUserByEachKey(t *testing.T) {
	path := storeConfig(t)
	for _, args := range [][]string{
		{"--upn", "ADA@example.com"},
		{"--dn", "uid=ada,ou=people,dc=example,dc=com"},
		{"--guid", "6f1c0c7e-0000-4000-8000-000000000001"},
		{"--graph-id", "8a7b0000-0000-4000-8000-0000000000aa"},
	} {
		t.Run(args[0], func(t *testing.T) {
			code, out, errOut := runCLI(t, append([]string{"object", "--config", path}, args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			for _, want := range []string{"ada@example.com", "8a7b0000-0000-4000-8000-0000000000aa", "Countess", "createUser", "req-0001"} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
		})
	}
}

func TestObjectRefusesNoKeyAndReportsAnUnknownOne(t *testing.T) {
	path := storeConfig(t)
	if code, _, errOut := runCLI(t, "object", "--config", path); code != 2 || !strings.Contains(errOut, "exactly one of --upn") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if code, _, errOut := runCLI(t, "object", "--config", path, "--upn", "nobody@example.com"); code != 1 || !strings.Contains(errOut, "no object with UPN nobody@example.com") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
}

func TestStatusJSONIsTheConsolesOverview(t *testing.T) {
	path := storeConfig(t)
	code, out, errOut := runCLI(t, "status", "--config", path, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var ov struct {
		Channels []struct {
			Name  string
			Users struct{ Total, InSync int }
		}
	}
	if err := json.Unmarshal([]byte(out), &ov); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if len(ov.Channels) != 1 || ov.Channels[0].Name != "staff" || ov.Channels[0].Users.Total != 1 || ov.Channels[0].Users.InSync != 1 {
		t.Fatalf("%+v", ov)
	}
}

func TestDemoSaysWhenTheConsoleAddressIsTaken(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	code, _, errOut := runCLI(t, "demo", "--ldap", "127.0.0.1:0", "--tenant", "127.0.0.1:0", "--console", l.Addr().String(), "--log-level", "error")
	if code == 0 || !strings.Contains(errOut, "console on "+l.Addr().String()) || !strings.Contains(errOut, "--console") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
}
