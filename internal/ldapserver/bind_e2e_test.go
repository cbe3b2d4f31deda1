package ldapserver_test

import (
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/o365prov/o365prov/internal/ldapserver"
)

func TestBindRules(t *testing.T) {
	e := start(t, smallLDIF, ldapserver.Options{})
	tests := []struct {
		name     string
		bind     func(*ldap.Conn) error
		wantCode uint16
	}{
		{"an anonymous bind succeeds", func(c *ldap.Conn) error { return c.UnauthenticatedBind("") }, 0},
		{"a user's password in clear text binds", func(c *ldap.Conn) error { return c.Bind(aliceDN, alicePW) }, 0},
		{"a DN written differently binds the same user", func(c *ldap.Conn) error { return c.Bind("UID=Alice, OU=People, DC=Example, DC=Com", alicePW) }, 0},
		{"a plain stored password binds", func(c *ldap.Conn) error { return c.Bind(bobDN, "bob-pw") }, 0},
		{"the administrator binds without an entry", func(c *ldap.Conn) error { return c.Bind(adminDN, adminPW) }, 0},
		{"a wrong password is invalidCredentials", func(c *ldap.Conn) error { return c.Bind(aliceDN, "nope") }, ldap.LDAPResultInvalidCredentials},
		{"a wrong admin password is invalidCredentials", func(c *ldap.Conn) error { return c.Bind(adminDN, "nope") }, ldap.LDAPResultInvalidCredentials},
		{"an unknown DN is the same invalidCredentials", func(c *ldap.Conn) error { return c.Bind("uid=ghost,ou=people,dc=example,dc=com", "x") }, ldap.LDAPResultInvalidCredentials},
		{"an entry without a password cannot bind", func(c *ldap.Conn) error { return c.Bind(peopleDN, "x") }, ldap.LDAPResultInvalidCredentials},
		{"an unauthenticated bind is refused", func(c *ldap.Conn) error { return c.UnauthenticatedBind(aliceDN) }, ldap.LDAPResultUnwillingToPerform},
		{"a locked account is refused after a right password", func(c *ldap.Conn) error { return c.Bind(lockedDN, "locked-pw") }, ldap.LDAPResultUnwillingToPerform},
		{"a locked account with a wrong password looks like any wrong password", func(c *ldap.Conn) error { return c.Bind(lockedDN, "x") }, ldap.LDAPResultInvalidCredentials},
		{"SASL is not supported", func(c *ldap.Conn) error { return c.ExternalBind() }, ldap.LDAPResultAuthMethodNotSupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := code(tt.bind(e.dial(t))); got != tt.wantCode {
				t.Errorf("result %d, want %d", got, tt.wantCode)
			}
		})
	}
}

func TestWhoMayReadAndWrite(t *testing.T) {
	e := start(t, smallLDIF, ldapserver.Options{})
	anon := e.dial(t)
	user := e.as(t, aliceDN, alicePW)
	admin := e.admin(t)
	modify := func(c *ldap.Conn) error {
		m := ldap.NewModifyRequest(bobDN, nil)
		m.Replace("title", []string{"Changed"})
		return c.Modify(m)
	}
	read := func(c *ldap.Conn) error {
		_, err := c.Search(search(base, ldap.ScopeWholeSubtree, "(uid=bob)"))
		return err
	}
	rootDSE := func(c *ldap.Conn) error {
		_, err := c.Search(search("", ldap.ScopeBaseObject, "(objectClass=*)", "namingContexts"))
		return err
	}
	tests := []struct {
		name string
		conn *ldap.Conn
		op   func(*ldap.Conn) error
		want uint16
	}{
		{"anonymous users may read the root DSE", anon, rootDSE, 0},
		{"anonymous users may not search the tree", anon, read, ldap.LDAPResultInsufficientAccessRights},
		{"anonymous users may not write", anon, modify, ldap.LDAPResultInsufficientAccessRights},
		{"bound users may search", user, read, 0},
		{"bound users may not write", user, modify, ldap.LDAPResultInsufficientAccessRights},
		{"the administrator may write", admin, modify, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := code(tt.op(tt.conn)); got != tt.want {
				t.Errorf("result %d, want %d", got, tt.want)
			}
		})
	}
}

func TestAFailedBindLeavesTheConnectionAnonymous(t *testing.T) {
	e := start(t, smallLDIF, ldapserver.Options{})
	c := e.as(t, aliceDN, alicePW)
	if err := c.Bind(aliceDN, "wrong"); code(err) != ldap.LDAPResultInvalidCredentials {
		t.Fatalf("second bind: %v", err)
	}
	if _, err := c.Search(search(base, ldap.ScopeBaseObject, "(objectClass=*)")); code(err) != ldap.LDAPResultInsufficientAccessRights {
		t.Errorf("search after a failed bind: %v, want insufficientAccessRights", err)
	}
}

func TestAnonymousReadCanBeAllowed(t *testing.T) {
	e := start(t, smallLDIF, ldapserver.Options{AllowAnonymousRead: true})
	if got := mustSearch(t, e.dial(t), search(peopleDN, ldap.ScopeSingleLevel, "(objectClass=*)")); len(got) != 3 {
		t.Errorf("anonymous search found %d people, want 3", len(got))
	}
}

func TestWhoAmI(t *testing.T) {
	e := start(t, smallLDIF, ldapserver.Options{})
	c := e.dial(t)
	res, err := c.WhoAmI(nil)
	if err != nil || res.AuthzID != "" {
		t.Fatalf("anonymous WhoAmI = %+v, %v; want empty", res, err)
	}
	if err := c.Bind("UID=alice,ou=people,dc=example,dc=com", alicePW); err != nil {
		t.Fatal(err)
	}
	res, err = c.WhoAmI(nil)
	if err != nil || res.AuthzID != "dn:"+aliceDN {
		t.Fatalf("WhoAmI = %+v, %v; want dn:%s", res, err, aliceDN)
	}
}
