package provision_test

import (
	"strings"
	"testing"
	"time"

	"github.com/o365prov/o365prov/internal/engine"
	"github.com/o365prov/o365prov/internal/faketenant"
	"github.com/o365prov/o365prov/internal/ldapserver"
)

// SKU and plan identifiers of graph.md §13.
const (
	e3SkuID    = "6fd2c87f-b296-42f0-b197-1e91e994b900"
	e5SkuID    = "c7df2760-2c81-4ef7-b578-5b5392b571df"
	swayPlanID = "a23b959c-7ce8-4e57-9140-b90eb88a9e97"
)

func licences(u faketenant.User) map[string][]string {
	out := map[string][]string{}
	for _, l := range u.Licenses {
		out[strings.ToLower(l.SkuID)] = l.DisabledPlans
	}
	return out
}

func TestLicences(t *testing.T) {
	if testing.Short() {
		t.Skip("heavy end to end: skipped with -short, run once by make e2e")
	}
	t.Run("a licence by name and a disabled plan by name", func(t *testing.T) {
		w := newWorld(t, withReplaced("skuId: '${o365Sku}'", "skuId: '${o365Sku}'\n        disabledPlans: 'SWAY'"))
		res := w.sync(engine.Full)
		if res.Failed > 0 {
			t.Fatal(res.Failures)
		}
		got := licences(w.mustUser(userUPN(3)))
		if plans, ok := got[e3SkuID]; !ok || len(plans) != 1 || plans[0] != swayPlanID {
			t.Errorf("licences = %v, want E3 without SWAY", got)
		}
	})
	t.Run("a licence by GUID", func(t *testing.T) {
		w := newWorld(t, withReplaced("skuId: '${o365Sku}'", "skuId: '"+e5SkuID+"'"))
		w.sync(engine.Full)
		if _, ok := licences(w.mustUser(userUPN(3)))[e5SkuID]; !ok {
			t.Errorf("licences = %v, want E5", licences(w.mustUser(userUPN(3))))
		}
	})
	t.Run("a changed licence is one call adding and removing", func(t *testing.T) {
		w := newWorld(t)
		w.sync(engine.Full)
		w.modify(userDN(3), ldapserver.Replace("o365Sku", "ENTERPRISEPREMIUM"))
		res := w.sync(engine.Incremental)
		if len(res.Plan.Ops) != 1 || res.Plan.Ops[0].Type != engine.OpAssignLicense {
			t.Fatalf("plan = %+v, want one assignLicense", res.Plan.Ops)
		}
		l := res.Plan.Ops[0].Licenses
		if len(l.Add) != 1 || l.Add[0].SkuID != e5SkuID || len(l.Remove) != 1 || l.Remove[0] != e3SkuID {
			t.Errorf("licence change = %+v", l)
		}
		got := licences(w.mustUser(userUPN(3)))
		if _, e5 := got[e5SkuID]; !e5 || len(got) != 1 {
			t.Errorf("licences = %v, want only E5", got)
		}
	})
	t.Run("an emptied skuId keeps licences unless removeLicensesWhenSkuEmpty", func(t *testing.T) {
		w := newWorld(t)
		w.sync(engine.Full)
		w.modify(userDN(3), ldapserver.Replace("o365Sku"))
		w.sync(engine.Incremental)
		if len(w.mustUser(userUPN(3)).Licenses) != 1 {
			t.Error("licence removed although removeLicensesWhenSkuEmpty is off")
		}
		w.reconfigure("    mapping:", "    options: {removeLicensesWhenSkuEmpty: true}\n    mapping:")
		w.modify(userDN(3), ldapserver.Replace("title", "touched"))
		w.sync(engine.Incremental)
		if n := len(w.mustUser(userUPN(3)).Licenses); n != 0 {
			t.Errorf("%d licences left with removeLicensesWhenSkuEmpty on", n)
		}
	})
	t.Run("no usageLocation is a clear problem, and the user is still created", func(t *testing.T) {
		w := newWorld(t)
		w.modify(userDN(3), ldapserver.Replace("c"))
		res := w.sync(engine.Full)
		if _, ok := w.user(userUPN(3)); !ok {
			t.Fatal("user not created")
		}
		if len(res.Plan.Problems) != 1 || !strings.Contains(res.Plan.Problems[0].Reason, "usageLocation") {
			t.Errorf("problems = %v", res.Plan.Problems)
		}
		if n := w.tenant.Counters().Count("POST", "/v1.0/users/{id}/assignLicense", 400); n != 0 {
			t.Errorf("%d assignLicense calls refused by Graph, want none (the engine must not try)", n)
		}
	})
	t.Run("no free units names the SKU, provisions the user and retries the licence", func(t *testing.T) {
		w := newWorld(t, withLDIF(strings.ReplaceAll(orgLDIF(8), "o365Sku: ENTERPRISEPACK", "o365Sku: ENTERPRISEPREMIUM")),
			withChannel("    options: {removeLicensesWhenSkuEmpty: true}\n"),
			withTenant(func(c *faketenant.Config) {
				for i := range c.SKUs {
					if c.SKUs[i].SkuPartNumber == "ENTERPRISEPREMIUM" {
						c.SKUs[i].Units = 7
					}
				}
			}))
		res := w.sync(engine.Full)
		if res.Failed != 1 || !strings.Contains(res.Failures[0].Err, "ENTERPRISEPREMIUM has no free units (7 of 7 in use)") {
			t.Fatalf("failures = %v", res.Failures)
		}
		unlicensed, licensed := -1, -1
		for i := 0; i < 8; i++ {
			if len(w.mustUser(userUPN(i)).Licenses) == 0 {
				unlicensed = i
			} else {
				licensed = i
			}
		}
		if unlicensed < 0 {
			t.Fatal("every user has a licence although units ran out")
		}
		// A unit frees up: someone no longer needs the licence.
		w.modify(userDN(licensed), ldapserver.Replace("o365Sku"))
		w.sync(engine.Incremental)
		w.clock.advance(2 * time.Minute)
		w.sync(engine.Incremental)
		if len(w.mustUser(userUPN(unlicensed)).Licenses) != 1 {
			t.Errorf("user %d still has no licence after a unit freed up", unlicensed)
		}
	})
}

func TestManagers(t *testing.T) {
	if testing.Short() {
		t.Skip("heavy end to end: skipped with -short, run once by make e2e")
	}
	t.Run("a five-level org chart is set in one cycle", func(t *testing.T) {
		ldif := orgLDIF(0)
		for i := 0; i < 5; i++ {
			ldif += userLDIF(i, i-1)
		}
		w := newWorld(t, withLDIF(ldif))
		res := w.sync(engine.Full)
		if n := countOps(res, engine.OpSetManager); n != 4 || res.Failed > 0 || len(res.Plan.Problems) > 0 {
			t.Fatalf("setManager %d, failures %v, problems %v", n, res.Failures, res.Plan.Problems)
		}
		for i := 1; i < 5; i++ {
			if got, want := w.mustUser(userUPN(i)).Manager, w.mustUser(userUPN(i-1)).ID; got != want {
				t.Errorf("user %d manager %s, want %s", i, got, want)
			}
		}
		if !w.sync(engine.Full).Plan.Empty() {
			t.Error("a second cycle is not empty")
		}
	})
	t.Run("a manager provisioned after the employee is set when it arrives", func(t *testing.T) {
		ldif := orgLDIF(0) + userLDIF(1, 0)
		w := newWorld(t, withLDIF(ldif))
		res := w.sync(engine.Full)
		if len(res.Plan.Problems) != 1 || !strings.Contains(res.Plan.Problems[0].Reason, "not provisioned (yet)") {
			t.Fatalf("problems = %v", res.Plan.Problems)
		}
		entry := ldapEntry(userLDIF(0, -1))
		if err := w.ldap.Add(userDN(0), entry); err != nil {
			t.Fatal(err)
		}
		w.sync(engine.Incremental) // the manager arrives
		w.clock.advance(2 * time.Minute)
		w.sync(engine.Incremental) // the waiting reference is retried
		if got, want := w.mustUser(userUPN(1)).Manager, w.mustUser(userUPN(0)).ID; got != want {
			t.Errorf("manager %q, want %q", got, want)
		}
	})
	t.Run("a manager change and a manager cleared", func(t *testing.T) {
		w := newWorld(t)
		w.sync(engine.Full)
		w.modify(userDN(5), ldapserver.Replace("manager", userDN(2)))
		w.modify(userDN(6), ldapserver.Replace("manager"))
		res := w.sync(engine.Incremental)
		if countOps(res, engine.OpSetManager) != 1 || countOps(res, engine.OpRemoveManager) != 1 || len(res.Plan.Ops) != 2 {
			t.Fatalf("plan = %+v", res.Plan.Ops)
		}
		if got, want := w.mustUser(userUPN(5)).Manager, w.mustUser(userUPN(2)).ID; got != want {
			t.Errorf("changed manager %q, want %q", got, want)
		}
		if m := w.mustUser(userUPN(6)).Manager; m != "" {
			t.Errorf("cleared manager still %q", m)
		}
	})
	t.Run("a manager cycle and a self-manager are per-object errors", func(t *testing.T) {
		ldif := orgLDIF(0) + userLDIF(0, 1) + userLDIF(1, 0) + userLDIF(2, 2) + userLDIF(3, 0)
		w := newWorld(t, withLDIF(ldif))
		res := w.sync(engine.Full)
		reasons := map[string]string{}
		for _, p := range res.Plan.Problems {
			reasons[p.DN] = p.Reason
		}
		if !strings.Contains(reasons[userDN(2)], "their own manager") {
			t.Errorf("self-manager: %q", reasons[userDN(2)])
		}
		if !strings.Contains(reasons[userDN(0)], "comes back") || !strings.Contains(reasons[userDN(1)], "comes back") {
			t.Errorf("cycle: %v", reasons)
		}
		if got, want := w.mustUser(userUPN(3)).Manager, w.mustUser(userUPN(0)).ID; got != want {
			t.Errorf("a user outside the cycle did not get their manager: %q, want %q", got, want)
		}
	})
}

func TestManagersByAnotherKeyThanTheDN(t *testing.T) {
	// PingFederate lets pingSourceDN be any unique attribute, and manager
	// the manager's value of it: here employee numbers.
	person := func(i int, manager string) string {
		s := strings.Replace(userLDIF(i, -1), "title: Engineer\n", "title: Engineer\nemployeeNumber: E"+itoa(i)+"\n", 1)
		if manager != "" {
			s = strings.TrimSuffix(s, "\n") + "managerNumber: " + manager + "\n\n"
		}
		return s
	}
	w := newWorld(t, withLDIF(orgLDIF(0)+person(0, "")+person(1, "E0")),
		withReplaced("skuId: '${o365Sku}'", "skuId: ''\n        pingSourceDN: '${employeeNumber}'\n        manager: '${managerNumber}'"))
	w.sync(engine.Full)
	if got, want := w.mustUser(userUPN(1)).Manager, w.mustUser(userUPN(0)).ID; got != want {
		t.Fatalf("manager found in the same cycle: %q, want %q", got, want)
	}
	t.Run("a later employee finds a manager provisioned in an earlier cycle", func(t *testing.T) {
		if err := w.ldap.Add(userDN(2), ldapEntry(person(2, "E0"))); err != nil {
			t.Fatal(err)
		}
		res := w.sync(engine.Incremental)
		if got, want := w.mustUser(userUPN(2)).Manager, w.mustUser(userUPN(0)).ID; got != want {
			t.Errorf("manager %q, want %q (problems %v)", got, want, res.Plan.Problems)
		}
	})
}

// ldapEntry turns one LDIF record (without its dn line) into attributes.
func ldapEntry(record string) map[string][]string {
	attrs := map[string][]string{}
	for _, line := range strings.Split(record, "\n") {
		k, v, ok := strings.Cut(line, ": ")
		if !ok || k == "dn" {
			continue
		}
		attrs[k] = append(attrs[k], v)
	}
	return attrs
}
