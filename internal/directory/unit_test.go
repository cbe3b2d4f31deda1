package directory

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
	"github.com/o365prov/o365prov/internal/config"
)

func TestFormatObjectGUID(t *testing.T) {
	raw := []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
	// System.Guid(byte[]) and AD tools render the first three fields
	// little-endian.
	const want = "03020100-0504-0706-0809-0a0b0c0d0e0f"
	if got := FormatObjectGUID(raw); got != want {
		t.Fatalf("FormatObjectGUID = %s, want %s", got, want)
	}
	back, ok := ParseObjectGUID(want)
	if !ok || !bytes.Equal(back, raw) {
		t.Fatalf("ParseObjectGUID = %x %v", back, ok)
	}
	if _, ok := ParseObjectGUID("not-a-guid"); ok {
		t.Fatal("ParseObjectGUID accepted garbage")
	}
}

func TestReaderGUID(t *testing.T) {
	d := &Directory{src: config.Source{GUIDAttribute: "entryUUID"}}
	r := d.guidReader(KindUser)
	e := ldap.NewEntry("uid=a", map[string][]string{"entryUUID": {"6B29FC40-CA47-1067-B31D-00DD010662DA"}})
	g, raw, reason := r.guid(e)
	if reason != "" || g != "6b29fc40-ca47-1067-b31d-00dd010662da" || len(raw) != 16 || raw[0] != 0x6b {
		t.Fatalf("entryUUID: %q %x %q", g, raw, reason)
	}
	for name, vals := range map[string][]string{"none": nil, "two": {"a", "b"}, "empty": {" "}} {
		attrs := map[string][]string{}
		if vals != nil {
			attrs["entryUUID"] = vals
		}
		if _, _, reason := r.guid(ldap.NewEntry("uid=a", attrs)); reason == "" {
			t.Errorf("%s: no problem reported", name)
		}
	}
	d.src.GUIDAttribute = "objectGUID"
	r = d.guidReader(KindUser) // objectGUID is binary even without guidBinary
	if _, _, reason := r.guid(ldap.NewEntry("cn=a", map[string][]string{"objectGUID": {"short"}})); !strings.Contains(reason, "16") {
		t.Errorf("short objectGUID: %q", reason)
	}
}

func TestAccountEnabled(t *testing.T) {
	for _, tc := range []struct {
		as      config.AccountStatus
		vals    []string
		enabled bool
		bad     bool
	}{
		{config.AccountStatus{Algorithm: config.StatusAD, Attribute: "userAccountControl", Default: "enabled"}, []string{"512"}, true, false},
		{config.AccountStatus{Algorithm: config.StatusAD, Attribute: "userAccountControl", Default: "enabled"}, []string{"514"}, false, false},
		{config.AccountStatus{Algorithm: config.StatusAD, Attribute: "userAccountControl", Default: "enabled"}, []string{"66050"}, false, false}, // 0x10202
		{config.AccountStatus{Algorithm: config.StatusAD, Attribute: "userAccountControl", Default: "enabled"}, []string{"66048"}, true, false},  // 0x10200
		{config.AccountStatus{Algorithm: config.StatusAD, Attribute: "userAccountControl", Default: "disabled"}, nil, false, false},
		{config.AccountStatus{Algorithm: config.StatusAD, Attribute: "userAccountControl", Default: "enabled"}, []string{"x"}, false, true},
		{config.AccountStatus{Algorithm: config.StatusFlag, Attribute: "nsAccountLock", FlagValue: "true", FlagMeansDisabled: true, Default: "enabled"}, []string{"TRUE"}, false, false},
		{config.AccountStatus{Algorithm: config.StatusFlag, Attribute: "nsAccountLock", FlagValue: "true", FlagMeansDisabled: true, Default: "enabled"}, []string{"false"}, true, false},
		{config.AccountStatus{Algorithm: config.StatusFlag, Attribute: "active", FlagValue: "yes", FlagMeansDisabled: false, Default: "disabled"}, []string{"yes"}, true, false},
		{config.AccountStatus{Algorithm: config.StatusFlag, Attribute: "active", FlagValue: "yes", FlagMeansDisabled: false, Default: "disabled"}, nil, false, false},
	} {
		d := &Directory{src: config.Source{AccountStatus: tc.as}}
		attrs := map[string][]string{}
		if tc.vals != nil {
			attrs[tc.as.Attribute] = tc.vals
		}
		en, reason := d.accountEnabled(ldap.NewEntry("cn=x", attrs))
		if en != tc.enabled || (reason != "") != tc.bad {
			t.Errorf("%s %v: enabled %v reason %q", tc.as.Algorithm, tc.vals, en, reason)
		}
	}
}

func TestParseGeneralizedTime(t *testing.T) {
	want := time.Date(2026, 11, 25, 17, 54, 29, 0, time.UTC)
	for _, s := range []string{"20261125175429Z", "20261125175429.0Z", "20261125185429+0100"} {
		got, err := parseGeneralizedTime(s)
		if err != nil || !got.Equal(want) {
			t.Errorf("%s: %v %v", s, got, err)
		}
	}
	if got, _ := parseGeneralizedTime("20261125175429.5Z"); !got.Equal(want.Add(500 * time.Millisecond)) {
		t.Errorf("fraction: %v", got)
	}
	for _, s := range []string{"", "2026", "20261125175429", "garbage!!!!!Z"} {
		if _, err := parseGeneralizedTime(s); err == nil {
			t.Errorf("%q parsed", s)
		}
	}
}

func TestChangedClause(t *testing.T) {
	d := &Directory{src: config.Source{}}
	for _, tc := range []struct {
		alg, attr string
		m         mark
		want      string
	}{
		{config.ADUSN, "uSNChanged", mark{Alg: config.ADUSN, USN: 41}, "(uSNChanged>=42)"},
		{config.TimestampNoNegation, "modifyTimestamp", mark{Alg: config.TimestampNoNegation, Time: "20260101120000Z"}, "(modifyTimestamp>=20260101120000Z)"},
		// "Not older than": the whole second of the watermark is included.
		{config.Timestamp, "modifyTimestamp", mark{Alg: config.Timestamp, Time: "20260101120000Z"}, "(&(modifyTimestamp=*)(!(modifyTimestamp<=20260101115959Z)))"},
		{config.EntryCSN, "entryCSN", mark{Alg: config.EntryCSN, CSN: []string{"20260101120000.000001Z#000000#000#000000", "20260101120000.000009Z#000000#001#000000"}}, "(entryCSN>=20260101120000.000001Z#000000#000#000000)"},
	} {
		d.src.ChangeDetection = config.ChangeDetection{Algorithm: tc.alg, Attribute: tc.attr}
		got, err := d.changedClause(tc.m)
		if err != nil || got != tc.want {
			t.Errorf("%s: %q %v, want %q", tc.alg, got, err, tc.want)
		}
	}
}

func TestNormDN(t *testing.T) {
	same := [][2]string{
		{"CN=John Smith,OU=People,DC=Example,DC=com", "cn=john smith, ou=people, dc=example, dc=com"},
		{`cn=Sales\, EMEA,ou=groups,dc=x`, `CN=Sales\2C EMEA,OU=Groups,DC=X`},
		{"cn=a+uid=b,dc=x", "uid=b+cn=a,dc=x"},
	}
	for _, p := range same {
		if normDN(p[0]) != normDN(p[1]) {
			t.Errorf("%q and %q differ: %q %q", p[0], p[1], normDN(p[0]), normDN(p[1]))
		}
	}
	if normDN("cn=a,dc=x") == normDN("cn=a\\,dc=x") {
		t.Error("an escaped comma compares equal to a separator")
	}
	if !dnWithin("uid=a,ou=People,dc=x", "OU=people,DC=X") || dnWithin("uid=a,ou=peoplex,dc=x", "ou=people,dc=x") || !dnWithin("dc=x", "dc=x") {
		t.Error("dnWithin")
	}
}

func TestSplitRangeAndStripUID(t *testing.T) {
	if b, r := splitRange("member;range=0-1499"); b != "member" || r != "0-1499" {
		t.Errorf("%q %q", b, r)
	}
	if b, r := splitRange("member;Range=1500-*"); b != "member" || r != "1500-*" {
		t.Errorf("%q %q", b, r)
	}
	if b, r := splitRange("userCertificate;binary"); b != "userCertificate;binary" || r != "" {
		t.Errorf("%q %q", b, r)
	}
	if got := stripUID("cn=a,dc=x#'0101'B"); got != "cn=a,dc=x" {
		t.Errorf("stripUID: %q", got)
	}
	if got := stripUID("cn=#'x'B"); got != "cn=#'x'B" {
		t.Errorf("stripUID of a non-bitstring: %q", got)
	}
}

func TestNormaliseRejects(t *testing.T) {
	base := config.DefaultChannel(config.OpenLDAP).Source
	base.URL, base.BaseDN = "ldap://x", "dc=x"
	for name, mod := range map[string]func(*config.Source){
		"no url":          func(s *config.Source) { s.URL = "" },
		"no base":         func(s *config.Source) { s.BaseDN = "" },
		"unauthenticated": func(s *config.Source) { s.BindDN = "cn=x" },
		"bad algorithm":   func(s *config.Source) { s.ChangeDetection.Algorithm = "MAGIC" },
		"flag without attr": func(s *config.Source) {
			s.AccountStatus = config.AccountStatus{Algorithm: config.StatusFlag}
		},
	} {
		s := base
		mod(&s)
		if _, err := normalise(s); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	s := base
	s.Users.Filter = "objectClass=person"
	if n, err := normalise(s); err != nil || n.Users.Filter != "(objectClass=person)" {
		t.Errorf("filter without parentheses: %q %v", n.Users.Filter, err)
	}
	for _, u := range []string{"http://x", "ldap://", "ldap://[::1"} {
		if _, err := parseURL(u); err == nil {
			t.Errorf("parseURL(%q) accepted", u)
		}
	}
	if u, _ := parseURL("LDAPS://dc1.corp"); u.Host != "dc1.corp:636" || u.Scheme != "ldaps" {
		t.Errorf("default port: %v", u)
	}
}

func TestReferralQuery(t *testing.T) {
	d := &Directory{}
	q := query{base: "dc=x", scope: ldap.ScopeWholeSubtree, filter: "(uid=*)"}
	u, nq, err := d.referralQuery("ldap://other:1389/ou=branch,dc=x??one?(cn=y)", q, true)
	if err != nil || u.Host != "other:1389" || nq.base != "ou=branch,dc=x" || nq.scope != ldap.ScopeSingleLevel || nq.filter != "(cn=y)" {
		t.Fatalf("%v %+v %v", u, nq, err)
	}
	_, nq, _ = d.referralQuery("ldap://other/ou=b,dc=x", query{base: "dc=x", scope: ldap.ScopeSingleLevel}, true)
	if nq.scope != ldap.ScopeBaseObject {
		t.Errorf("one-level continuation scope %d", nq.scope)
	}
}

func TestEntryAttr(t *testing.T) {
	e := Entry{Attributes: map[string][]string{"mail": {"a@x"}, "sAMAccountName": {"a"}}}
	if e.First("MAIL") != "a@x" || e.First("samaccountname") != "a" || e.Attr("x") != nil {
		t.Error("Attr is not case-insensitive")
	}
}

func TestWatermarkRoundTrip(t *testing.T) {
	m := mark{V: 1, Alg: config.ADUSN, Attr: "uSNChanged", Scope: "abc", Server: "CN=NTDS Settings|guid", USN: 99}
	w, err := m.encode()
	if err != nil {
		t.Fatal(err)
	}
	back, err := decodeMark(w)
	if err != nil || back.USN != 99 || back.Server != m.Server {
		t.Fatalf("%+v %v", back, err)
	}
}
