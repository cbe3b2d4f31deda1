package ldapserver

import (
	"slices"
	"strings"
	"testing"

	ber "github.com/go-asn1-ber/asn1-ber"
)

// matches returns the first RDN value of every entry the filter selects,
// sorted, as the given reader sees them.
func matches(t *testing.T, srv *Server, f *filter, admin bool) []string {
	t.Helper()
	st := srv.store
	st.mu.RLock()
	defer st.mu.RUnlock()
	v := view{s: st, admin: admin}
	var out []string
	for _, r := range st.roots {
		walk(r, func(e *entry) bool {
			if v.match(f, e) == isTrue {
				out = append(out, e.dn.rdns[0][0].value)
			}
			return true
		})
	}
	slices.Sort(out)
	return out
}

func TestFilterMatching(t *testing.T) {
	srv, _ := newFixture(t)
	all := []string{"alice", "bob", "carol", "example", "people", "staff"}
	tests := []struct {
		name   string
		filter string
		want   []string
	}{
		{"equality ignores case", "(cn=alice smith)", []string{"alice"}},
		{"equality ignores redundant spaces", "(title=senior engineer)", []string{"alice"}},
		{"equality folds non-ASCII case", "(description=ÜBER CAFÉ)", []string{"alice"}},
		{"objectClass values ignore case", "(objectClass=INETORGPERSON)", []string{"alice", "bob", "carol"}},
		{"attribute names ignore case and resolve aliases", "(CommonName=Bob Jones)", []string{"bob"}},
		{"presence selects entries holding the attribute", "(manager=*)", []string{"alice"}},
		{"objectClass presence selects every entry", "(objectClass=*)", all},
		{"an initial substring matches the start", "(cn=al*)", []string{"alice"}},
		{"a final substring matches the end", "(mail=*@example.com)", []string{"alice"}},
		{"any substrings match in order", "(cn=*o*o*)", []string{"bob"}},
		{"initial and final substrings may not overlap", "(sn=smi*ith)", nil},
		{"telephone numbers ignore spaces and hyphens", "(telephoneNumber=+14255550100)", []string{"alice"}},
		{"integers order numerically, not lexically", "(uidNumber>=1000)", []string{"alice", "carol"}},
		{"less-or-equal on integers", "(uidNumber<=200)", []string{"bob"}},
		{"generalized times order as times, offsets included", "(pwdChangedTime>=20250101000000Z)", []string{"alice", "carol"}},
		{"a fractional assertion time orders correctly", "(pwdChangedTime<=20241231235959.5Z)", []string{"bob"}},
		{"DN-valued equality compares normalised DNs", "(manager=UID=Bob, OU=People,DC=example,DC=com)", []string{"alice"}},
		{"member values written with odd case and spaces still match", "(member=uid=bob,ou=people,dc=example,dc=com)", []string{"staff"}},
		{"substrings on a DN attribute are undefined", "(manager=*bob*)", nil},
		{"not of undefined stays undefined", "(!(manager=*bob*))", []string{"bob", "carol", "example", "people", "staff"}},
		{"memberOf is matched though computed", "(memberOf=cn=staff,dc=example,dc=com)", []string{"alice", "bob"}},
		{"approximate match is equality", "(sn~=smith)", []string{"alice"}},
		{"and requires every element", "(&(objectClass=person)(!(uid=bob)))", nil},
		{"and over inetOrgPerson excludes the negated", "(&(objectClass=inetOrgPerson)(!(uid=bob)))", []string{"alice", "carol"}},
		{"or takes any element", "(|(uid=alice)(uid=carol))", []string{"alice", "carol"}},
		{"not of an absent attribute is true", "(&(objectClass=inetOrgPerson)(!(nsAccountLock=true)))", []string{"alice", "carol"}},
		{"an assertion invalid for integers is undefined, and so is its negation", "(&(objectClass=inetOrgPerson)(!(uidNumber>=abc)))", nil},
		{"binary values compare byte for byte", `(jpegPhoto=\00\01\ff)`, []string{"alice"}},
		{"a differing byte does not match", `(jpegPhoto=\00\01\fe)`, nil},
		{"AD bitwise AND finds disabled accounts", "(userAccountControl:1.2.840.113556.1.4.803:=2)", []string{"bob"}},
		{"AD bitwise OR matches any bit", "(userAccountControl:1.2.840.113556.1.4.804:=3)", []string{"bob"}},
		{"caseExactMatch respects case", "(cn:caseExactMatch:=alice smith)", nil},
		{"caseExactMatch matches the exact value", "(cn:caseExactMatch:=Alice Smith)", []string{"alice"}},
		{"an unknown matching rule is undefined", "(cn:1.2.3.4:=Alice Smith)", nil},
		{"dnAttributes matches values in the DN", "(ou:dn:=people)", []string{"alice", "bob", "carol", "people"}},
		{"extensible match without a rule is equality", "(sn:=hill)", []string{"carol"}},
		{"entryDN is matched though computed", "(entryDN=uid=alice,ou=people,dc=example,dc=com)", []string{"alice"}},
		{"hasSubordinates tells parents from leaves", "(hasSubordinates=TRUE)", []string{"example", "people"}},
		{"escaped special characters are literal", `(cn=Alice\2a)`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := compileFilterString(tt.filter)
			if err != nil {
				t.Fatalf("compile %s: %v", tt.filter, err)
			}
			if got := matches(t, srv, f, false); !slices.Equal(got, tt.want) {
				t.Errorf("%s matched %v, want %v", tt.filter, got, tt.want)
			}
		})
	}
}

func TestAbsoluteTrueAndFalseFilters(t *testing.T) {
	srv, _ := newFixture(t)
	and := ber.Encode(ber.ClassContext, ber.TypeConstructed, ber.Tag(fAnd), nil, "and")
	or := ber.Encode(ber.ClassContext, ber.TypeConstructed, ber.Tag(fOr), nil, "or")
	for _, tt := range []struct {
		name string
		p    *ber.Packet
		want int
	}{
		{"an empty and is true for every entry", and, 6},
		{"an empty or is false for every entry", or, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, err := compileFilter(tt.p)
			if err != nil {
				t.Fatal(err)
			}
			if got := matches(t, srv, f, false); len(got) != tt.want {
				t.Errorf("matched %v, want %d entries", got, tt.want)
			}
		})
	}
}

func TestUserPasswordIsMatchedForTheAdministratorOnly(t *testing.T) {
	srv, _ := newFixture(t)
	f, err := compileFilterString("(userPassword=*)")
	if err != nil {
		t.Fatal(err)
	}
	if got := matches(t, srv, f, false); len(got) != 0 {
		t.Errorf("a non-admin reader matched %v, want nothing", got)
	}
	if got := matches(t, srv, f, true); !slices.Equal(got, []string{"alice"}) {
		t.Errorf("the admin matched %v, want [alice]", got)
	}
}

func TestFilterStringRedactsPasswords(t *testing.T) {
	f, err := compileFilterString("(&(uid=alice)(userPassword=hunter2))")
	if err != nil {
		t.Fatal(err)
	}
	if s := f.String(); strings.Contains(s, "hunter2") || !strings.Contains(s, "(uid=alice)") {
		t.Errorf("String() = %s: want the uid shown and the password redacted", s)
	}
}

func TestMalformedFiltersAreProtocolErrors(t *testing.T) {
	notEmpty := ber.Encode(ber.ClassContext, ber.TypeConstructed, ber.Tag(fNot), nil, "not")
	deep := ber.Encode(ber.ClassContext, ber.TypePrimitive, ber.Tag(fPresent), "cn", "present")
	for range maxFilterNesting + 1 {
		n := ber.Encode(ber.ClassContext, ber.TypeConstructed, ber.Tag(fNot), nil, "not")
		n.AppendChild(deep)
		deep = n
	}
	unknown := ber.Encode(ber.ClassContext, ber.TypePrimitive, 12, "x", "unknown")
	for _, tt := range []struct {
		name string
		p    *ber.Packet
	}{
		{"a not with no element", notEmpty},
		{"a filter nested too deep", deep},
		{"an unknown filter choice", unknown},
	} {
		t.Run(tt.name+" is refused", func(t *testing.T) {
			_, err := compileFilter(tt.p)
			if le, ok := err.(*Error); !ok || le.Code != ProtocolError {
				t.Errorf("err = %v, want protocolError", err)
			}
		})
	}
}
