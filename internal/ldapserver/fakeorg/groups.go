package fakeorg

import (
	"fmt"
	"slices"

	"github.com/o365prov/o365prov/internal/ldapserver/ldif"
)

// projectRate is the share of people in each project group.
const projectRate = 0.04

// groupSpec describes one group; its user members are found by testing
// every user, so that nothing is held per user.
type groupSpec struct {
	cn, desc string
	owner    int      // user index, or -1
	groups   []string // cn of member groups, for the nested group
	isMember func(p person) bool
}

// groups lists the groups in file order: a group per department, then
// leadership, managers, a nested group, an almost empty group, an office,
// contractors, a group whose name needs DN escaping, then projects.
func (g *generator) groups() []groupSpec {
	var specs []groupSpec
	for d, dept := range g.t.depts {
		owner := -1
		if d+1 < g.opts.Users {
			owner = d + 1
		}
		specs = append(specs, groupSpec{
			cn: dept.name, desc: "Everyone in " + dept.name, owner: owner,
			isMember: func(p person) bool { return p.pos.dept == d },
		})
	}
	specs = append(specs,
		groupSpec{cn: "Leadership", desc: "The CEO and the heads of department", owner: 0,
			isMember: func(p person) bool { return p.i <= g.c.heads() }},
		groupSpec{cn: "All Managers", desc: "Everyone with direct reports", owner: 0,
			isMember: func(p person) bool { return g.c.hasReports(p.i) }},
		groupSpec{cn: "Product & Engineering", desc: "Nested: the Engineering and Product groups, and the CEO", owner: 0,
			groups: []string{"Engineering", "Product"}, isMember: func(p person) bool { return p.i == 0 }},
		groupSpec{cn: "Alumni", desc: "Almost empty: groupOfNames needs a member, so it holds the empty DN", owner: -1,
			isMember: func(person) bool { return false }},
		groupSpec{cn: "London Office", desc: "Everyone based in London", owner: -1,
			isMember: func(p person) bool { return p.office.city == "London" }},
		groupSpec{cn: "Contractors", desc: "Contractors: no Microsoft 365 licence", owner: -1,
			isMember: func(p person) bool { return p.contractor }},
		groupSpec{cn: "Sales, EMEA", desc: "Sales in Europe; the comma in the name is escaped in DNs", owner: -1,
			isMember: func(p person) bool {
				return p.pos.dept == 1 && slices.Contains([]string{"GB", "DE", "FR", "NL"}, p.office.country)
			}},
	)
	for n := 0; len(specs) < g.opts.Groups; n++ {
		name := g.t.projects[n%len(g.t.projects)]
		if round := n / len(g.t.projects); round > 0 {
			name = fmt.Sprintf("%s %d", name, round+1)
		}
		gi := uint64(n)
		specs = append(specs, groupSpec{cn: "Project " + name, desc: "Project " + name + " team", owner: -1,
			isMember: func(p person) bool { return g.chance(p.i, gi) < projectRate }})
	}
	if len(specs) > g.opts.Groups {
		specs = specs[:g.opts.Groups]
	}
	return g.keepResolvable(specs)
}

// keepResolvable drops nested references to groups that were cut off by a
// small --groups.
func (g *generator) keepResolvable(specs []groupSpec) []groupSpec {
	have := make(map[string]bool, len(specs))
	for _, s := range specs {
		have[s.cn] = true
	}
	for i := range specs {
		specs[i].groups = slices.DeleteFunc(specs[i].groups, func(cn string) bool { return !have[cn] })
	}
	return specs
}

// chance is a uniform number in [0, 1) for user i and project n.
func (g *generator) chance(i int, n uint64) float64 {
	x := g.opts.Seed ^ uint64(i)*0x9e3779b97f4a7c15 ^ (n+1)*0xbf58476d1ce4e5b9
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return float64(x>>11) / (1 << 53)
}

func (g *generator) groupDN(cn string) string {
	return "cn=" + escapeRDN(cn) + ",ou=groups," + g.base
}

// escapeRDN escapes what an RDN value needs; group names are plain text.
func escapeRDN(v string) string {
	out := make([]byte, 0, len(v))
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case ',', '+', '"', '\\', '<', '>', ';', '=':
			out = append(out, '\\', c)
		default:
			out = append(out, c)
		}
	}
	return string(out)
}

func (g *generator) groupRecord(spec groupSpec, seq int) *ldif.Record {
	rec := record(g.groupDN(spec.cn), "objectClass", "top", "objectClass", "groupOfNames",
		"cn", spec.cn, "description", spec.desc)
	if spec.owner >= 0 {
		rec.Attrs = append(rec.Attrs, ldif.Attr{Name: "owner", Value: g.userDN(spec.owner)})
	}
	members := 0
	for _, cn := range spec.groups {
		rec.Attrs = append(rec.Attrs, ldif.Attr{Name: "member", Value: g.groupDN(cn)})
		members++
	}
	for i := range g.opts.Users {
		if spec.isMember(g.person(i)) {
			rec.Attrs = append(rec.Attrs, ldif.Attr{Name: "member", Value: g.userDN(i)})
			members++
		}
	}
	if members == 0 {
		// groupOfNames must have a member; the empty DN is the usual
		// placeholder, and a client must not take it for a user.
		rec.Attrs = append(rec.Attrs, ldif.Attr{Name: "member", Value: ""})
	}
	g.operational(rec, g.rng(-seq, streamGroups), seq)
	return rec
}
