package provision_test

import (
	"context"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/o365prov/o365prov/internal/engine"
)

// TestADeletePushedBySlapdReachesTheTenantWithinSeconds: with a one-hour
// interval and no full cycle due, only syncrepl's delete can bring a
// deletion to the tenant.
func TestADeletePushedBySlapdReachesTheTenantWithinSeconds(t *testing.T) {
	w := newWorld(t, withSlapd(), withLDIF(plainLDIF(12)),
		withReplaced("skuId: '${o365Sku}'", "skuId: ''"),
		withReplaced(`changeDetection: {push: "off"}`, `changeDetection: {push: auto}`),
		withReplaced("interval: 1s", "interval: 1h"))
	ctx, cancel := context.WithCancel(w.ctx)
	defer cancel()
	cycles := make(chan *engine.Result, 16)
	r := &engine.Runner{Engines: w.sys.Engines, OnCycle: func(_ string, res *engine.Result, _ error) { cycles <- res }}
	go func() { _ = r.Run(ctx) }()
	select {
	case <-cycles: // the first (full) cycle
	case <-time.After(20 * time.Second):
		t.Fatal("no first cycle")
	}
	if !w.mustUser(userUPN(2)).AccountEnabled {
		t.Fatal("user 2 not provisioned enabled")
	}
	time.Sleep(500 * time.Millisecond) // let the syncrepl subscription go live
	start := time.Now()
	if err := w.slapd.Conn(t).Del(ldap.NewDelRequest(userDN(2), nil)); err != nil {
		t.Fatal(err)
	}
	for time.Since(start) < 10*time.Second {
		if !w.mustUser(userUPN(2)).AccountEnabled {
			t.Logf("a delete in the directory reached the tenant in %s", time.Since(start).Round(time.Millisecond))
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the deleted user was not disabled within 10 s although the directory pushes the delete")
}
