package provision_test

import (
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// TestADeletePushedBySlapdReachesTheTenantWithinSeconds: with a one-hour
// interval and no full cycle due, only syncrepl's delete can bring a
// deletion to the tenant.
func TestADeletePushedBySlapdReachesTheTenantWithinSeconds(t *testing.T) {
	w := pushingDaemon(t, 12)
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
