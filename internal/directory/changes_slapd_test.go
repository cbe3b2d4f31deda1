package directory

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/o365prov/o365prov/internal/config"
	"github.com/o365prov/o365prov/internal/directory/slapdtest"
)

// Each algorithm, on OpenLDAP: a watermark, then changes; every change
// after the watermark is found, in the same second too; nothing is found
// when nothing changed; the watermark advances.
func TestSlapdChangeDetection(t *testing.T) {
	t.Parallel()
	for _, alg := range []string{config.EntryCSN, config.Timestamp, config.TimestampNoNegation} {
		t.Run(alg, func(t *testing.T) {
			t.Parallel()
			srv := slapdtest.Start(t, slapdtest.Options{LDIF: slapdtest.UserLDIF("dc=example,dc=com", 20)})
			src := srv.Source()
			src.ChangeDetection.Algorithm = alg
			src.ChangeDetection.Attribute = ""
			// No skew: the test asserts exact sets (slapd's clock is this
			// machine's, read through cn=Monitor).
			d := open(t, src, WithClockSkew(0))
			if alg != config.EntryCSN {
				// The data was loaded this second; timestamps cannot tell it
				// from changes made after a watermark taken now.
				time.Sleep(1100 * time.Millisecond)
			}
			wm := watermark(t, d)
			// Changes in the same second as the watermark.
			srv.Modify(t, srv.UserDN("user00003"), map[string][]string{"title": {"Manager"}})
			srv.AddUser(t, "fresh", nil)
			cs, next := changes(t, d, KindUser, wm)
			if !hasChange(cs, Updated, srv.UserDN("user00003")) || !hasChange(cs, Updated, srv.UserDN("fresh")) {
				t.Fatalf("changes since the watermark: %v", summary(cs))
			}
			for _, c := range cs {
				if c.Kind == Updated && c.Entry.DN == srv.UserDN("user00003") && c.Entry.First("title") != "Manager" {
					t.Errorf("changed entry has title %q", c.Entry.First("title"))
				}
			}
			if len(cs) > 4 {
				t.Errorf("changes returned %d entries for 2 changes: %v", len(cs), summary(cs))
			}
			if alg != config.EntryCSN {
				// The next watermark may be the same second: wait it out so
				// the no-change check is exact.
				time.Sleep(1100 * time.Millisecond)
				next = watermark(t, d)
			}
			cs, next2 := changes(t, d, KindUser, next)
			if len(cs) != 0 {
				t.Fatalf("changes with nothing changed: %v", summary(cs))
			}
			srv.Modify(t, srv.UserDN("user00007"), map[string][]string{"title": {"CTO"}})
			cs, _ = changes(t, d, KindUser, next2)
			if len(cs) != 1 || !hasChange(cs, Updated, srv.UserDN("user00007")) {
				t.Fatalf("changes after one modify: %v", summary(cs))
			}
		})
	}
}

func TestSlapdStaleWatermark(t *testing.T) {
	t.Parallel()
	srv := slapdtest.Start(t, slapdtest.Options{})
	d := open(t, srv.Source())
	for _, wm := range []Watermark{"", "garbage", `{"v":2}`} {
		if _, err := d.Changes(ctxT(t), KindUser, wm, nil, func(Change) error { return nil }); !isErr(err, ErrStaleWatermark) {
			t.Errorf("Changes(%q): %v", wm, err)
		}
	}
	wm := watermark(t, d)
	src := srv.Source()
	src.ChangeDetection.Algorithm = config.Timestamp
	src.ChangeDetection.Attribute = ""
	d2 := open(t, src)
	if _, err := d2.Changes(ctxT(t), KindUser, wm, nil, func(Change) error { return nil }); !isErr(err, ErrStaleWatermark) {
		t.Errorf("a watermark of another algorithm: %v", err)
	}
	src = srv.Source()
	src.Users.Filter = "(&(objectClass=inetOrgPerson)(title=x))"
	d3 := open(t, src)
	if _, err := d3.Changes(ctxT(t), KindUser, wm, nil, func(Change) error { return nil }); !isErr(err, ErrStaleWatermark) {
		t.Errorf("a watermark of another filter: %v", err)
	}
}

// An entry modified out of the filter comes back as Left, never Updated.
func TestSlapdChangedOutOfFilter(t *testing.T) {
	t.Parallel()
	srv := slapdtest.Start(t, slapdtest.Options{LDIF: slapdtest.UserLDIF("dc=example,dc=com", 5)})
	src := srv.Source()
	src.Users.Filter = "(&(objectClass=inetOrgPerson)(title=Engineer))"
	d := open(t, src)
	wm := watermark(t, d)
	srv.Modify(t, srv.UserDN("user00001"), map[string][]string{"title": {"Retired"}})
	srv.Modify(t, srv.UserDN("user00002"), map[string][]string{"telephoneNumber": {"1"}})
	cs, _ := changes(t, d, KindUser, wm)
	want := []string{"left " + srv.UserDN("user00001"), "updated " + srv.UserDN("user00002")}
	if got := summary(cs); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("changes: %v, want %v", got, want)
	}
	for _, c := range cs {
		if c.Kind == Left && (c.Entry.GUID == "" || len(c.Entry.RawGUID) != 16) {
			t.Errorf("Left without a GUID: %+v", c.Entry)
		}
	}
}

// Users scoped by a group: members only; nested groups with a cycle;
// a member leaving is ScopeChanged (the user entry does not change); a
// changed entry that left the group is never Updated.
func TestSlapdGroupScope(t *testing.T) {
	t.Parallel()
	srv := slapdtest.Start(t, slapdtest.Options{LDIF: slapdtest.UserLDIF("dc=example,dc=com", 10)})
	u := func(i int) string { return srv.UserDN(fmt.Sprintf("user%05d", i)) }
	inner := srv.AddGroup(t, "inner", u(3), u(4))
	outer := srv.AddGroup(t, "o365", u(1), u(2), inner)
	// A cycle: inner lists outer.
	srv.AddValues(t, inner, "member", outer)
	srv.AddGroup(t, "other", u(5))

	for _, nested := range []bool{false, true} {
		t.Run(fmt.Sprintf("nested=%v", nested), func(t *testing.T) {
			src := srv.Source()
			src.Users.GroupDN = outer
			src.Users.NestedSearch = nested
			d := open(t, src, WithClockSkew(0))
			got, _ := readAll(t, d, KindUser, []string{"uid"})
			want := map[string]bool{u(1): true, u(2): true}
			if nested {
				want[u(3)], want[u(4)] = true, true
			}
			if len(got) != len(want) {
				t.Fatalf("in scope: %v, want %v", keys(got), keys(want))
			}
			for dn := range want {
				if _, ok := got[dn]; !ok {
					t.Fatalf("%s missing from %v", dn, keys(got))
				}
			}
			if en := enumerate(t, d, KindUser); len(en) != len(want) {
				t.Fatalf("enumerate: %v", en)
			}
		})
	}

	src := srv.Source()
	src.Users.GroupDN = outer
	src.Users.NestedSearch = true
	d := open(t, src, WithClockSkew(0))
	wm := watermark(t, d)
	// Nothing changed: no scope change.
	if cs, _ := changes(t, d, KindUser, wm); len(cs) != 0 {
		t.Fatalf("no change: %v", summary(cs))
	}
	// user3 leaves the nested group, and changes; user5 (outside) changes;
	// user1 changes and is in scope.
	srv.DeleteValues(t, inner, "member", u(3))
	srv.Modify(t, u(3), map[string][]string{"title": {"Gone"}})
	srv.Modify(t, u(5), map[string][]string{"title": {"Outside"}})
	srv.Modify(t, u(1), map[string][]string{"title": {"Inside"}})
	cs, next := changes(t, d, KindUser, wm)
	if !hasChange(cs, ScopeChanged, "") {
		t.Errorf("a nested group changed, no ScopeChanged: %v", summary(cs))
	}
	if hasChange(cs, Updated, u(3)) || hasChange(cs, Updated, u(5)) {
		t.Fatalf("an entry out of scope came back as Updated: %v", summary(cs))
	}
	if !hasChange(cs, Updated, u(1)) || !hasChange(cs, Left, u(3)) || !hasChange(cs, Left, u(5)) {
		t.Fatalf("changes: %v", summary(cs))
	}
	// Enumerate finds who left.
	en := enumerate(t, d, KindUser)
	for _, dn := range en {
		if dn == u(3) {
			t.Fatal("user3 still enumerated")
		}
	}
	if len(en) != 3 {
		t.Fatalf("enumerate after the leave: %v", en)
	}
	// A member removed from the top group without other changes.
	time.Sleep(1100 * time.Millisecond)
	srv.DeleteValues(t, outer, "member", u(2))
	cs, _ = changes(t, d, KindUser, next)
	if !hasChange(cs, ScopeChanged, "") || len(cs) != 1 {
		t.Fatalf("after a leave: %v", summary(cs))
	}

	// The scope group deleted: reads fail, never "nobody in scope".
	srv.Delete(t, outer)
	if _, err := d.Users(ctxT(t), nil, func(Entry) error { return nil }); !isErr(err, ErrScopeGroupMissing) {
		t.Fatalf("read with the scope group gone: %v", err)
	}
	if err := d.Enumerate(ctxT(t), KindUser, func(string, string) error { return nil }); !isErr(err, ErrScopeGroupMissing) {
		t.Fatalf("enumerate with the scope group gone: %v", err)
	}
	if _, err := d.Changes(ctxT(t), KindUser, next, nil, func(Change) error { return nil }); !isErr(err, ErrScopeGroupMissing) {
		t.Fatalf("changes with the scope group gone: %v", err)
	}
}

// Many changed entries under a group scope: the group is resolved once
// instead of walked per entry, with the same answer.
func TestSlapdGroupScopeBulkChanges(t *testing.T) {
	t.Parallel()
	var ldif strings.Builder
	ldif.WriteString(slapdtest.UserLDIF("dc=example,dc=com", 300))
	ldif.WriteString("dn: cn=o365,ou=groups,dc=example,dc=com\nobjectClass: groupOfNames\ncn: o365\n")
	for i := 0; i < 300; i += 2 {
		fmt.Fprintf(&ldif, "member: uid=user%05d,ou=people,dc=example,dc=com\n", i)
	}
	ldif.WriteString("\n")
	srv := slapdtest.Start(t, slapdtest.Options{LDIF: ldif.String()})
	src := srv.Source()
	src.Users.GroupDN = "cn=o365,ou=groups,dc=example,dc=com"
	src.Users.NestedSearch = true
	src.PageSize = 50 // walk limit 100 < 300 changes
	d := open(t, src)
	wm := watermark(t, d)
	c := srv.Conn(t)
	_ = c
	for i := 0; i < 300; i++ {
		srv.Modify(t, srv.UserDN(fmt.Sprintf("user%05d", i)), map[string][]string{"title": {"Bulk"}})
	}
	cs, _ := changes(t, d, KindUser, wm)
	up, left := 0, 0
	for _, c := range cs {
		switch c.Kind {
		case Updated:
			up++
		case Left:
			left++
		}
	}
	if up != 150 || left != 150 {
		t.Fatalf("bulk changes: %d updated, %d left; want 150 and 150", up, left)
	}
}

func TestSlapdGroupsAndMembers(t *testing.T) {
	t.Parallel()
	srv := slapdtest.Start(t, slapdtest.Options{LDIF: slapdtest.UserLDIF("dc=example,dc=com", 5)})
	u := func(i int) string { return srv.UserDN(fmt.Sprintf("user%05d", i)) }
	a := srv.AddGroup(t, "a", u(0), u(1))
	b := srv.AddGroup(t, "b", u(2), a)
	empty := srv.AddGroup(t, "empty")
	srv.Add(t, "cn=uniq,ou=groups,dc=example,dc=com", map[string][]string{
		"objectClass": {"groupOfUniqueNames"}, "cn": {"uniq"},
		"uniqueMember": {u(3) + "#'0101'B", u(4)},
	})
	d := open(t, srv.Source())
	got, _ := readAll(t, d, KindGroup, []string{"cn", "description"})
	if len(got) != 3 {
		t.Fatalf("groups: %v", keys(got))
	}
	if m := got[a].Members; len(m) != 2 || m[0] != u(0) {
		t.Errorf("members of a: %q", m)
	}
	if m := got[b].Members; len(m) != 2 {
		t.Errorf("members of b: %q", m)
	}
	if m := got[empty].Members; len(m) != 0 {
		t.Errorf("members of an empty group: %q", m)
	}
	if _, ok := got[a].Attributes["member"]; ok {
		t.Error("members repeated in Attributes")
	}
	// uniqueMember, with its optional UID stripped.
	src := srv.Source()
	src.GroupObjectClass, src.MemberAttribute = "groupOfUniqueNames", "uniqueMember"
	src.Groups = &config.Location{Filter: "(objectClass=groupOfUniqueNames)"}
	d2 := open(t, src)
	got, _ = readAll(t, d2, KindGroup, nil)
	if m := got["cn=uniq,ou=groups,dc=example,dc=com"].Members; len(m) != 2 || m[0] != u(3) {
		t.Errorf("uniqueMember: %q", m)
	}
	// Groups scoped by a group: the groups that are its members.
	src = srv.Source()
	src.Groups = &config.Location{GroupDN: b, Filter: "(objectClass=groupOfNames)"}
	d3 := open(t, src)
	got, _ = readAll(t, d3, KindGroup, nil)
	if len(got) != 1 || got[a].DN != a {
		t.Errorf("groups in group b: %v", keys(got))
	}
	// No groups location.
	src = srv.Source()
	src.Groups = nil
	d4 := open(t, src)
	if _, err := d4.Groups(ctxT(t), nil, func(Entry) error { return nil }); !isErr(err, ErrNotConfigured) {
		t.Errorf("groups without a location: %v", err)
	}
}

// Entries without a GUID, or with an unreadable value, are reported and
// skipped; the read goes on and succeeds.
func TestSlapdBadEntriesAreSkipped(t *testing.T) {
	t.Parallel()
	srv := slapdtest.Start(t, slapdtest.Options{LDIF: slapdtest.UserLDIF("dc=example,dc=com", 4)})
	srv.Modify(t, srv.UserDN("user00000"), map[string][]string{"employeeType": {"E0"}})
	srv.Modify(t, srv.UserDN("user00001"), map[string][]string{"employeeType": {"E1", "E1b"}})
	srv.Modify(t, srv.UserDN("user00002"), map[string][]string{"employeeType": {"E2"}})
	src := srv.Source()
	src.GUIDAttribute = "employeeType"
	var seen []Problem
	d := open(t, src, WithProblemHandler(func(p Problem) { seen = append(seen, p) }))
	got, st := readAll(t, d, KindUser, nil)
	if len(got) != 2 || st.Skipped != 2 || len(st.Problems) != 2 || len(seen) != 2 {
		t.Fatalf("read %d, stats %+v, handler saw %v", len(got), st, seen)
	}
	e := got[srv.UserDN("user00000")]
	if e.GUID != "E0" || string(e.RawGUID) != "E0" {
		t.Errorf("text GUID: %q %q", e.GUID, e.RawGUID)
	}
	for _, p := range st.Problems {
		if p.DN == "" || p.Reason == "" {
			t.Errorf("problem without DN or reason: %+v", p)
		}
		t.Logf("problem: %s", p)
	}
}

func TestSlapdFlagAccountStatus(t *testing.T) {
	t.Parallel()
	srv := slapdtest.Start(t, slapdtest.Options{LDIF: slapdtest.UserLDIF("dc=example,dc=com", 3)})
	srv.Modify(t, srv.UserDN("user00000"), map[string][]string{"employeeType": {"DISABLED"}})
	srv.Modify(t, srv.UserDN("user00001"), map[string][]string{"employeeType": {"staff"}})
	for _, tc := range []struct {
		meansDisabled bool
		def           string
		want          [3]bool
	}{
		{true, "enabled", [3]bool{false, true, true}},
		{true, "disabled", [3]bool{false, true, false}},
		{false, "disabled", [3]bool{true, false, false}},
	} {
		src := srv.Source()
		src.AccountStatus = config.AccountStatus{Algorithm: config.StatusFlag, Attribute: "employeeType", FlagValue: "disabled", FlagMeansDisabled: tc.meansDisabled, Default: tc.def}
		d := open(t, src)
		got, _ := readAll(t, d, KindUser, nil)
		for i := 0; i < 3; i++ {
			if e := got[srv.UserDN(fmt.Sprintf("user%05d", i))]; e.Enabled != tc.want[i] {
				t.Errorf("flagMeansDisabled=%v default=%s: user%d enabled=%v, want %v", tc.meansDisabled, tc.def, i, e.Enabled, tc.want[i])
			}
		}
	}
}

func TestSlapdLookupAndAuthenticate(t *testing.T) {
	t.Parallel()
	srv := slapdtest.Start(t, slapdtest.Options{LDIF: slapdtest.UserLDIF("dc=example,dc=com", 3)})
	srv.Modify(t, srv.UserDN("user00000"), map[string][]string{"userPassword": {"pw0"}})
	srv.Modify(t, srv.UserDN("user00001"), map[string][]string{"userPassword": {"pw1"}, "employeeType": {"disabled"}})
	srv.AddUser(t, "twin1", map[string][]string{"mail": {"same@example.com"}, "userPassword": {"pwt"}})
	srv.AddUser(t, "twin2", map[string][]string{"mail": {"same@example.com"}, "userPassword": {"pwt"}})
	src := srv.Source()
	src.AccountStatus = config.AccountStatus{Algorithm: config.StatusFlag, Attribute: "employeeType", FlagValue: "disabled", FlagMeansDisabled: true, Default: "enabled"}
	d := open(t, src)
	ctx := ctxT(t)

	e, err := d.Authenticate(ctx, "mail", "user00000@example.com", "pw0", []string{"cn"})
	if err != nil || e.DN != srv.UserDN("user00000") || e.First("cn") == "" {
		t.Fatalf("right password: %v %+v", err, e)
	}
	for _, tc := range []struct{ login, pw string }{
		{"user00000@example.com", "wrong"},
		{"nobody@example.com", "pw0"},
		{"user00000@example.com", ""},
		{"same@example.com", "pwt"},
		{"*", "pw0"},
		{"user00002@example.com", "anything"}, // no password at all
	} {
		if _, err := d.Authenticate(ctx, "mail", tc.login, tc.pw, nil); err != ErrInvalidCredentials {
			t.Errorf("Authenticate(%q, %q) = %v, want ErrInvalidCredentials", tc.login, tc.pw, err)
		}
	}
	if _, err := d.Authenticate(ctx, "mail", "user00001@example.com", "pw1", nil); err != ErrAccountDisabled {
		t.Errorf("disabled account: %v", err)
	}

	if e, err := d.Lookup(ctx, KindUser, srv.UserDN("user00002"), []string{"mail"}); err != nil || e.First("mail") != "user00002@example.com" {
		t.Errorf("Lookup: %v %+v", err, e)
	}
	if _, err := d.Lookup(ctx, KindUser, srv.UserDN("nobody"), nil); !isErr(err, ErrNotFound) {
		t.Errorf("Lookup of a missing entry: %v", err)
	}
	if _, err := d.Lookup(ctx, KindUser, "ou=people,dc=example,dc=com", nil); !isErr(err, ErrNotInScope) {
		t.Errorf("Lookup of an entry out of the filter: %v", err)
	}
	// With a group scope.
	g := srv.AddGroup(t, "sso", srv.UserDN("user00002"))
	src.Users.GroupDN = g
	d2 := open(t, src)
	if _, err := d2.Lookup(ctx, KindUser, srv.UserDN("user00000"), nil); !isErr(err, ErrNotInScope) {
		t.Errorf("Lookup of a user outside the group: %v", err)
	}
	if _, err := d2.Authenticate(ctx, "mail", "user00000@example.com", "pw0", nil); err != ErrInvalidCredentials {
		t.Errorf("Authenticate outside the group: %v", err)
	}
}
