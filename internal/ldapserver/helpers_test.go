package ldapserver

import (
	"strings"
	"sync"
	"testing"
	"time"
)

// TestClock is a clock that moves only when told. It is exported to the
// external tests of this package, which use it too.
type TestClock struct {
	mu sync.Mutex
	t  time.Time
}

// NewTestClock returns a TestClock showing t.
func NewTestClock(t time.Time) *TestClock { return &TestClock{t: t} }

func newTestClock() *TestClock { return NewTestClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)) }

// Now returns the clock's time.
func (c *TestClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock by d.
func (c *TestClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

const fixtureLDIF = `dn: dc=example,dc=com
objectClass: top
objectClass: domain
dc: example

dn: ou=people,dc=example,dc=com
objectClass: organizationalUnit
ou: people

dn: uid=alice,ou=people,dc=example,dc=com
objectClass: inetOrgPerson
uid: alice
cn: Alice Smith
sn: Smith
givenName: Alice
mail: alice@example.com
title: Senior  Engineer
telephoneNumber: +1 425 555-0100
uidNumber: 1001
manager: uid=bob,ou=people,dc=example,dc=com
pwdChangedTime: 20250601120000Z
description:: w5xiZXIgY2Fmw6k=
jpegPhoto:: AAH/
userPassword: secret

dn: uid=bob,ou=people,dc=example,dc=com
objectClass: inetOrgPerson
uid: bob
cn: Bob Jones
sn: Jones
mail: bob@example.org
uidNumber: 200
userAccountControl: 514
nsAccountLock: true
pwdChangedTime: 20241231235959Z

dn: uid=carol,ou=people,dc=example,dc=com
objectClass: inetOrgPerson
uid: carol
cn: Carol Hill
sn: Hill
uidNumber: 30000
userAccountControl: 512
pwdChangedTime: 20241231190000-0500

dn: cn=staff,dc=example,dc=com
objectClass: groupOfNames
cn: staff
member: uid=alice,ou=people,dc=example,dc=com
member: UID=Bob, OU=People, DC=example, DC=com
`

// newFixture returns a server (not listening) over fixtureLDIF and its clock.
func newFixture(t *testing.T) (*Server, *TestClock) {
	t.Helper()
	clock := newTestClock()
	srv, err := New(Options{
		LDIF:          strings.NewReader(fixtureLDIF),
		AdminDN:       "cn=admin,dc=example,dc=com",
		AdminPassword: "admin-secret",
		Clock:         clock.Now,
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv, clock
}
