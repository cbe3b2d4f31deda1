package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBenchCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("heavy end to end: skipped with -short, run once by make e2e")
	}
	t.Run("a tiny run reports every figure as JSON and writes a well-formed SVG", func(t *testing.T) {
		svg := filepath.Join(t.TempDir(), "rate.svg")
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), []string{"bench", "--users", "50", "--time-scale", "200", "--changes", "10", "--json", "--check", "--svg", svg}, &stdout, &stderr)
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, stderr.String())
		}
		var r map[string]any
		if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, stdout.String())
		}
		for section, keys := range map[string][]string{
			"initial": {"seconds", "writesPerUser", "memberRequestsPer20Memberships", "ceilingRatioBusiestWindow",
				"ceilingRatioFirstToLast", "throttledShare", "peakRSSMB", "cpuSeconds", "writeBuckets"},
			"noChangeIncremental": {"wallMillis", "ldapRequests", "graphRequests", "writes"},
			"noChangeFull":        {"wallMillis", "ldapRequests", "graphRequests", "writes"},
			"change":              {"creates", "modifies", "disables", "deletes", "incremental", "full"},
			"changeLatency":       {"changes", "landed", "medianMillis", "p99Millis"},
			"naive":               {"users", "writes", "seconds", "writesPerSecond", "projectedSeconds"},
		} {
			m, ok := r[section].(map[string]any)
			if !ok {
				t.Errorf("no %s in the report", section)
				continue
			}
			for _, k := range keys {
				if _, ok := m[k]; !ok {
					t.Errorf("%s.%s missing", section, k)
				}
			}
		}
		in := r["initial"].(map[string]any)
		if in["usersCreated"].(float64) != 50 || in["writesPerUser"].(float64) <= 1 {
			t.Errorf("initial sync: %v users, %v writes per user", in["usersCreated"], in["writesPerUser"])
		}
		if lat := r["changeLatency"].(map[string]any); lat["landed"].(float64) != 10 {
			t.Errorf("%v of 10 changes landed", lat["landed"])
		}
		if r["speedUpOverNaive"].(float64) <= 0 {
			t.Errorf("no ratio against the naive baseline")
		}
		data, err := os.ReadFile(svg)
		if err != nil {
			t.Fatal(err)
		}
		dec := xml.NewDecoder(bytes.NewReader(data))
		root := ""
		for {
			tok, err := dec.Token()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("SVG is not well-formed XML: %v", err)
			}
			if se, ok := tok.(xml.StartElement); ok && root == "" {
				root = se.Name.Local
			}
		}
		if root != "svg" || !strings.Contains(string(data), "ceiling") {
			t.Errorf("SVG root %q, or no ceiling line", root)
		}
	})
	t.Run("a size out of range is a usage error naming the flag", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), []string{"bench", "--users", "3"}, &stdout, &stderr); code != exitUsage {
			t.Fatalf("exit %d, want %d", code, exitUsage)
		}
		if !strings.Contains(stderr.String(), "--users 3") {
			t.Errorf("stderr %q does not name --users", stderr.String())
		}
	})
}
