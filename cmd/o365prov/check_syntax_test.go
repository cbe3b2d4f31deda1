package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A YAML syntax error reads FILE:LINE: like every other problem, so an
// editor or a terminal jumps to it.
func TestCheckPlacesASyntaxErrorAtItsLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "broken.yaml")
	if err := os.WriteFile(path, []byte("state:\n  driver: sqlite\ntarget:\n\ttenant: contoso.com\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCLI(t, "check", "--config", path)
	if code != 2 || !strings.HasPrefix(errOut, path+":4: not valid YAML: ") || !strings.Contains(errOut, "a tab") {
		t.Fatalf("exit %d, want 2 and %s:4: first:\n%s", code, path, errOut)
	}
}
