package main

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/o365prov/o365prov/internal/engine"
	"github.com/o365prov/o365prov/internal/state/sqlite"
)

// The whole life of a held plan at the command line: plan shows it would
// be held, sync holds it and prints the approval command, which works
// pasted; reject says "rejected"; the cycle that applies an approved plan
// reports what it applied.
func TestAHeldPlanIsApprovedByTheCommandsPrinted(t *testing.T) {
	w := newWorld(t)
	cfg := w.cfg
	first := mustRun(t, 0, "sync", "--once", "--config", cfg, "--channel", "contoso", "--log-level", "error")
	if !strings.Contains(first, "contoso: full cycle, ") {
		t.Fatalf("first cycle:\n%s", first)
	}
	// The first cycle read everything: it is recorded as full, as printed.
	if kind := lastCycleKind(t, w); kind != "full" {
		t.Errorf("the first cycle is recorded as %q, printed as full", kind)
	}

	w.deletePeople(t, 6) // more than 5, and over 10 % of the channel
	planned := mustRun(t, 0, "plan", "--config", cfg, "--full")
	if !strings.Contains(planned, "HELD:") || !strings.Contains(planned, "`o365prov sync --once --config "+cfg+" --channel contoso` holds it") {
		t.Fatalf("plan of a plan a cycle would hold:\n%s", planned)
	}

	held := mustRun(t, 4, "sync", "--once", "--full", "--config", cfg, "--channel", "contoso")
	approve := "o365prov plan approve" + lineAfter(t, held, "approve with: o365prov plan approve")
	id := approve[strings.LastIndex(approve, " ")+1:]
	if !strings.Contains(approve, "--config "+cfg+" --channel contoso "+id) {
		t.Fatalf("approval hint %q", approve)
	}
	// plan now finds the plan held under that id.
	again := mustRun(t, 0, "plan", "--config", cfg, "--full")
	if !strings.Contains(again, "held as plan "+id+"; approve with: "+approve) {
		t.Fatalf("plan of a held plan:\n%s", again)
	}
	if out := mustRun(t, 0, "plan", "list", "--config", cfg); !strings.Contains(out, id) || !strings.Contains(out, "held") {
		t.Fatalf("plan list:\n%s", out)
	}
	if out := mustRun(t, 0, "plan", "show", "--config", cfg, id); !strings.Contains(out, "status: held") || !strings.Contains(out, "approve with: "+approve) {
		t.Fatalf("plan show:\n%s", out)
	}
	if out := mustRun(t, 0, "plan", "reject", "--config", cfg, "--channel", "contoso", "--by", "alice", id); !strings.Contains(out, "plan "+id+" rejected by alice") {
		t.Fatalf("reject: %q", out)
	}

	held = mustRun(t, 4, "sync", "--once", "--full", "--config", cfg, "--channel", "contoso")
	approve = "o365prov plan approve" + lineAfter(t, held, "approve with: o365prov plan approve")
	id = approve[strings.LastIndex(approve, " ")+1:]
	if out := pasted(t, 0, approve); !strings.Contains(out, "plan "+id+" approved by ") {
		t.Fatalf("approve: %q", out)
	}
	applied := mustRun(t, 0, "sync", "--once", "--config", cfg, "--channel", "contoso")
	// It used to print the empty plan computed after it: "0 operations … 0 writes".
	m := regexp.MustCompile(`contoso: applied approved plan ` + id + `: (\d+) operations: (\d+) succeeded, 0 failed, 0 waiting; \d+ writes`).FindStringSubmatch(applied)
	if m == nil || m[1] != m[2] || m[1] == "0" {
		t.Fatalf("the cycle that applied the approved plan said:\n%s", applied)
	}
	if out := mustRun(t, 0, "audit", "--config", cfg, "--operation", "disableUser", "--limit", "100"); strings.Count(out, "disableUser") != 6 {
		t.Fatalf("audit of the approved plan:\n%s", out)
	}
}

func TestAnApprovedPlanWithFailuresExitsFive(t *testing.T) {
	var b bytes.Buffer
	res := &engine.Result{Plan: &engine.Plan{Mode: "incremental"}, Approved: []*engine.Result{
		{Plan: &engine.Plan{ID: "p1", Ops: make([]engine.Op, 3)}, Succeeded: 2, Failed: 1, Writes: 3,
			Failures: []engine.OpFailure{{Op: 2, DN: "uid=x", Err: "no free licences"}}},
	}}
	err := reportSync(&b, "c.yaml", "staff", res, nil, false)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitPartial {
		t.Fatalf("got %v", err)
	}
	if !strings.Contains(b.String(), "staff: applied approved plan p1: 3 operations: 2 succeeded, 1 failed") || !strings.Contains(b.String(), "failed #2 uid=x: no free licences") {
		t.Fatalf("printed:\n%s", b.String())
	}
}

func TestApproveCommandQuotesWhatTheShellWouldSplit(t *testing.T) {
	got := approveCommand("/srv/o365 prov/c.yaml", "staff", "abc")
	if got != "o365prov plan approve --config '/srv/o365 prov/c.yaml' --channel staff abc" {
		t.Fatal(got)
	}
}

// lastCycleKind is how state recorded the channel's last cycle.
func lastCycleKind(t *testing.T, w *world) string {
	t.Helper()
	st, err := sqlite.Open(context.Background(), w.dir+"/state.db")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cycles, err := st.Cycles(context.Background(), "contoso", 1)
	if err != nil || len(cycles) == 0 {
		t.Fatalf("cycles: %v %v", cycles, err)
	}
	return cycles[0].Kind
}

func TestLogLinesNameTheirChannelOnce(t *testing.T) {
	w := newWorld(t)
	mustRun(t, 0, "sync", "--once", "--config", w.cfg, "--channel", "contoso", "--log-level", "error")
	w.deletePeople(t, 6) // a held plan: the engine's own warning
	code, _, errOut := runCLI(t, "sync", "--once", "--full", "--config", w.cfg, "--channel", "contoso", "--log-level", "debug")
	if code != 4 || !strings.Contains(errOut, "plan held for approval") {
		t.Fatalf("exit %d:\n%s", code, errOut)
	}
	for _, line := range strings.Split(errOut, "\n") {
		if strings.Count(line, "channel=") > 1 {
			t.Errorf("channel named twice: %s", line)
		}
	}
}
