package main

import (
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
)

// scrape reads /metrics and returns its text.
func scrape(t *testing.T, consoleURL string) string {
	t.Helper()
	resp, err := http.Get(consoleURL + "metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("%d %v", resp.StatusCode, err)
	}
	return string(b)
}

// sample reads one series' value from a scrape (0 when absent).
func sample(t *testing.T, text, series string) float64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(text)
	if m == nil {
		return 0
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestMetricsMoveDuringADemoSync scrapes the demo's /metrics, changes a
// person in the directory, and scrapes again once the change reached the
// tenant: the counters moved, and the exposition passes promlint.
func TestMetricsMoveDuringADemoSync(t *testing.T) {
	if testing.Short() {
		t.Skip("heavy end to end: skipped with -short, run once by make e2e")
	}
	_, consoleURL, ldapURL, _ := startDemo(t)
	before := scrape(t, consoleURL)
	problems, err := promlint.New(strings.NewReader(before)).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
	if sample(t, before, `o365prov_operations_total{channel="contoso",operation="createUser",result="ok"}`) != 200 {
		t.Errorf("the first sync's 200 creates are not counted:\n%s", before)
	}
	c, err := ldap.DialURL(ldapURL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Bind(demoAdminDN, demoAdminPassword); err != nil {
		t.Fatal(err)
	}
	mod := ldap.NewModifyRequest("uid="+demoSampleUID()+",ou=people,dc=contoso,dc=com", nil)
	mod.Replace("title", []string{"Chief Metrics Officer"})
	if err := c.Modify(mod); err != nil {
		t.Fatal(err)
	}
	updates := `o365prov_operations_total{channel="contoso",operation="updateUser",result="ok"}`
	var after string
	waitUntil(t, "the update to be counted", time.Minute, func() bool {
		after = scrape(t, consoleURL)
		return sample(t, after, updates) > sample(t, before, updates)
	})
	for _, series := range []string{"o365prov_graph_writes_total", `o365prov_cycles_total{channel="contoso",kind="incremental",result="ok"}`} {
		if sample(t, after, series) <= sample(t, before, series) {
			t.Errorf("%s did not move: %v then %v", series, sample(t, before, series), sample(t, after, series))
		}
	}
}
