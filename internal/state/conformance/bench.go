package conformance

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/o365prov/o365prov/internal/state"
)

// RunBenchmarks measures what the engine's cycles lean on, the same way for
// every store: open must return a new, empty store (RunBenchmarks closes it).
// Besides ns/op it reports cpu-ns/op, the process's CPU time per operation,
// which stays put when other processes share the machine and wall time does
// not.
func RunBenchmarks(b *testing.B, open func(b *testing.B) state.Store) {
	for _, bm := range []struct {
		name  string
		setup func(b *testing.B, s state.Store) (op func(b *testing.B))
	}{
		{"Objects/stream-10000", benchObjects},
		{"PutObjects/1000-in-one-call", benchPutObjects},
		{"PutObject/one-commit", benchPutObject},
		{"Object/by-GUID-of-10000", benchObject},
		{"ObjectByDN/of-10000", benchObjectByDN},
		{"DueRetries/100-of-10000", benchDueRetries},
		{"Members/stream-50000", benchMembers},
		{"AddMembers+RemoveMembers/5000-each", benchChangeMembers},
		{"Audit/20-in-one-call", benchAudit},
		{"QueryAudit/page-of-100-in-50000", benchQueryAudit},
	} {
		b.Run(bm.name, func(b *testing.B) {
			s := open(b)
			b.Cleanup(func() {
				if err := s.Close(); err != nil {
					b.Errorf("close: %v", err)
				}
			})
			op := bm.setup(b, s)
			cpu := cpuTime()
			for b.Loop() {
				op(b)
			}
			if b.N > 0 {
				b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
			}
		})
	}
}

// benchUser is a user as the engine records it: a DN, a Graph id and about
// twenty applied fields.
func benchUser(i int) state.Object {
	guid := fmt.Sprintf("%08x-1d4b-4c1e-9f0a-6e2d8c3b5a7f", i)
	name := fmt.Sprintf("User %d", i)
	return state.Object{
		Channel: "staff", Kind: state.KindUser, GUID: guid,
		DN:      fmt.Sprintf("CN=%s,OU=Staff,OU=People,DC=corp,DC=example,DC=com", name),
		GraphID: fmt.Sprintf("%08x-aaaa-4bbb-8ccc-dddddddddddd", i),
		Applied: map[string]string{
			"accountEnabled": "true", "displayName": strconv.Quote(name), "givenName": `"User"`,
			"surname": strconv.Quote(strconv.Itoa(i)), "mail": fmt.Sprintf(`"user%d@example.com"`, i),
			"userPrincipalName": fmt.Sprintf(`"user%d@example.com"`, i), "mailNickname": fmt.Sprintf(`"user%d"`, i),
			"onPremisesImmutableId": `"q83vEjRWeJASNFZ4kBI0Vg=="`, "usageLocation": `"GB"`,
			"jobTitle": `"Engineer"`, "department": `"Research and Development"`, "companyName": `"Example Ltd"`,
			"officeLocation": `"London"`, "streetAddress": `"1 High Street"`, "city": `"London"`,
			"postalCode": `"EC1A 1AA"`, "country": `"United Kingdom"`, "telephoneNumber": `"+44 20 7946 0000"`,
			"skuId": `"c7df2760-2c81-4ef7-b578-5b5392b571df"`, "disabledPlans": `[]`, "manager": `"00000001-1d4b-4c1e-9f0a-6e2d8c3b5a7f"`,
		},
		Lifecycle: state.LifecycleActive, Status: state.StatusOK, UpdatedAt: at(0),
	}
}

func seedUsers(b *testing.B, s state.Store, n int) []state.Object {
	b.Helper()
	users := make([]state.Object, n)
	for i := range users {
		users[i] = benchUser(i)
	}
	for i := 0; i < n; i += 1000 {
		if err := s.PutObjects(b.Context(), users[i:min(i+1000, n)]); err != nil {
			b.Fatal(err)
		}
	}
	return users
}

func benchObjects(b *testing.B, s state.Store) func(b *testing.B) {
	seedUsers(b, s, 10000)
	return func(b *testing.B) {
		n := 0
		if err := s.Objects(b.Context(), "staff", state.KindUser, func(state.Object) error { n++; return nil }); err != nil {
			b.Fatal(err)
		}
		if n != 10000 {
			b.Fatalf("%d objects", n)
		}
	}
}

func benchPutObjects(b *testing.B, s state.Store) func(b *testing.B) {
	users := seedUsers(b, s, 1000)
	i := 0
	return func(b *testing.B) {
		i++
		for j := range users {
			users[j].UpdatedAt = at(time.Duration(i) * time.Second)
		}
		if err := s.PutObjects(b.Context(), users); err != nil {
			b.Fatal(err)
		}
	}
}

func benchPutObject(b *testing.B, s state.Store) func(b *testing.B) {
	users := seedUsers(b, s, 1000)
	i := 0
	return func(b *testing.B) {
		i++
		o := users[i%len(users)]
		o.UpdatedAt = at(time.Duration(i) * time.Second)
		if err := s.PutObject(b.Context(), o); err != nil {
			b.Fatal(err)
		}
	}
}

func benchObject(b *testing.B, s state.Store) func(b *testing.B) {
	users := seedUsers(b, s, 10000)
	i := 0
	return func(b *testing.B) {
		i = (i + 7919) % len(users)
		if _, err := s.Object(b.Context(), "staff", state.KindUser, users[i].GUID); err != nil {
			b.Fatal(err)
		}
	}
}

func benchObjectByDN(b *testing.B, s state.Store) func(b *testing.B) {
	users := seedUsers(b, s, 10000)
	i := 0
	return func(b *testing.B) {
		i = (i + 7919) % len(users)
		if _, err := s.ObjectByDN(b.Context(), "staff", state.KindUser, users[i].DN); err != nil {
			b.Fatal(err)
		}
	}
}

func benchDueRetries(b *testing.B, s state.Store) func(b *testing.B) {
	users := seedUsers(b, s, 10000)
	failed := make([]state.Object, 0, 100)
	for i := 0; i < len(users); i += 100 {
		o := users[i]
		o.Status, o.Attempts, o.NextRetry = state.StatusFailed, 1, at(-time.Minute)
		failed = append(failed, o)
	}
	if err := s.PutObjects(b.Context(), failed); err != nil {
		b.Fatal(err)
	}
	return func(b *testing.B) {
		due, err := s.DueRetries(b.Context(), "staff", at(0), 0)
		if err != nil || len(due) != 100 {
			b.Fatalf("%d due, %v", len(due), err)
		}
	}
}

func memberGUIDs(prefix string, n int) []string {
	ms := make([]string, n)
	for i := range ms {
		ms[i] = fmt.Sprintf("%s%07d-1d4b-4c1e-9f0a-6e2d8c3b5a7f", prefix, i)
	}
	return ms
}

func benchMembers(b *testing.B, s state.Store) func(b *testing.B) {
	if err := s.AddMembers(b.Context(), "staff", "g1", memberGUIDs("a", 50000)); err != nil {
		b.Fatal(err)
	}
	return func(b *testing.B) {
		n := 0
		if err := s.Members(b.Context(), "staff", "g1", func(string) error { n++; return nil }); err != nil {
			b.Fatal(err)
		}
		if n != 50000 {
			b.Fatalf("%d members", n)
		}
	}
}

func benchChangeMembers(b *testing.B, s state.Store) func(b *testing.B) {
	if err := s.AddMembers(b.Context(), "staff", "g1", memberGUIDs("a", 20000)); err != nil {
		b.Fatal(err)
	}
	change := memberGUIDs("b", 5000)
	return func(b *testing.B) {
		if err := s.AddMembers(b.Context(), "staff", "g1", change); err != nil {
			b.Fatal(err)
		}
		if err := s.RemoveMembers(b.Context(), "staff", "g1", change); err != nil {
			b.Fatal(err)
		}
	}
}

func auditEntries(n int, first int) []state.AuditEntry {
	es := make([]state.AuditEntry, n)
	for i := range es {
		u := benchUser(first + i)
		es[i] = state.AuditEntry{Time: at(time.Duration(first+i) * time.Millisecond), Channel: "staff", Cycle: int64(first+i) / 1000,
			Kind: state.KindUser, GUID: u.GUID, DN: u.DN, Operation: "update", Result: "ok",
			RequestID: "0b5b4c3a-2d1e-4f6a-8b9c-1d2e3f4a5b6c", Detail: "jobTitle, department"}
	}
	return es
}

func benchAudit(b *testing.B, s state.Store) func(b *testing.B) {
	es := auditEntries(20, 0)
	return func(b *testing.B) {
		if err := s.Audit(b.Context(), es...); err != nil {
			b.Fatal(err)
		}
	}
}

func benchQueryAudit(b *testing.B, s state.Store) func(b *testing.B) {
	for i := 0; i < 50000; i += 5000 {
		if err := s.Audit(b.Context(), auditEntries(5000, i)...); err != nil {
			b.Fatal(err)
		}
	}
	q := state.AuditQuery{Channel: "staff", Limit: 100}
	return func(b *testing.B) {
		es, err := s.QueryAudit(b.Context(), q)
		if err != nil {
			b.Fatal(err)
		}
		// Page on through older entries; start again after the oldest.
		q.BeforeID = 0
		if len(es) == q.Limit {
			q.BeforeID = es[len(es)-1].ID
		}
	}
}
