package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/o365prov/o365prov/internal/state"
	"github.com/o365prov/o365prov/internal/state/sqlite"
)

// clusterConfig writes a configuration whose state is a file of the test's,
// and returns its path and the state's.
func clusterConfig(t *testing.T) (string, string) {
	t.Helper()
	t.Setenv("O365PROV_CLIENT_SECRET", "x-secret-value")
	t.Setenv("O365PROV_LDAP_PASSWORD", "x-password-value")
	dir := t.TempDir()
	path, db := filepath.Join(dir, "c.yaml"), filepath.Join(dir, "state.db")
	initConfig(t, path)
	b, _ := os.ReadFile(path)
	doc := strings.Replace(string(b), "dsn: 'o365prov.db'", "dsn: '"+db+"'", 1)
	if doc == string(b) {
		t.Fatal("test broken: the template's dsn not found")
	}
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, db
}

// withNodes records nodes a and b, node a running channel staff.
func withNodes(t *testing.T, db string) {
	t.Helper()
	s, err := sqlite.Open(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, n := range []state.Node{
		{Name: "host-a/41", Address: "host-a:9090", Version: "v1.2.3", Serves: []string{"channels", "console"}},
		{Name: "host-b/42", Address: "host-b", Version: "v1.2.3", Serves: []string{"channels"}},
	} {
		if err := s.Heartbeat(t.Context(), n); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.AcquireLease(t.Context(), "channel/staff", "host-a/41", time.Minute); err != nil {
		t.Fatal(err)
	}
}

func TestStatusListsNodesAndWhoRunsEachChannel(t *testing.T) {
	path, db := clusterConfig(t)
	withNodes(t, db)
	code, out, errOut := runCLI(t, "status", "--config", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"NODE", "host-a/41", "host-a:9090", "v1.2.3", "alive", "channels,console", "host-b/42", "RUN BY", "EPOCH"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	var staff string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "staff ") && strings.Contains(l, "renewed") {
			staff = l
		}
	}
	if !strings.Contains(staff, "host-a/41") || !strings.Contains(staff, " 1 ") {
		t.Errorf("status does not show staff run by host-a/41 at epoch 1:\n%s", out)
	}
}

func TestChannelHandover(t *testing.T) {
	tests := []struct {
		name  string
		nodes bool
		args  []string
		code  int
		out   string
	}{
		{"a channel no node runs cannot be handed over", false, nil, 1, "no node runs channel staff now"},
		{"an unknown channel is refused", true, []string{"--channel", "nope"}, 1, `no channel "nope"`},
		{"a node that is not alive is refused", true, []string{"--to", "host-z/9"}, 1, "not a live node running channels (alive: host-a/41, host-b/42)"},
		{"the node that runs it already is refused", true, []string{"--to", "host-a/41"}, 1, "already runs channel staff"},
		{"the holder is asked to hand it to the node named", true, []string{"--to", "host-b/42"}, 0, "asked host-a/41 to hand it over to host-b/42 at the end of its current cycle"},
		{"without --to, any other node may take it", true, nil, 0, "to any other node"},
		{"waiting reports when no node took it in time", true, []string{"--wait", "1s"}, 1, "no other node took it within 1s"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path, db := clusterConfig(t)
			if tc.nodes {
				withNodes(t, db)
			}
			args := append([]string{"channel", "handover", "--config", path, "--channel", "staff"}, tc.args...)
			code, out, errOut := runCLI(t, args...)
			if code != tc.code || !strings.Contains(out+errOut, tc.out) {
				t.Errorf("exit %d, output %q %q; want exit %d mentioning %q", code, out, errOut, tc.code, tc.out)
			}
		})
	}
	t.Run("the request reaches the holder's lease", func(t *testing.T) {
		path, db := clusterConfig(t)
		withNodes(t, db)
		if code, _, errOut := runCLI(t, "channel", "handover", "--config", path, "--channel", "staff", "--to", "host-b/42"); code != 0 {
			t.Fatal(errOut)
		}
		s, err := sqlite.Open(t.Context(), db)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		l, err := s.RenewLease(t.Context(), "channel/staff", "host-a/41", 1, time.Minute)
		if err != nil || l.HandoverTo != "host-b/42" {
			t.Errorf("the holder's renewal shows handover to %q (%v), want host-b/42", l.HandoverTo, err)
		}
	})
}
