package ldapserver

import (
	"fmt"
	"strings"
	"testing"
)

// benchLDIF builds n people under ou=people with a few groups, the shape
// of a provisioning source.
func benchLDIF(n int) string {
	var b strings.Builder
	b.WriteString("dn: dc=example,dc=com\nobjectClass: domain\ndc: example\n\n")
	b.WriteString("dn: ou=people,dc=example,dc=com\nobjectClass: organizationalUnit\nou: people\n\n")
	b.WriteString("dn: ou=groups,dc=example,dc=com\nobjectClass: organizationalUnit\nou: groups\n\n")
	cities := []string{"London", "Paris", "Redmond", "Tokyo"}
	for i := range n {
		fmt.Fprintf(&b, "dn: uid=user%05d,ou=people,dc=example,dc=com\nobjectClass: top\nobjectClass: inetOrgPerson\n"+
			"uid: user%05d\ncn: User %d\nsn: %d\ngivenName: User\nmail: user%05d@example.com\ntitle: Engineer\n"+
			"l: %s\nc: GB\nemployeeNumber: %d\nmanager: uid=user%05d,ou=people,dc=example,dc=com\n"+
			"telephoneNumber: +44 20 7946 %04d\no365Sku: ENTERPRISEPACK\n\n",
			i, i, i, i, i, cities[i%len(cities)], i, i/10, i%10000)
	}
	for g := range 20 {
		fmt.Fprintf(&b, "dn: cn=group%02d,ou=groups,dc=example,dc=com\nobjectClass: groupOfNames\ncn: group%02d\n", g, g)
		for i := g; i < n; i += 20 {
			fmt.Fprintf(&b, "member: uid=user%05d,ou=people,dc=example,dc=com\n", i)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func benchServer(b *testing.B, n int) *Server {
	b.Helper()
	srv, err := New(Options{LDIF: strings.NewReader(benchLDIF(n))})
	if err != nil {
		b.Fatal(err)
	}
	return srv
}

func BenchmarkLoad10k(b *testing.B) {
	text := benchLDIF(10_000)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		if _, err := New(Options{LDIF: strings.NewReader(text)}); err != nil {
			b.Fatal(err)
		}
	}
}

// benchSearch runs one subtree search in process: candidates, filter and
// encoding of every match, without the network.
func benchSearch(b *testing.B, filter string, attrs []string, wantMatches int) {
	srv := benchServer(b, 10_000)
	base, err := parseDN("dc=example,dc=com")
	if err != nil {
		b.Fatal(err)
	}
	f, err := compileFilterString(filter)
	if err != nil {
		b.Fatal(err)
	}
	sel := newSelection(attrs, false)
	v := view{s: srv.store}
	for b.Loop() {
		srv.store.mu.RLock()
		cur, err := srv.store.open(base, scopeSub)
		if err != nil {
			b.Fatal(err)
		}
		n := len(v.next(cur, f, sel, 0, 1))
		srv.store.mu.RUnlock()
		if n != wantMatches {
			b.Fatalf("%d matches, want %d", n, wantMatches)
		}
	}
}

func BenchmarkSubtreeSearch10kSelective(b *testing.B) {
	benchSearch(b, "(&(objectClass=inetOrgPerson)(l=london)(mail=user0*))", []string{"uid", "mail"}, 2500)
}

func BenchmarkSubtreeSearch10kAllEntriesAllAttributes(b *testing.B) {
	benchSearch(b, "(objectClass=*)", []string{"*", "+"}, 10_023)
}

func BenchmarkSubtreeSearch10kMemberOf(b *testing.B) {
	benchSearch(b, "(memberOf=cn=group07,ou=groups,dc=example,dc=com)", []string{"1.1"}, 500)
}

func BenchmarkModify(b *testing.B) {
	srv := benchServer(b, 10_000)
	i := 0
	for b.Loop() {
		i++
		if err := srv.Modify(fmt.Sprintf("uid=user%05d,ou=people,dc=example,dc=com", i%10_000), Replace("title", fmt.Sprint(i))); err != nil {
			b.Fatal(err)
		}
	}
}
