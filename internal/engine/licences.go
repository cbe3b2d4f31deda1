package engine

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// skuCatalog resolves licence and plan names through subscribedSkus, read
// once per cycle and again when a name is not found (a SKU bought since).
type skuCatalog struct {
	target    Target
	loaded    bool
	refreshed bool
	byID      map[string]*SKU
	byName    map[string]*SKU
}

func (c *skuCatalog) load(ctx context.Context) error {
	skus, err := c.target.SKUs(ctx)
	if err != nil {
		return fmt.Errorf("read subscribed SKUs: %w", err)
	}
	c.byID, c.byName = map[string]*SKU{}, map[string]*SKU{}
	for i := range skus {
		s := &skus[i]
		c.byID[strings.ToLower(s.SkuID)] = s
		c.byName[strings.ToLower(s.SkuPartNumber)] = s
	}
	c.loaded = true
	return nil
}

// sku finds a SKU by GUID or skuPartNumber.
func (c *skuCatalog) sku(ctx context.Context, v string) (*SKU, error) {
	key := strings.ToLower(strings.TrimSpace(v))
	for {
		if !c.loaded {
			if err := c.load(ctx); err != nil {
				return nil, err
			}
		}
		if s := c.byID[key]; s != nil {
			return s, nil
		}
		if s := c.byName[key]; s != nil {
			return s, nil
		}
		if c.refreshed {
			return nil, nil
		}
		c.refreshed, c.loaded = true, false
	}
}

// resolve turns mapped skuId and disabledPlans values (GUIDs or names) into
// assignments. A disabled plan applies to every assigned SKU that has it.
// Names that resolve to nothing are returned as a problem.
func (c *skuCatalog) resolve(ctx context.Context, skuValues, planValues []string) ([]Assignment, map[string]string, string, error) {
	names := map[string]string{}
	var out []Assignment
	var unknown []string
	var skus []*SKU
	for _, v := range skuValues {
		s, err := c.sku(ctx, v)
		if err != nil {
			return nil, nil, "", err
		}
		if s == nil {
			unknown = append(unknown, "licence "+v)
			continue
		}
		skus = append(skus, s)
		names[s.SkuID] = s.SkuPartNumber
	}
	used := map[string]bool{}
	for _, s := range skus {
		a := Assignment{SkuID: s.SkuID, DisabledPlans: []string{}}
		for _, pv := range planValues {
			id, name := planID(s, pv)
			if id != "" {
				a.DisabledPlans = append(a.DisabledPlans, id)
				names[id] = name
				used[pv] = true
			}
		}
		sort.Strings(a.DisabledPlans)
		out = append(out, a)
	}
	for _, pv := range planValues {
		if !used[pv] && len(skus) > 0 {
			unknown = append(unknown, "service plan "+pv+" (in none of the assigned licences)")
		}
	}
	problem := ""
	if len(unknown) > 0 {
		problem = "not in the tenant's subscriptions: " + strings.Join(unknown, ", ")
	}
	return sortAssignments(out), names, problem, nil
}

// planID finds a service plan of a SKU by id or name.
func planID(s *SKU, v string) (id, name string) {
	v = strings.TrimSpace(v)
	for n, pid := range s.Plans {
		if strings.EqualFold(pid, v) || strings.EqualFold(n, v) {
			return pid, n
		}
	}
	return "", ""
}

func sortAssignments(as []Assignment) []Assignment {
	out := make([]Assignment, len(as))
	for i, a := range as {
		plans := append([]string{}, a.DisabledPlans...)
		sort.Strings(plans)
		out[i] = Assignment{SkuID: strings.ToLower(a.SkuID), DisabledPlans: plans}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].SkuID < out[j].SkuID })
	return out
}

// licenceDiff is one assignLicense call's worth: assignments to add or
// change, and SKUs to remove.
func licenceDiff(desired, applied []Assignment) (add []Assignment, remove []string) {
	have := map[string]string{}
	for _, a := range applied {
		have[a.SkuID] = canon(a.DisabledPlans)
	}
	want := map[string]bool{}
	for _, a := range desired {
		want[a.SkuID] = true
		if enc, ok := have[a.SkuID]; !ok || enc != canon(a.DisabledPlans) {
			add = append(add, a)
		}
	}
	for _, a := range applied {
		if !want[a.SkuID] {
			remove = append(remove, a.SkuID)
		}
	}
	return add, remove
}

// planLicences adds the assignLicense a user needs, after the operation
// (create, link, update) that last touched it.
func (p *planner) planLicences(ctx context.Context, su *sourceUser, applied map[string]string, after int) error {
	var current []Assignment
	if enc := applied[keyLicenses]; enc != "" {
		if err := decodeJSON(enc, &current); err != nil {
			return fmt.Errorf("state of %s: licences: %w", su.entry.DN, err)
		}
	}
	skuValues := su.desired.List("skuId")
	var desired []Assignment
	names := map[string]string{}
	switch {
	case len(skuValues) > 0:
		var problem string
		var err error
		desired, names, problem, err = p.skus.resolve(ctx, skuValues, su.desired.List("disabledPlans"))
		if err != nil {
			return err
		}
		if problem != "" {
			p.b.problem(KindUser, su.entry.GUID, su.entry.DN, "%s", problem)
			if len(desired) == 0 {
				return nil
			}
		}
	case !p.ch.Options.RemoveLicensesWhenSkuEmpty:
		return nil
	}
	add, remove := licenceDiff(desired, current)
	if len(add) == 0 && len(remove) == 0 {
		return nil
	}
	if len(add) > 0 && su.desired.String("usageLocation") == "" && applied["usageLocation"] == "" {
		p.b.problem(KindUser, su.entry.GUID, su.entry.DN,
			"licences need a usageLocation and none is mapped for this user (map usageLocation to a two-letter country code, e.g. usageLocation: US)")
		return nil
	}
	for _, id := range remove {
		if s := p.skus.byID[id]; s != nil {
			names[id] = s.SkuPartNumber
		}
	}
	reason := "licences changed in the directory"
	if len(desired) == 0 {
		reason = "skuId is empty and removeLicensesWhenSkuEmpty is on"
	}
	p.b.add(Op{
		Type: OpAssignLicense, Kind: KindUser, GUID: su.entry.GUID, DN: su.entry.DN, Name: upnOf(su),
		Licenses:  &LicenseChange{Add: add, Remove: remove, Names: names},
		Record:    map[string]string{keyLicenses: canonOrEmpty(desired)},
		DependsOn: ids(after), Reason: reason,
	})
	return nil
}

func canonOrEmpty(as []Assignment) string {
	if len(as) == 0 {
		return ""
	}
	return canon(as)
}

func ids(id ...int) []int {
	var out []int
	for _, i := range id {
		if i > 0 {
			out = append(out, i)
		}
	}
	return out
}
