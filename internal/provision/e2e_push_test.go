package provision_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/o365prov/o365prov/internal/engine"
)

// plainLDIF is n users with only inetOrgPerson attributes, for slapd's
// schema checks.
func plainLDIF(n int) string {
	var b strings.Builder
	b.WriteString(orgLDIF(0))
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "dn: %s\nobjectClass: inetOrgPerson\nuid: user%d\ncn: User %d\nsn: Number%d\ngivenName: User\nmail: %s\ntitle: Engineer\n\n", userDN(i), i, i, i, userUPN(i))
	}
	return b.String()
}

// TestAChangePushedBySlapdReachesTheTenantWithinSeconds runs the daemon
// against OpenLDAP with syncrepl: with a one-hour interval, only the push
// can bring a change to the tenant.
func TestAChangePushedBySlapdReachesTheTenantWithinSeconds(t *testing.T) {
	w := pushingDaemon(t, 5)
	w.mustUser(userUPN(2))
	time.Sleep(500 * time.Millisecond) // let the syncrepl subscription go live
	start := time.Now()
	w.slapd.Modify(t, userDN(2), map[string][]string{"title": {"Pushed"}})
	for time.Since(start) < 10*time.Second {
		if w.mustUser(userUPN(2)).Properties["jobTitle"] == "Pushed" {
			t.Logf("change in the directory reached the tenant in %s", time.Since(start).Round(time.Millisecond))
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the change did not reach the tenant within 10 s although the directory pushes it")
}

// pushingDaemon runs the daemon over slapd with syncrepl and a one-hour
// interval, so only a push can bring a change to the tenant, and returns
// once its first (full) cycle is done. The daemon stops with the test.
func pushingDaemon(t *testing.T, users int) *world {
	t.Helper()
	w := newWorld(t, withSlapd(), withLDIF(plainLDIF(users)),
		withReplaced("skuId: '${o365Sku}'", "skuId: ''"),
		withReplaced(`changeDetection: {push: "off"}`, `changeDetection: {push: auto}`),
		withReplaced("interval: 1s", "interval: 1h"))
	ctx, cancel := context.WithCancel(w.ctx)
	t.Cleanup(cancel)
	cycles := make(chan *engine.Result, 16)
	r := &engine.Runner{Engines: w.sys.Engines, OnCycle: func(_ string, res *engine.Result, _ error) {
		select {
		case cycles <- res:
		default:
		}
	}}
	go func() { _ = r.Run(ctx) }()
	select {
	case <-cycles:
	case <-time.After(20 * time.Second):
		t.Fatal("no first cycle")
	}
	return w
}
