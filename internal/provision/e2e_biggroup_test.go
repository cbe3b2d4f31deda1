//go:build !race

// The race detector makes this test ten times slower without finding more:
// the same code runs under it at small scale in the other tests. `make test`
// runs it in a separate pass without -race.

package provision_test

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/o365prov/o365prov/internal/engine"
	"github.com/o365prov/o365prov/internal/faketenant"
	"github.com/o365prov/o365prov/internal/ldapserver"
)

// TestScaleAGroupOf20001Members provisions a group larger than Entra Connect
// Cloud Sync's 50k-member groups would make slow, and checks a change of
// one member then costs one write. The users exist in the tenant already
// (linked by onPremisesImmutableId at no write), so the test measures the
// group, not 20,001 creates.
func TestScaleAGroupOf20001Members(t *testing.T) {
	if testing.Short() {
		t.Skip("20,001 users: skipped with -short")
	}
	const n = 20001
	var b strings.Builder
	b.WriteString(orgLDIF(0))
	ids := make([]string, n)
	for i := 0; i < n; i++ {
		u := uuid.UUID{}
		copy(u[:], fmt.Sprintf("o365prov-%07d", i))
		ids[i] = base64.StdEncoding.EncodeToString(u[:])
		fmt.Fprintf(&b, "dn: %s\nobjectClass: inetOrgPerson\nuid: user%d\ncn: User %d\nsn: Number%d\ngivenName: User\nmail: %s\nentryUUID: %s\n\n", userDN(i), i, i, i, userUPN(i), u)
	}
	b.WriteString("dn: " + groupDN("All Staff") + "\nobjectClass: groupOfNames\ncn: All Staff\n")
	for i := 0; i < n; i++ {
		b.WriteString("member: " + userDN(i) + "\n")
	}
	start := time.Now()
	w := newWorld(t, withLDIF(b.String()), withSource(groupsScope),
		withReplaced("skuId: '${o365Sku}'", "skuId: ''\n        manager: ''"),
		withTenant(func(c *faketenant.Config) { c.Throttling.Profile = "off"; c.Latency = faketenant.LatencyConfig{} }))
	for i := 0; i < n; i++ {
		_, err := w.tenant.AddUser(faketenant.SeedUser{Properties: map[string]any{
			"userPrincipalName": userUPN(i), "displayName": "User " + itoa(i), "givenName": "User", "surname": "Number" + itoa(i),
			"mailNickname": "user" + itoa(i), "mail": userUPN(i), "accountEnabled": true, "onPremisesImmutableId": ids[i],
		}})
		if err != nil {
			t.Fatal(err)
		}
	}
	res := w.sync(engine.Full)
	t.Logf("%d users linked and a group of %d members written in %s", n, n, time.Since(start).Round(time.Millisecond))
	if res.Failed > 0 || countOps(res, engine.OpLinkUser) != n || countOps(res, engine.OpCreateUser) != 0 {
		t.Fatalf("links %d creates %d failures %v", countOps(res, engine.OpLinkUser), countOps(res, engine.OpCreateUser), res.Failures[:min(3, len(res.Failures))])
	}
	// The group's creation carries the members that do not fill a request
	// of 20; the others go 20 to a PATCH.
	if adds, want := countOps(res, engine.OpAddMembers), n/20; adds != want {
		t.Errorf("%d addMembers requests for %d members, want %d (20 per request, the rest with the creation)", adds, n, want)
	}
	g := w.mustGroup("All Staff")
	if got := len(w.tenant.Members(g.ID)); got != n {
		t.Fatalf("group has %d members, want %d", got, n)
	}
	before := w.writes()
	w.modify(groupDN("All Staff"), ldapserver.DeleteValues("member", userDN(777)))
	res = w.sync(engine.Incremental)
	if got := w.writes() - before; got != 1 || len(res.Plan.Ops) != 1 || res.Plan.Ops[0].Type != engine.OpRemoveMember {
		t.Errorf("removing one member: %d writes, plan %+v", got, res.Plan.Ops)
	}
	if got := len(w.tenant.Members(g.ID)); got != n-1 {
		t.Errorf("group has %d members, want %d", got, n-1)
	}
}
