package console

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/o365prov/o365prov/internal/graph"
	"github.com/o365prov/o365prov/internal/state"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestMetricsPassTheLinterAndMoveWithWhatIsObserved(t *testing.T) {
	tc := newTestConsole(t, testToken)
	m := tc.monitor
	m.ObserveRequest("POST", "/users", 201, 40*time.Millisecond, 1)
	m.ObserveRequest("GET", "/users/{id}", 200, 10*time.Millisecond, 1)
	m.ObserveHTTP(20, 200, 80*time.Millisecond)
	m.Throttled("PATCH", "/users/{id}", 2*time.Second)
	m.Retried("PATCH", "/users/{id}", graph.RetryThrottled)
	m.Progress("contoso").Start(10)
	m.Progress("contoso").Done(4)
	m.SignIn("success")
	m.CertificateExpiry("current", fixtureNow.Add(30*24*time.Hour))
	// An operation recorded through the observed store counts too.
	must(t, tc.o.Store.Audit(context.Background(), state.AuditEntry{Time: fixtureNow, Channel: "contoso", Kind: state.KindUser, GUID: ada, Operation: "updateUser", Result: "ok"}))

	problems, err := testutil.GatherAndLint(m.Registry())
	must(t, err)
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
	for _, tt := range []struct {
		name, metric, want string
	}{
		{"a write counts", "o365prov_graph_writes_total", "o365prov_graph_writes_total 1"},
		{"requests by method, path and code", "o365prov_graph_requests_total", `o365prov_graph_requests_total{code="201",method="POST",path="/users"} 1`},
		{"429s by path template", "o365prov_graph_throttled_total", `o365prov_graph_throttled_total{method="PATCH",path="/users/{id}"} 1`},
		{"retries by reason", "o365prov_graph_retries_total", `o365prov_graph_retries_total{reason="throttled"} 1`},
		{"operations by kind and result", "o365prov_operations_total", `o365prov_operations_total{channel="contoso",operation="updateUser",result="ok"} 1`},
		{"objects by state, from the store", "o365prov_objects", `o365prov_objects{channel="contoso",kind="user",state="failed"} 1`},
		{"the backlog of the running apply", "o365prov_sync_backlog_operations", `o365prov_sync_backlog_operations{channel="contoso"} 6`},
		{"sign-ins by result", "o365prov_sso_signins_total", `o365prov_sso_signins_total{result="success"} 1`},
		{"certificate expiry", "o365prov_sso_certificate_expiry_timestamp_seconds", `o365prov_sso_certificate_expiry_timestamp_seconds{use="current"} 1.7987976e+09`},
		{"certificate time left", "o365prov_sso_certificate_remaining_seconds", `o365prov_sso_certificate_remaining_seconds{use="current"} 2.592e+06`},
		{"write budget share", "o365prov_graph_write_budget_ratio", "o365prov_graph_write_budget_ratio 0.000333"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := newReq(t, "GET", tc.srv.URL+"/metrics", nil)
			req.Header.Set("Authorization", "Bearer "+testToken)
			code, body, _ := do(t, client(t), req)
			if code != 200 || !strings.Contains(body, tt.want) {
				t.Fatalf("%d: /metrics lacks %q", code, tt.want)
			}
		})
	}
}

func TestNoMetricLabelHoldsAnIdentifier(t *testing.T) {
	tc := newTestConsole(t, testToken)
	tc.monitor.ObserveRequest("PATCH", "/users/{id}", 204, time.Millisecond, 1)
	must(t, tc.o.Store.Audit(context.Background(), state.AuditEntry{Time: fixtureNow, Channel: "contoso", Kind: state.KindUser, GUID: ada, DN: "uid=ada,ou=people,dc=contoso,dc=com", Operation: "updateUser", Result: "ok"}))
	req := newReq(t, "GET", tc.srv.URL+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	_, body, _ := do(t, client(t), req)
	for _, id := range []string{ada, adaGraph, "ada@contoso.com", "uid=ada"} {
		if strings.Contains(body, id) {
			t.Errorf("/metrics holds %q: labels must be bounded", id)
		}
	}
}

func TestAuditLinesCarryPingFederatesFields(t *testing.T) {
	st := openStore(t)
	seed(t, st)
	var buf bytes.Buffer
	obs := Observe(st, NewMonitor(20, nil), NewAuditLines(&buf, nil))
	must(t, obs.Audit(context.Background(),
		state.AuditEntry{Time: fixtureNow, Channel: "contoso", Cycle: 7, Kind: state.KindUser, GUID: ada, DN: "uid=ada,ou=people,dc=contoso,dc=com", Operation: "updateUser", Result: "ok", RequestID: "req-1"},
		state.AuditEntry{Time: fixtureNow, Channel: "contoso", Cycle: 7, Kind: state.KindUser, GUID: cy, Operation: "createUser", Result: "failed", Detail: "400 usageLocation is invalid"},
	))
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines:\n%s", len(lines), buf.String())
	}
	var ok, failed map[string]any
	must(t, json.Unmarshal([]byte(lines[0]), &ok))
	must(t, json.Unmarshal([]byte(lines[1]), &failed))
	for k, want := range map[string]any{"cycle_id": 7.0, "channel_id": "contoso", "event_type": "updateUser", "source_id": ada, "target_id": adaGraph, "is_success": true, "request_id": "req-1"} {
		if ok[k] != want {
			t.Errorf("%s = %v, want %v", k, ok[k], want)
		}
	}
	if failed["is_success"] != false || failed["non_success_cause"] != "400 usageLocation is invalid" {
		t.Errorf("failed line: %v", failed)
	}
}

func TestWithoutATokenTheConsoleListensOnLoopbackOnlyAndSaysSo(t *testing.T) {
	var logs bytes.Buffer
	l, err := Listen(context.Background(), ListenConfig{Addr: "0.0.0.0:0"}, slog.New(slog.NewTextHandler(&logs, nil)))
	must(t, err)
	defer l.Close()
	host, _, _ := net.SplitHostPort(l.Addr().String())
	if !net.ParseIP(host).IsLoopback() {
		t.Fatalf("listening on %s", l.Addr())
	}
	if !strings.Contains(logs.String(), "loopback only") || !strings.Contains(logs.String(), "adminToken") {
		t.Fatalf("the log does not say so: %s", logs.String())
	}
}

func TestWithoutATokenEveryPageOpensAndActionsStillNeedTheCSRFToken(t *testing.T) {
	forEachSessionStore(t, func(t *testing.T, opt consoleOption) {
		tc := newTestConsole(t, "", opt)
		c := client(t)
		code, page, _ := do(t, c, newReq(t, "GET", tc.srv.URL+"/channels/contoso", nil))
		if code != 200 || !strings.Contains(page, "local operator") {
			t.Fatal(code)
		}
		req := newReq(t, "POST", tc.srv.URL+"/api/v1/channels/contoso/reset-watermark", nil)
		if code, body, _ := do(t, c, req); code != 403 {
			t.Fatal(code, body)
		}
		// Another site's page posting to the loopback console has no session.
		req = newReq(t, "POST", tc.srv.URL+"/api/v1/channels/contoso/sync", strings.NewReader(`{"mode":"full"}`))
		if code, body, _ := do(t, client(t), req); code != 403 {
			t.Fatal(code, body)
		}
		if len(tc.control.Calls()) != 0 {
			t.Fatal("an action without a CSRF token was done")
		}
	})
}
