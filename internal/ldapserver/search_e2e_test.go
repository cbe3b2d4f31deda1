package ldapserver_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/o365prov/o365prov/internal/ldapserver"
)

func TestSearchScopes(t *testing.T) {
	e := start(t, smallLDIF, ldapserver.Options{})
	c := e.admin(t)
	tests := []struct {
		name  string
		base  string
		scope int
		want  []string
	}{
		{"base scope returns the base only", peopleDN, ldap.ScopeBaseObject, []string{peopleDN}},
		{"one-level scope returns the children", peopleDN, ldap.ScopeSingleLevel, []string{aliceDN, bobDN, lockedDN}},
		{"subtree scope returns the base and every descendant in tree order", peopleDN, ldap.ScopeWholeSubtree, []string{peopleDN, aliceDN, bobDN, lockedDN}},
		{"subordinate scope returns the descendants without the base", peopleDN, ldap.ScopeChildren, []string{aliceDN, bobDN, lockedDN}},
		{"a base written in another case and spacing finds the same entries", "OU=People, DC=Example,DC=com", ldap.ScopeSingleLevel, []string{aliceDN, bobDN, lockedDN}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := dns(mustSearch(t, c, search(tt.base, tt.scope, "(objectClass=*)", "1.1")))
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAMissingBaseIsNoSuchObjectWithTheMatchedDN(t *testing.T) {
	e := start(t, smallLDIF, ldapserver.Options{})
	_, err := e.admin(t).Search(search("uid=ghost,ou=people,dc=example,dc=com", ldap.ScopeBaseObject, "(objectClass=*)"))
	var le *ldap.Error
	if !errors.As(err, &le) || le.ResultCode != ldap.LDAPResultNoSuchObject {
		t.Fatalf("err = %v, want noSuchObject", err)
	}
	if le.MatchedDN != peopleDN {
		t.Errorf("matchedDN %q, want %q", le.MatchedDN, peopleDN)
	}
}

func TestAttributeSelection(t *testing.T) {
	e := start(t, smallLDIF, ldapserver.Options{})
	user := e.as(t, bobDN, "bob-pw")
	admin := e.admin(t)
	names := func(c *ldap.Conn, attrs ...string) []string {
		t.Helper()
		got := mustSearch(t, c, search(aliceDN, ldap.ScopeBaseObject, "(objectClass=*)", attrs...))
		var out []string
		for _, a := range got[0].Attributes {
			out = append(out, a.Name)
		}
		return out
	}
	tests := []struct {
		name       string
		conn       *ldap.Conn
		attrs      []string
		want, deny []string
	}{
		{"no list returns user attributes only", user, nil, []string{"cn", "mail", "jpegPhoto"}, []string{"entryUUID", "memberOf", "modifyTimestamp", "userPassword"}},
		{"a star returns user attributes only", user, []string{"*"}, []string{"cn"}, []string{"entryCSN"}},
		{"a plus returns operational attributes only", user, []string{"+"}, []string{"entryUUID", "entryCSN", "createTimestamp", "modifyTimestamp", "memberOf", "hasSubordinates", "entryDN"}, []string{"cn"}},
		{"an operational attribute asked by name is returned", user, []string{"entryUUID", "MEMBEROF"}, []string{"entryUUID", "memberOf"}, []string{"cn", "entryCSN"}},
		{"1.1 returns no attributes", user, []string{"1.1"}, nil, []string{"cn", "objectClass"}},
		{"an alias asks for the attribute", user, []string{"commonName"}, []string{"cn"}, []string{"sn"}},
		{"userPassword is hidden from users even by name", user, []string{"userPassword"}, nil, []string{"userPassword"}},
		{"userPassword is returned to the administrator", admin, []string{"userPassword"}, []string{"userPassword"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := names(tt.conn, tt.attrs...)
			for _, w := range tt.want {
				if !slices.Contains(got, w) {
					t.Errorf("%v lacks %s", got, w)
				}
			}
			for _, d := range tt.deny {
				if slices.Contains(got, d) {
					t.Errorf("%v should not have %s", got, d)
				}
			}
		})
	}
}

func TestTypesOnlyReturnsNamesWithoutValues(t *testing.T) {
	e := start(t, smallLDIF, ldapserver.Options{})
	req := search(aliceDN, ldap.ScopeBaseObject, "(objectClass=*)", "cn", "mail")
	req.TypesOnly = true
	got := mustSearch(t, e.admin(t), req)
	if len(got[0].Attributes) != 2 {
		t.Fatalf("attributes %v", got[0].Attributes)
	}
	for _, a := range got[0].Attributes {
		if len(a.Values) != 0 {
			t.Errorf("%s came with values %v", a.Name, a.Values)
		}
	}
}

func TestBinaryValuesKeepTheirBytes(t *testing.T) {
	e := start(t, smallLDIF, ldapserver.Options{})
	c := e.admin(t)
	got := mustSearch(t, c, search(aliceDN, ldap.ScopeBaseObject, "(objectClass=*)", "jpegPhoto"))
	if raw := got[0].GetRawAttributeValue("jpegPhoto"); string(raw) != "\x00\x01\x02\x03\xfe\xfd\xfc\xff" {
		t.Fatalf("jpegPhoto from the LDIF read back as %x", raw)
	}
	blob := string([]byte{0, 0xc3, 0x28, 0x0a, 0x0d, 0xff, ' '})
	m := ldap.NewModifyRequest(bobDN, nil)
	m.Replace("userCertificate;binary", []string{blob})
	if err := c.Modify(m); err != nil {
		t.Fatal(err)
	}
	got = mustSearch(t, c, search(base, ldap.ScopeWholeSubtree, "(userCertificate;binary="+ldap.EscapeFilter(blob)+")", "userCertificate;binary"))
	if len(got) != 1 || string(got[0].GetRawAttributeValue("userCertificate;binary")) != blob {
		t.Fatalf("binary value written over LDAP did not come back exact: %v", got)
	}
}

func TestSizeLimits(t *testing.T) {
	t.Run("a client size limit returns that many entries then sizeLimitExceeded", func(t *testing.T) {
		e := start(t, smallLDIF, ldapserver.Options{})
		req := search(base, ldap.ScopeWholeSubtree, "(objectClass=*)", "1.1")
		req.SizeLimit = 2
		res, err := e.admin(t).Search(req)
		if code(err) != ldap.LDAPResultSizeLimitExceeded || res == nil || len(res.Entries) != 2 {
			t.Fatalf("got %v entries, err %v; want 2 and sizeLimitExceeded", res, err)
		}
	})
	t.Run("a client size limit equal to the result is not exceeded", func(t *testing.T) {
		e := start(t, smallLDIF, ldapserver.Options{})
		req := search(peopleDN, ldap.ScopeSingleLevel, "(objectClass=*)", "1.1")
		req.SizeLimit = 3
		if res, err := e.admin(t).Search(req); err != nil || len(res.Entries) != 3 {
			t.Fatalf("got %v, %v; want 3 entries and success", res, err)
		}
	})
	t.Run("the server limit stops unpaged searches but not paged ones", func(t *testing.T) {
		e := start(t, smallLDIF, ldapserver.Options{SizeLimit: 3})
		c := e.admin(t)
		if _, err := c.Search(search(base, ldap.ScopeWholeSubtree, "(objectClass=*)", "1.1")); code(err) != ldap.LDAPResultSizeLimitExceeded {
			t.Errorf("unpaged: %v, want sizeLimitExceeded", err)
		}
		res, err := c.SearchWithPaging(search(base, ldap.ScopeWholeSubtree, "(objectClass=*)", "1.1"), 2)
		if err != nil || len(res.Entries) != 7 {
			t.Errorf("paged: %d entries, %v; want all 7", len(res.Entries), err)
		}
	})
}

func TestControls(t *testing.T) {
	e := start(t, smallLDIF, ldapserver.Options{})
	c := e.admin(t)
	run := func(ctl ldap.Control) error {
		_, err := c.Search(ldap.NewSearchRequest(base, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
			"(objectClass=*)", nil, []ldap.Control{ctl}))
		return err
	}
	tests := []struct {
		name string
		ctl  ldap.Control
		want uint16
	}{
		{"an unknown critical control is unavailableCriticalExtension", ldap.NewControlString("1.2.840.113556.1.4.473", true, ""), ldap.LDAPResultUnavailableCriticalExtension},
		{"an unknown non-critical control is ignored", ldap.NewControlString("1.2.840.113556.1.4.473", false, ""), 0},
		{"ManageDsaIT marked critical is honoured", ldap.NewControlManageDsaIT(true), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := code(run(tt.ctl)); got != tt.want {
				t.Errorf("result %d, want %d", got, tt.want)
			}
		})
	}
}

func TestRootDSE(t *testing.T) {
	e := start(t, smallLDIF, ldapserver.Options{})
	got := mustSearch(t, e.dial(t), search("", ldap.ScopeBaseObject, "(objectClass=*)",
		"namingContexts", "supportedControl", "supportedLDAPVersion", "currentTime"))
	r := got[0]
	if r.GetAttributeValue("namingContexts") != base || r.GetAttributeValue("supportedLDAPVersion") != "3" {
		t.Errorf("root DSE %v", r.Attributes)
	}
	if !slices.Contains(r.GetAttributeValues("supportedControl"), ldap.ControlTypePaging) {
		t.Errorf("supportedControl %v lacks paging", r.GetAttributeValues("supportedControl"))
	}
	if r.GetAttributeValue("currentTime") != "20260401090000Z" {
		t.Errorf("currentTime %q, want the injected clock's 20260401090000Z", r.GetAttributeValue("currentTime"))
	}
}

func TestFiltersOverTheWire(t *testing.T) {
	e := start(t, smallLDIF, ldapserver.Options{})
	c := e.admin(t)
	tests := []struct {
		name, filter string
		want         []string
	}{
		{"equality", "(uid=ALICE)", []string{aliceDN}},
		{"presence", "(manager=*)", []string{bobDN}},
		{"substrings with initial, any and final", "(cn=b*o*es)", []string{bobDN}},
		{"greater-or-equal on strings", "(sn>=p)", []string{aliceDN}},
		{"less-or-equal on strings", "(sn<=k)", []string{bobDN}},
		{"approximate", "(sn~=JONES)", []string{bobDN}},
		{"and, or and not", "(&(objectClass=inetOrgPerson)(|(uid=alice)(uid=bob))(!(uid=bob)))", []string{aliceDN}},
		{"an escaped parenthesis", `(cn=Alice Smith\29)`, nil},
		{"a DN-valued attribute with another spelling", "(manager=UID=alice, OU=people,dc=EXAMPLE,dc=com)", []string{bobDN}},
		{"memberOf", "(memberOf=" + groupDN + ")", []string{aliceDN}},
		{"nsAccountLock, as account status", "(nsAccountLock=true)", []string{lockedDN}},
		{"extensible match with dnAttributes", "(ou:dn:=groups)", []string{"ou=groups,dc=example,dc=com", groupDN}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := dns(mustSearch(t, c, search(base, ldap.ScopeWholeSubtree, tt.filter, "1.1")))
			if !slices.Equal(got, tt.want) {
				t.Errorf("%s: got %v, want %v", tt.filter, got, tt.want)
			}
		})
	}
}

func TestCompare(t *testing.T) {
	e := start(t, smallLDIF, ldapserver.Options{})
	c := e.as(t, bobDN, "bob-pw")
	tests := []struct {
		name, dn, attr, value string
		want                  bool
		wantCode              uint16
	}{
		{"a present value compares true, ignoring case", aliceDN, "cn", "alice SMITH", true, 0},
		{"another value compares false", aliceDN, "cn", "Bob", false, 0},
		{"an absent attribute is noSuchAttribute", aliceDN, "manager", "x", false, ldap.LDAPResultNoSuchAttribute},
		{"a missing entry is noSuchObject", "uid=ghost,ou=people,dc=example,dc=com", "cn", "x", false, ldap.LDAPResultNoSuchObject},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.Compare(tt.dn, tt.attr, tt.value)
			if code(err) != tt.wantCode || got != tt.want {
				t.Errorf("Compare = %v, %v; want %v, code %d", got, err, tt.want, tt.wantCode)
			}
		})
	}
}

func TestASubtreeSearchFromTheRootPointsAtTheNamingContext(t *testing.T) {
	e := start(t, smallLDIF, ldapserver.Options{})
	_, err := e.admin(t).Search(search("", ldap.ScopeWholeSubtree, "(objectClass=*)"))
	var le *ldap.Error
	if !errors.As(err, &le) || le.ResultCode != ldap.LDAPResultNoSuchObject || !strings.Contains(le.Err.Error(), base) {
		t.Errorf("err = %v, want noSuchObject naming %s", err, base)
	}
}

func TestAnInvalidBaseDNIsInvalidDNSyntax(t *testing.T) {
	e := start(t, smallLDIF, ldapserver.Options{})
	if _, err := e.admin(t).Search(search("not a dn", ldap.ScopeBaseObject, "(objectClass=*)")); code(err) != ldap.LDAPResultInvalidDNSyntax {
		t.Errorf("search with base %q: %v, want invalidDNSyntax", "not a dn", err)
	}
}
