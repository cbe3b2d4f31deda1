package provision_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/o365prov/o365prov/internal/engine"
	"github.com/o365prov/o365prov/internal/faketenant"
	"github.com/o365prov/o365prov/internal/ldapserver"
)

const groupsScope = "      groups: {filter: \"(objectClass=groupOfNames)\"}\n"

func groupLDIF(cn string, members ...string) string {
	s := fmt.Sprintf("dn: cn=%s,ou=groups,dc=contoso,dc=com\nobjectClass: groupOfNames\ncn: %s\ndescription: The %s group\n", cn, cn, cn)
	for _, m := range members {
		s += "member: " + m + "\n"
	}
	return s + "\n"
}

func groupDN(cn string) string { return "cn=" + cn + ",ou=groups,dc=contoso,dc=com" }

// group finds a live tenant group by display name.
func (w *world) group(name string) (faketenant.Group, bool) {
	for _, g := range w.tenant.Groups() {
		if g.DisplayName == name && g.Deleted.IsZero() {
			return g, true
		}
	}
	return faketenant.Group{}, false
}

func (w *world) mustGroup(name string) faketenant.Group {
	w.t.Helper()
	g, ok := w.group(name)
	if !ok {
		w.t.Fatalf("no group %q in the tenant", name)
	}
	return g
}

// memberUPNs lists a tenant group's members by UPN (groups by name).
func (w *world) memberUPNs(g faketenant.Group) []string {
	var out []string
	for _, id := range w.tenant.Members(g.ID) {
		if u, ok := w.tenant.User(id); ok {
			out = append(out, u.UserPrincipalName)
		} else if gg, ok := w.tenant.Group(id); ok {
			out = append(out, "group:"+gg.DisplayName)
		}
	}
	slices.Sort(out)
	return out
}

func upns(is ...int) []string {
	var out []string
	for _, i := range is {
		out = append(out, userUPN(i))
	}
	slices.Sort(out)
	return out
}

func TestGroups(t *testing.T) {
	ldif := orgLDIF(8) + groupLDIF("Sales", userDN(1), userDN(2), userDN(3)) + groupLDIF("Support", userDN(4))
	w := newWorld(t, withLDIF(ldif), withSource(groupsScope), withChannel("    options: {groupDelete: true}\n"))
	res := w.sync(engine.Full)
	if res.Failed > 0 || countOps(res, engine.OpCreateGroup) != 2 {
		t.Fatalf("plan %+v failures %v", res.Plan.Ops, res.Failures)
	}
	sales := w.mustGroup("Sales")
	t.Run("groups are created as security groups with their members", func(t *testing.T) {
		if !sales.SecurityEnabled || sales.MailEnabled || len(sales.GroupTypes) != 0 {
			t.Errorf("Sales = %+v, want a security group", sales)
		}
		if got := w.memberUPNs(sales); !slices.Equal(got, upns(1, 2, 3)) {
			t.Errorf("members = %v", got)
		}
	})
	t.Run("one member added and one removed cost one write each", func(t *testing.T) {
		// Let Entra's replicas learn the new group (a cycle comes a minute
		// later), or its first writes meet the documented 404s.
		w.tenant.Advance(time.Minute)
		before := w.writes()
		w.modify(groupDN("Sales"), ldapserver.AddValues("member", userDN(5)), ldapserver.DeleteValues("member", userDN(1)))
		res := w.sync(engine.Incremental)
		if got := w.writes() - before; got != 2 || len(res.Plan.Ops) != 2 {
			t.Errorf("writes %d, plan %+v", got, res.Plan.Ops)
		}
		if got := w.memberUPNs(w.mustGroup("Sales")); !slices.Equal(got, upns(2, 3, 5)) {
			t.Errorf("members = %v", got)
		}
	})
	t.Run("members o365prov did not add are left alone", func(t *testing.T) {
		if err := w.tenant.AddMembers(sales.ID, w.mustUser(userUPN(7)).ID); err != nil {
			t.Fatal(err)
		}
		w.modify(groupDN("Sales"), ldapserver.Replace("description", "Sellers"))
		w.sync(engine.Incremental)
		if got := w.memberUPNs(w.mustGroup("Sales")); !slices.Contains(got, userUPN(7)) {
			t.Errorf("a member added in Entra was removed: %v", got)
		}
	})
	t.Run("a renamed group is patched, not recreated", func(t *testing.T) {
		w.modify(groupDN("Sales"), ldapserver.Replace("displayName", "Sales & Marketing"))
		res := w.sync(engine.Incremental)
		if len(res.Plan.Ops) != 1 || res.Plan.Ops[0].Type != engine.OpUpdateGroup || !strings.Contains(res.Plan.Ops[0].Reason, "renamed") {
			t.Fatalf("plan = %+v", res.Plan.Ops)
		}
		if g := w.mustGroup("Sales & Marketing"); g.ID != sales.ID {
			t.Errorf("renamed group has a new id")
		}
	})
	t.Run("a group gone from the directory is deleted", func(t *testing.T) {
		support := w.mustGroup("Support")
		if err := w.ldap.Delete(groupDN("Support")); err != nil {
			t.Fatal(err)
		}
		w.sync(engine.Full)
		if _, ok := w.group("Support"); ok {
			t.Error("still in the tenant")
		}
		if g, ok := w.tenant.Group(support.ID); ok && g.Deleted.IsZero() {
			t.Errorf("group %+v not deleted", g)
		}
	})
}

func TestAGroupGoneIsLeftAloneWithoutGroupDelete(t *testing.T) {
	w := newWorld(t, withLDIF(orgLDIF(4)+groupLDIF("Support", userDN(1))), withSource(groupsScope))
	w.sync(engine.Full)
	if err := w.ldap.Delete(groupDN("Support")); err != nil {
		t.Fatal(err)
	}
	res := w.sync(engine.Full)
	if _, ok := w.group("Support"); !ok || countOps(res, engine.OpForgetGroup) != 1 {
		t.Errorf("plan %+v; the group must stay in Entra when groupDelete is off", res.Plan.Ops)
	}
}

func TestNestedGroups(t *testing.T) {
	if testing.Short() {
		t.Skip("heavy end to end: skipped with -short, run once by make e2e")
	}
	ldif := orgLDIF(8) + groupLDIF("Engineering", userDN(1), groupDN("Platform")) + groupLDIF("Platform", userDN(2), userDN(3), groupDN("Engineering"))
	t.Run("flattened into the parent by default, loops cut", func(t *testing.T) {
		w := newWorld(t, withLDIF(ldif), withSource(groupsScope))
		w.sync(engine.Full)
		if got := w.memberUPNs(w.mustGroup("Engineering")); !slices.Equal(got, upns(1, 2, 3)) {
			t.Errorf("Engineering = %v, want its users and Platform's", got)
		}
		if got := w.memberUPNs(w.mustGroup("Platform")); !slices.Equal(got, upns(1, 2, 3)) {
			t.Errorf("Platform = %v", got)
		}
	})
	t.Run("changes in an incremental cycle keep the flattened members right", func(t *testing.T) {
		w := newWorld(t, withLDIF(ldif), withSource(groupsScope))
		w.sync(engine.Full)
		w.tenant.Advance(time.Minute)
		// Only the nested group changes: its parent's flattened members follow.
		w.modify(groupDN("Platform"), ldapserver.AddValues("member", userDN(5)))
		w.sync(engine.Incremental)
		if got := w.memberUPNs(w.mustGroup("Engineering")); !slices.Equal(got, upns(1, 2, 3, 5)) {
			t.Errorf("Engineering after Platform changed = %v", got)
		}
		// Only the parent changes: the unchanged nested group's members stay.
		w.modify(groupDN("Engineering"), ldapserver.AddValues("member", userDN(6)))
		res := w.sync(engine.Incremental)
		if got := w.memberUPNs(w.mustGroup("Engineering")); !slices.Equal(got, upns(1, 2, 3, 5, 6)) {
			t.Errorf("Engineering after it changed = %v (plan %+v)", got, res.Plan.Ops)
		}
	})
	t.Run("kept as nested groups with flattenNested off", func(t *testing.T) {
		w := newWorld(t, withLDIF(ldif), withSource(groupsScope), withChannel("    options: {flattenNested: false}\n"))
		w.sync(engine.Full)
		got := w.memberUPNs(w.mustGroup("Engineering"))
		want := append(upns(1), "group:Platform")
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("Engineering = %v, want %v", got, want)
		}
	})
}

func TestAnExistingCloudGroupIsAdoptedOnlyWhenAsked(t *testing.T) {
	ldif := orgLDIF(4) + groupLDIF("Finance", userDN(1), userDN(2))
	seed := func(w *world) string {
		id, err := w.tenant.AddGroup(faketenant.SeedGroup{Properties: map[string]any{
			"displayName": "Finance", "mailNickname": "finance-old", "mailEnabled": false, "securityEnabled": true, "groupTypes": []string{},
		}})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	t.Run("adopted by displayName", func(t *testing.T) {
		w := newWorld(t, withLDIF(ldif), withSource(groupsScope), withChannel("    options: {adoptExistingGroups: displayName}\n"))
		id := seed(w)
		res := w.sync(engine.Full)
		if countOps(res, engine.OpLinkGroup) != 1 || countOps(res, engine.OpCreateGroup) != 0 {
			t.Fatalf("plan = %+v", res.Plan.Ops)
		}
		g, _ := w.tenant.Group(id)
		if got := w.memberUPNs(g); !slices.Equal(got, upns(1, 2)) || g.MailNickname != "Finance" {
			t.Errorf("adopted group %+v members %v", g, got)
		}
	})
	t.Run("not adopted by default", func(t *testing.T) {
		w := newWorld(t, withLDIF(ldif), withSource(groupsScope))
		id := seed(w)
		res := w.sync(engine.Full)
		if countOps(res, engine.OpCreateGroup) != 1 {
			t.Fatalf("plan = %+v", res.Plan.Ops)
		}
		if g, _ := w.tenant.Group(id); len(w.tenant.Members(g.ID)) != 0 {
			t.Error("the existing group was changed")
		}
	})
}

func TestMicrosoft365GroupsAsAnOption(t *testing.T) {
	w := newWorld(t, withLDIF(orgLDIF(4)+groupLDIF("Project X", userDN(1), userDN(2))), withSource(groupsScope),
		withChannel("    options: {groupType: microsoft365, groupDelete: true}\n"))
	w.sync(engine.Full)
	g := w.mustGroup("Project X")
	if !g.MailEnabled || !slices.Equal(g.GroupTypes, []string{"Unified"}) || g.MailNickname != "Project-X" {
		t.Errorf("group = %+v, want a Microsoft 365 (Unified) group", g)
	}
	if got := w.memberUPNs(g); !slices.Equal(got, upns(1, 2)) {
		t.Errorf("members = %v", got)
	}
	if err := w.ldap.Delete(groupDN("Project X")); err != nil {
		t.Fatal(err)
	}
	w.sync(engine.Full)
	if gg, ok := w.tenant.Group(g.ID); !ok || gg.Deleted.IsZero() {
		t.Errorf("a deleted Microsoft 365 group goes to deleted items (restorable 30 days): %+v", gg)
	}
}

// TestAFailedGroupIsRetriedWithoutAChange: a group Graph refuses (its
// mailNickname is taken) is recorded as failed and created on a later cycle
// once the conflict is gone, though its entry never changed.
func TestAFailedGroupIsRetriedWithoutAChange(t *testing.T) {
	w := newWorld(t, withLDIF(orgLDIF(4)+groupLDIF("Sales", userDN(1))), withSource(groupsScope),
		withChannel("    options: {groupType: microsoft365}\n"))
	squatter, err := w.tenant.AddGroup(faketenant.SeedGroup{Properties: map[string]any{
		"displayName": "Old sales", "mailNickname": "Sales", "mailEnabled": true, "securityEnabled": false, "groupTypes": []string{"Unified"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	res := w.sync(engine.Full)
	if res.Failed != 1 {
		t.Fatalf("failures = %v, want the group's creation refused", res.Failures)
	}
	if err := w.sys.Graph.DeleteGroup(w.ctx, squatter); err != nil {
		t.Fatal(err)
	}
	if err := w.sys.Graph.Purge(w.ctx, squatter); err != nil {
		t.Fatal(err)
	}
	w.clock.advance(2 * time.Minute)
	res = w.sync(engine.Incremental)
	if countOps(res, engine.OpCreateGroup) != 1 || res.Failed > 0 {
		t.Fatalf("retry plan %+v, failures %v", res.Plan.Ops, res.Failures)
	}
	if got := w.memberUPNs(w.mustGroup("Sales")); !slices.Equal(got, upns(1)) {
		t.Errorf("members = %v", got)
	}
}
