package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCPUProfileFlag(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("target:\n  tenant: contoso.com\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range [][]string{{"sync", "--channel", "staff"}, {"run"}} {
		t.Run(cmd[0]+" refuses a profile it cannot write before doing anything", func(t *testing.T) {
			args := append(cmd, "--config", bad, "--cpuprofile", filepath.Join(dir, "missing", "cpu.prof"))
			code, _, errOut := runCLI(t, args...)
			if code != 2 || !strings.Contains(errOut, "--cpuprofile") || strings.Contains(errOut, "target.clientId") {
				t.Errorf("exit %d, want 2 naming --cpuprofile and nothing of the configuration:\n%s", code, errOut)
			}
		})
		t.Run(cmd[0]+" writes a complete profile even when the command fails", func(t *testing.T) {
			prof := filepath.Join(dir, cmd[0]+".prof")
			args := append(cmd, "--config", bad, "--cpuprofile", prof)
			if code, _, errOut := runCLI(t, args...); code != 2 {
				t.Fatalf("exit %d, want 2 for the bad configuration:\n%s", code, errOut)
			}
			b, err := os.ReadFile(prof)
			if err != nil {
				t.Fatal(err)
			}
			// pprof profiles are gzipped protocol buffers.
			if !bytes.HasPrefix(b, []byte{0x1f, 0x8b}) {
				t.Errorf("%s is not a pprof profile (%d bytes)", prof, len(b))
			}
		})
	}
}
