package provision_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/o365prov/o365prov/internal/bench"

	"github.com/o365prov/o365prov/internal/engine"
	"github.com/o365prov/o365prov/internal/faketenant"
)

// Run by hand (the figures are in BENCHMARKS.md):
//
//	go test -run '^$' -bench 'Sync' -benchtime 1x ./internal/provision/
//
// O365PROV_BENCH_USERS changes the number of users (default 10,000) and
// O365PROV_BENCH_SCALE the tenant's time scale (default 100: Graph's
// windows a hundred times shorter, so 20 writes/s become 2,000).

func benchUsers() int {
	if n, err := strconv.Atoi(os.Getenv("O365PROV_BENCH_USERS")); err == nil && n > 0 {
		return n
	}
	return 10000
}

func benchScale() float64 {
	if s, err := strconv.ParseFloat(os.Getenv("O365PROV_BENCH_SCALE"), 64); err == nil && s > 0 {
		return s
	}
	return 100
}

func BenchmarkSyncInitialUsers(b *testing.B) {
	n, scale := benchUsers(), benchScale()
	for range b.N {
		b.StopTimer()
		w := newWorld(b, withLDIF(orgLDIF(n)), withScale(scale),
			withReplaced("skuId: '${o365Sku}'", "skuId: ''\n        manager: ''"))
		b.StartTimer()
		start := time.Now()
		res := w.sync(engine.Full)
		took := time.Since(start)
		b.StopTimer()
		c := w.tenant.Counters()
		b.ReportMetric(float64(c.WritesAccepted)/float64(n), "writes/user")
		b.ReportMetric(bench.WriteRate(c.WriteTimes)/bench.Ceiling, "rate/ceiling")
		b.ReportMetric(float64(c.Throttled), "429s")
		b.ReportMetric(took.Seconds(), "s/sync")
		if res.Failed > 0 {
			b.Fatalf("%d failures: %v", res.Failed, res.Failures[0])
		}
		benchNoChange(b, w, n)
	}
}

// benchNoChange times a cycle with nothing to do, incremental and full.
func benchNoChange(b *testing.B, w *world, n int) {
	before := w.writes()
	for _, mode := range []engine.Mode{engine.Incremental, engine.Full} {
		start := time.Now()
		res := w.sync(mode)
		took := time.Since(start)
		if !res.Plan.Empty() {
			b.Fatalf("%s no-change cycle planned %d operations", mode, len(res.Plan.Ops))
		}
		b.ReportMetric(float64(took.Milliseconds()), fmt.Sprintf("ms/no-change-%s", mode))
	}
	b.ReportMetric(float64(w.writes()-before), "no-change-writes")
}

// orgWithGroups is orgLDIF plus groups of about members people each, drawn
// with a fixed seed. It returns the LDIF, the number of memberships, and the
// fewest requests that can carry them (⌈n/20⌉ a group).
func orgWithGroups(users, groups, members int) (string, int, int) {
	var sb strings.Builder
	sb.WriteString(orgLDIF(users))
	rng := rand.New(rand.NewPCG(7, 7))
	total, minimum := 0, 0
	for g := 0; g < groups; g++ {
		fmt.Fprintf(&sb, "dn: cn=group%d,ou=groups,dc=contoso,dc=com\nobjectClass: groupOfNames\ncn: group%d\n", g, g)
		picked := map[int]bool{}
		size := members/2 + rng.IntN(members+1)
		for len(picked) < size {
			picked[rng.IntN(users)] = true
		}
		for u := range picked {
			sb.WriteString("member: " + userDN(u) + "\n")
		}
		total += size
		minimum += (size + 19) / 20
		sb.WriteString("\n")
	}
	return sb.String(), total, minimum
}

func BenchmarkSyncInitialWithLicencesManagersGroups(b *testing.B) {
	n, scale := benchUsers(), benchScale()
	groups := n / 20
	for range b.N {
		b.StopTimer()
		ldif, memberships, minimum := orgWithGroups(n, groups, 50)
		w := newWorld(b, withLDIF(ldif), withScale(scale), withSource(groupsScope),
			withTenant(func(c *faketenant.Config) {
				for i := range c.SKUs {
					c.SKUs[i].Units = 2 * n
				}
			}))
		b.StartTimer()
		start := time.Now()
		res := w.sync(engine.Full)
		took := time.Since(start)
		b.StopTimer()
		c := w.tenant.Counters()
		userWrites := c.Count("POST", "/v1.0/users", 201) + c.Count("POST", "/v1.0/users/{id}/assignLicense", 200) + c.Count("PUT", "/v1.0/users/{id}/manager/$ref", 204)
		patches, carrying := countOps(res, engine.OpAddMembers), 0
		for _, op := range res.Plan.Ops {
			if op.Type == engine.OpAddMembers || (op.Type == engine.OpCreateGroup && len(op.Members) > 0) {
				carrying++
			}
		}
		b.ReportMetric(float64(userWrites)/float64(n), "writes/user")
		b.ReportMetric(float64(patches)/(float64(memberships)/20), "member-patches/20-memberships")
		b.ReportMetric(float64(carrying)/float64(minimum), "member-requests/fewest-possible")
		b.ReportMetric(float64(c.WritesAccepted)/float64(res.Writes), "accepted/planned-writes")
		b.ReportMetric(bench.WriteRate(c.WriteTimes)/bench.Ceiling, "rate/ceiling")
		b.ReportMetric(float64(c.Throttled), "429s")
		b.ReportMetric(took.Seconds(), "s/sync")
		if res.Failed > 0 {
			b.Fatalf("%d failures: %v", res.Failed, res.Failures[0])
		}
		benchNoChange(b, w, n)
	}
}
