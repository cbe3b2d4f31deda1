package ldapserver

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

const (
	aliceDN = "uid=alice,ou=people,dc=example,dc=com"
	bobDN   = "uid=bob,ou=people,dc=example,dc=com"
	carolDN = "uid=carol,ou=people,dc=example,dc=com"
	staffDN = "cn=staff,dc=example,dc=com"
)

func mustGet(t *testing.T, srv *Server, dn string) Entry {
	t.Helper()
	e, err := srv.Get(dn)
	if err != nil {
		t.Fatalf("Get %s: %v", dn, err)
	}
	return e
}

func person(uid string) map[string][]string {
	return map[string][]string{"objectClass": {"inetOrgPerson"}, "uid": {uid}, "cn": {uid}, "sn": {uid}}
}

func TestAddGivesOperationalAttributes(t *testing.T) {
	srv, clock := newFixture(t)
	dn := "uid=dave,ou=people,dc=example,dc=com"
	if err := srv.Add(dn, person("dave")); err != nil {
		t.Fatal(err)
	}
	e := mustGet(t, srv, dn)
	checks := map[string]string{
		"createTimestamp": "20260301120000Z",
		"modifyTimestamp": "20260301120000Z",
		"creatorsName":    "cn=admin,dc=example,dc=com",
		"modifiersName":   "cn=admin,dc=example,dc=com",
		"entryDN":         dn,
		"hasSubordinates": "FALSE",
	}
	for attr, want := range checks {
		if got := e.Value(attr); got != want {
			t.Errorf("%s = %q, want %q", attr, got, want)
		}
	}
	if !strings.HasPrefix(e.Value("entryCSN"), "20260301120000.000000Z#") {
		t.Errorf("entryCSN %q does not carry the clock's time", e.Value("entryCSN"))
	}
	if len(e.Value("entryUUID")) != 36 {
		t.Errorf("entryUUID %q is not a UUID", e.Value("entryUUID"))
	}
	_ = clock
}

func TestModifyAdvancesTimestampAndCSNAndKeepsIdentity(t *testing.T) {
	srv, clock := newFixture(t)
	before := mustGet(t, srv, aliceDN)
	clock.Advance(90 * time.Second)
	if err := srv.Modify(aliceDN, Replace("title", "CTO")); err != nil {
		t.Fatal(err)
	}
	after := mustGet(t, srv, aliceDN)
	if after.Value("modifyTimestamp") != "20260301120130Z" {
		t.Errorf("modifyTimestamp %s, want 20260301120130Z", after.Value("modifyTimestamp"))
	}
	if after.Value("entryCSN") <= before.Value("entryCSN") {
		t.Errorf("entryCSN went from %s to %s: want it to grow", before.Value("entryCSN"), after.Value("entryCSN"))
	}
	for _, attr := range []string{"entryUUID", "createTimestamp"} {
		if after.Value(attr) != before.Value(attr) {
			t.Errorf("%s changed from %s to %s", attr, before.Value(attr), after.Value(attr))
		}
	}
	if after.Value("title") != "CTO" {
		t.Errorf("title %q, want CTO", after.Value("title"))
	}
}

func TestWritesInOneInstantGetIncreasingCSNs(t *testing.T) {
	srv, _ := newFixture(t)
	var last string
	for i := range 5 {
		if err := srv.Modify(carolDN, Replace("title", strings.Repeat("x", i+1))); err != nil {
			t.Fatal(err)
		}
		csn := mustGet(t, srv, carolDN).Value("entryCSN")
		if csn <= last {
			t.Fatalf("write %d: CSN %s not after %s", i, csn, last)
		}
		last = csn
	}
}

func TestLoadedEntriesKeepTheirOperationalAttributes(t *testing.T) {
	ldif := "dn: dc=x\nobjectClass: domain\ndc: x\nentryUUID: 6b1e6d0c-0000-4000-8000-000000000001\n" +
		"createTimestamp: 20200101000000Z\nmodifyTimestamp: 20210101000000Z\nentryCSN: 20300101000000.000000Z#000000#000#000000\n" +
		"memberOf: cn=ignored,dc=x\n"
	clock := newTestClock()
	srv, err := New(Options{LDIF: strings.NewReader(ldif), Clock: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	e := mustGet(t, srv, "dc=x")
	if e.Value("entryUUID") != "6b1e6d0c-0000-4000-8000-000000000001" || e.Value("modifyTimestamp") != "20210101000000Z" {
		t.Errorf("loaded operational attributes were not kept: %+v", e)
	}
	if len(e.Values("memberOf")) != 0 {
		t.Errorf("memberOf from the file should be recomputed, got %v", e.Values("memberOf"))
	}
	if err := srv.Modify("dc=x", Replace("description", "now")); err != nil {
		t.Fatal(err)
	}
	if got := mustGet(t, srv, "dc=x").Value("entryCSN"); got <= "20300101000000.000000Z#000000#000#000000" {
		t.Errorf("CSN %s after a loaded CSN from 2030: want greater, though the clock says 2026", got)
	}
}

func TestMemberOfFollowsGroupsAndStampsMembers(t *testing.T) {
	srv, clock := newFixture(t)
	if got := mustGet(t, srv, aliceDN).Values("memberOf"); !slices.Equal(got, []string{staffDN}) {
		t.Fatalf("alice memberOf %v, want [%s]", got, staffDN)
	}
	carolBefore := mustGet(t, srv, carolDN).Value("entryCSN")
	clock.Advance(time.Minute)
	if err := srv.Modify(staffDN, AddValues("member", carolDN)); err != nil {
		t.Fatal(err)
	}
	carol := mustGet(t, srv, carolDN)
	if !slices.Equal(carol.Values("memberOf"), []string{staffDN}) {
		t.Errorf("carol memberOf %v after being added", carol.Values("memberOf"))
	}
	if carol.Value("entryCSN") <= carolBefore || carol.Value("modifyTimestamp") != "20260301120100Z" {
		t.Errorf("carol was not stamped when her memberOf changed: %s %s", carol.Value("entryCSN"), carol.Value("modifyTimestamp"))
	}
	if err := srv.Modify(staffDN, DeleteValues("member", "UID=ALICE,OU=PEOPLE,DC=EXAMPLE,DC=COM")); err != nil {
		t.Fatal(err)
	}
	if got := mustGet(t, srv, aliceDN).Values("memberOf"); len(got) != 0 {
		t.Errorf("alice memberOf %v after removal by a differently written DN", got)
	}
}

func TestDeleteRemovesReferencesToTheEntry(t *testing.T) {
	srv, clock := newFixture(t)
	groupBefore := mustGet(t, srv, staffDN).Value("entryCSN")
	clock.Advance(time.Minute)
	if err := srv.Delete(bobDN); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Get(bobDN); !errors.Is(err, ErrNoSuchObject) {
		t.Fatalf("Get after delete: %v, want noSuchObject", err)
	}
	group := mustGet(t, srv, staffDN)
	if !slices.Equal(group.Values("member"), []string{aliceDN}) {
		t.Errorf("staff members %v, want only alice", group.Values("member"))
	}
	if group.Value("entryCSN") <= groupBefore {
		t.Errorf("the group was not stamped when a member was removed")
	}
	if got := mustGet(t, srv, aliceDN).Values("manager"); len(got) != 0 {
		t.Errorf("alice's manager %v still names the deleted bob", got)
	}
}

func TestModifyDN(t *testing.T) {
	t.Run("a rename keeps entryUUID and rewrites member and manager values", func(t *testing.T) {
		srv, _ := newFixture(t)
		uuid := mustGet(t, srv, bobDN).Value("entryUUID")
		if err := srv.ModifyDN(bobDN, "uid=robert", true, ""); err != nil {
			t.Fatal(err)
		}
		newDN := "uid=robert,ou=people,dc=example,dc=com"
		e := mustGet(t, srv, newDN)
		if e.Value("entryUUID") != uuid {
			t.Errorf("entryUUID changed on rename")
		}
		if !slices.Equal(e.Values("uid"), []string{"robert"}) {
			t.Errorf("uid %v, want [robert] (old RDN value deleted)", e.Values("uid"))
		}
		if got := mustGet(t, srv, aliceDN).Value("manager"); got != newDN {
			t.Errorf("alice's manager %q, want %q", got, newDN)
		}
		if got := mustGet(t, srv, staffDN).Values("member"); !slices.Contains(got, newDN) {
			t.Errorf("staff members %v, want to include %s", got, newDN)
		}
		if got := e.Values("memberOf"); !slices.Equal(got, []string{staffDN}) {
			t.Errorf("renamed entry memberOf %v", got)
		}
	})
	t.Run("keeping the old RDN value leaves it in the entry", func(t *testing.T) {
		srv, _ := newFixture(t)
		if err := srv.ModifyDN(bobDN, "uid=robert", false, ""); err != nil {
			t.Fatal(err)
		}
		if got := mustGet(t, srv, "uid=robert,ou=people,dc=example,dc=com").Values("uid"); !slices.Equal(got, []string{"bob", "robert"}) {
			t.Errorf("uid %v, want [bob robert]", got)
		}
	})
	t.Run("a move of a subtree renames every descendant and the links to them", func(t *testing.T) {
		srv, _ := newFixture(t)
		if err := srv.Add("ou=archive,dc=example,dc=com", map[string][]string{"objectClass": {"organizationalUnit"}, "ou": {"archive"}}); err != nil {
			t.Fatal(err)
		}
		if err := srv.ModifyDN("ou=people,dc=example,dc=com", "ou=staff", true, "ou=archive,dc=example,dc=com"); err != nil {
			t.Fatal(err)
		}
		moved := "uid=alice,ou=staff,ou=archive,dc=example,dc=com"
		if _, err := srv.Get(moved); err != nil {
			t.Fatalf("descendant not found at its new DN: %v", err)
		}
		if got := mustGet(t, srv, staffDN).Values("member"); !slices.Contains(got, moved) {
			t.Errorf("staff members %v, want %s", got, moved)
		}
		if got := mustGet(t, srv, moved).Value("manager"); got != "uid=bob,ou=staff,ou=archive,dc=example,dc=com" {
			t.Errorf("manager %s was not moved with its entry", got)
		}
	})
	for _, tt := range []struct {
		name              string
		dn, rdn, superior string
		want              error
	}{
		{"renaming onto an existing entry", bobDN, "uid=alice", "", ErrEntryAlreadyExists},
		{"moving below itself", "ou=people,dc=example,dc=com", "ou=people", aliceDN, ErrUnwillingToPerform},
		{"moving under a missing superior", bobDN, "uid=bob", "ou=nowhere,dc=example,dc=com", ErrNoSuchObject},
		{"renaming a missing entry", "uid=zed,ou=people,dc=example,dc=com", "uid=zee", "", ErrNoSuchObject},
		{"a new RDN of two RDNs", bobDN, "uid=a,ou=b", "", ErrInvalidDNSyntax},
		{"renaming the naming context", "dc=example,dc=com", "dc=other", "", ErrUnwillingToPerform},
	} {
		t.Run(tt.name+" fails", func(t *testing.T) {
			srv, _ := newFixture(t)
			if err := srv.ModifyDN(tt.dn, tt.rdn, true, tt.superior); !errors.Is(err, tt.want) {
				t.Errorf("ModifyDN = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestAddIsRefused(t *testing.T) {
	tests := []struct {
		name  string
		dn    string
		attrs map[string][]string
		want  error
	}{
		{"when the entry exists", aliceDN, person("alice"), ErrEntryAlreadyExists},
		{"when the parent is missing", "uid=x,ou=nowhere,dc=example,dc=com", person("x"), ErrNoSuchObject},
		{"when the DN is outside the naming context", "uid=x,dc=other,dc=org", person("x"), ErrUnwillingToPerform},
		{"without an objectClass", "uid=x,ou=people,dc=example,dc=com", map[string][]string{"uid": {"x"}}, ErrObjectClassViolation},
		{"when the RDN value is not in the entry", "uid=x,ou=people,dc=example,dc=com", person("y"), ErrNamingViolation},
		{"when it sets an operational attribute", "uid=x,ou=people,dc=example,dc=com",
			map[string][]string{"objectClass": {"person"}, "uid": {"x"}, "entryUUID": {"6b1e6d0c-0000-4000-8000-000000000001"}}, ErrConstraintViolation},
		{"when a value is given twice", "uid=x,ou=people,dc=example,dc=com",
			map[string][]string{"objectClass": {"person"}, "uid": {"x"}, "cn": {"A", "a"}}, ErrAttributeOrValueExists},
		{"when the DN is malformed", "uid=x,,dc=example", person("x"), ErrInvalidDNSyntax},
		{"when a DN-valued attribute holds no DN", "uid=x,ou=people,dc=example,dc=com",
			map[string][]string{"objectClass": {"person"}, "uid": {"x"}, "manager": {"not a dn"}}, ErrInvalidAttributeSyntax},
		{"when an integer attribute holds no integer", "uid=x,ou=people,dc=example,dc=com",
			map[string][]string{"objectClass": {"person"}, "uid": {"x"}, "uidNumber": {"12a"}}, ErrInvalidAttributeSyntax},
		{"when an attribute name is not one", "uid=x,ou=people,dc=example,dc=com",
			map[string][]string{"objectClass": {"person"}, "uid": {"x"}, "given name": {"X"}}, ErrUndefinedAttributeType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := newFixture(t)
			err := srv.Add(tt.dn, tt.attrs)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Add = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestAddUnderAMissingParentNamesTheDeepestExistingAncestor(t *testing.T) {
	srv, _ := newFixture(t)
	err := srv.Add("uid=x,ou=deep,ou=people,dc=example,dc=com", person("x"))
	var le *Error
	if !errors.As(err, &le) || le.MatchedDN != "ou=people,dc=example,dc=com" {
		t.Fatalf("err = %v, want noSuchObject with matchedDN ou=people,dc=example,dc=com", err)
	}
}

func TestModifyIsAtomicAndChecked(t *testing.T) {
	tests := []struct {
		name    string
		changes []Change
		want    error
	}{
		{"deleting an absent attribute", []Change{DeleteValues("mobile")}, ErrNoSuchAttribute},
		{"deleting an absent value", []Change{DeleteValues("cn", "Nobody")}, ErrNoSuchAttribute},
		{"adding a value already there, in another case", []Change{AddValues("cn", "ALICE SMITH")}, ErrAttributeOrValueExists},
		{"removing the RDN value", []Change{DeleteValues("uid", "alice")}, ErrNotAllowedOnRDN},
		{"removing every objectClass", []Change{DeleteValues("objectClass")}, ErrObjectClassViolation},
		{"writing an operational attribute", []Change{Replace("modifyTimestamp", "20000101000000Z")}, ErrConstraintViolation},
		{"incrementing a non-integer", []Change{Increment("cn", 1)}, ErrInvalidAttributeSyntax},
		{"replacing a timestamp with a non-time", []Change{Replace("pwdChangedTime", "yesterday")}, ErrInvalidAttributeSyntax},
		{"adding to an attribute whose name is not one", []Change{AddValues("a b", "x")}, ErrUndefinedAttributeType},
		{"a later change failing after an earlier one succeeded", []Change{Replace("title", "changed"), DeleteValues("mobile")}, ErrNoSuchAttribute},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is refused and changes nothing", func(t *testing.T) {
			srv, _ := newFixture(t)
			before := mustGet(t, srv, aliceDN)
			if err := srv.Modify(aliceDN, tt.changes...); !errors.Is(err, tt.want) {
				t.Fatalf("Modify = %v, want %v", err, tt.want)
			}
			after := mustGet(t, srv, aliceDN)
			if after.Value("title") != before.Value("title") || after.Value("entryCSN") != before.Value("entryCSN") {
				t.Errorf("a refused modify changed the entry")
			}
		})
	}
}

func TestModifyOperations(t *testing.T) {
	srv, _ := newFixture(t)
	if err := srv.Modify(aliceDN,
		AddValues("mail", "a.smith@example.com"),
		DeleteValues("mail", "alice@example.com"),
		Replace("description"),
		Increment("uidNumber", 9),
	); err != nil {
		t.Fatal(err)
	}
	e := mustGet(t, srv, aliceDN)
	if got := e.Values("mail"); !slices.Equal(got, []string{"a.smith@example.com"}) {
		t.Errorf("mail %v", got)
	}
	if got := e.Values("description"); len(got) != 0 {
		t.Errorf("replace with no values left description %v", got)
	}
	if got := e.Value("uidNumber"); got != "1010" {
		t.Errorf("uidNumber %s after +9, want 1010", got)
	}
	if got := e.Value("jpegPhoto"); got != "\x00\x01\xff" {
		t.Errorf("jpegPhoto bytes %q, want 00 01 ff", got)
	}
}

func TestDeleteOfANonLeafIsRefused(t *testing.T) {
	srv, _ := newFixture(t)
	if err := srv.Delete("ou=people,dc=example,dc=com"); !errors.Is(err, ErrNotAllowedOnNonLeaf) {
		t.Fatalf("Delete = %v, want notAllowedOnNonLeaf", err)
	}
}

func TestEntriesAreInTreeOrderAndCopies(t *testing.T) {
	srv, _ := newFixture(t)
	entries := srv.Entries()
	var dns []string
	for _, e := range entries {
		dns = append(dns, e.DN)
	}
	want := []string{"dc=example,dc=com", "ou=people,dc=example,dc=com", aliceDN, bobDN, carolDN, staffDN}
	if !slices.Equal(dns, want) {
		t.Fatalf("Entries order %v, want %v", dns, want)
	}
	entries[2].Attributes[0].Values[0] = "mutated"
	if mustGet(t, srv, aliceDN).Values("objectClass")[0] == "mutated" {
		t.Error("Entries returned the server's own slices")
	}
}
