package fakeorg

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/o365prov/o365prov/internal/ldapserver"
	"github.com/o365prov/o365prov/internal/ldapserver/ldif"
)

// Random streams: each user draws from its own generator, seeded from the
// organisation's seed, the user's index and the stream, so that any user's
// attributes can be recomputed alone and in any order.
const (
	streamFacts = iota + 1
	streamDetails
	streamEntry
	streamGroups
)

// Rates of the generated population.
const (
	contractorRate = 0.03
	disabledRate   = 0.025
	fanOut         = 6
)

// person is what group membership needs to know about a user: cheap to
// compute, no formatting.
type person struct {
	i          int
	pos        position
	office     *office
	contractor bool
	disabled   bool
}

func (g *generator) rng(i int, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(g.opts.Seed, uint64(i)<<4|stream))
}

// name returns user i's names. Names are an affine permutation of all
// first x last combinations, so the first len(first)*len(last) users have
// distinct names and later ones get a number in their uid.
func (g *generator) name(i int) (first, last, uid string) {
	combos := len(g.t.first) * len(g.t.last)
	c := (g.nameA*uint64(i) + g.nameB) % uint64(combos)
	first = g.t.first[c/uint64(len(g.t.last))]
	last = g.t.last[c%uint64(len(g.t.last))]
	uid = strings.ToLower(g.t.fold.Replace(first) + "." + g.t.fold.Replace(last))
	if n := i / combos; n > 0 {
		uid += strconv.Itoa(n + 1)
	}
	return first, last, uid
}

func (g *generator) person(i int) person {
	p := person{i: i, pos: g.c.position(i)}
	r := g.rng(i, streamFacts)
	p.office = &g.t.offices[0] // the CEO and department heads sit at headquarters
	pick := r.IntN(g.t.officeTotal)
	worker := i > g.c.heads()
	if worker {
		for k := range g.t.offices {
			if pick < g.t.offices[k].weight {
				p.office = &g.t.offices[k]
				break
			}
			pick -= g.t.offices[k].weight
		}
	}
	isContractor := r.Float64() < contractorRate
	isDisabled := r.Float64() < disabledRate
	if worker && !g.c.hasReports(i) {
		p.contractor, p.disabled = isContractor, isDisabled
	}
	return p
}

func (g *generator) userDN(i int) string {
	_, _, uid := g.name(i)
	return "uid=" + uid + ",ou=people," + g.base
}

func (g *generator) title(p person, r *rand.Rand) string {
	switch {
	case p.pos.dept < 0:
		return "Chief Executive Officer"
	case p.pos.k == 0:
		return g.t.depts[p.pos.dept].head
	case g.c.hasReports(p.i) && g.c.level(p.i) == 2:
		return "Director, " + g.t.depts[p.pos.dept].name
	case g.c.hasReports(p.i):
		return g.t.depts[p.pos.dept].manager
	}
	roles := g.t.depts[p.pos.dept].roles
	return roles[r.IntN(len(roles))]
}

// licences returns the o365Sku values: E5 (ENTERPRISEPREMIUM) for leaders,
// IT and Legal, E3 (ENTERPRISEPACK) for the rest, E3 plus Entra ID P1
// (AAD_PREMIUM) in Research, none for contractors.
func (g *generator) licences(p person) (skus, disabledPlans []string) {
	if p.contractor {
		return nil, nil
	}
	dept := "Executive"
	if p.pos.dept >= 0 {
		dept = g.t.depts[p.pos.dept].name
	}
	leader := p.pos.dept < 0 || p.pos.k == 0 || g.c.level(p.i) == 2 && g.c.hasReports(p.i)
	switch {
	case leader || dept == "IT" || dept == "Legal":
		return []string{"ENTERPRISEPREMIUM"}, nil
	case dept == "Research":
		return []string{"ENTERPRISEPACK", "AAD_PREMIUM"}, nil
	case dept == "Customer Support":
		return []string{"ENTERPRISEPACK"}, []string{"SWAY"}
	default:
		return []string{"ENTERPRISEPACK"}, nil
	}
}

func phone(prefix string, r *rand.Rand) string {
	return fmt.Sprintf("%s %03d %04d", prefix, 200+r.IntN(800), r.IntN(10000))
}

// userRecord builds user i's entry.
func (g *generator) userRecord(p person, seq int) *ldif.Record {
	r := g.rng(p.i, streamDetails)
	dept, number := "Executive", "1000"
	if p.pos.dept >= 0 {
		dept, number = g.t.depts[p.pos.dept].name, g.t.depts[p.pos.dept].number
	}
	first, last, uid := g.name(p.i)
	cn := first + " " + last
	rec := &ldif.Record{DN: "uid=" + uid + ",ou=people," + g.base}
	add := func(name string, values ...string) {
		for _, v := range values {
			rec.Attrs = append(rec.Attrs, ldif.Attr{Name: name, Value: v})
		}
	}
	add("objectClass", "top", "person", "organizationalPerson", "inetOrgPerson", "o365provPerson")
	add("uid", uid)
	add("cn", cn)
	add("givenName", first)
	add("sn", last)
	add("displayName", cn)
	add("mail", uid+"@"+g.opts.Domain)
	add("title", g.title(p, r))
	add("ou", dept)
	add("departmentNumber", number)
	add("employeeNumber", strconv.Itoa(100000+p.i))
	if p.contractor {
		add("employeeType", "Contractor")
	} else {
		add("employeeType", "Employee")
	}
	add("telephoneNumber", phone(p.office.phone, r))
	add("mobile", phone(p.office.phone, r))
	add("street", fmt.Sprintf("%d %s", 1+r.IntN(400), p.office.streets[r.IntN(len(p.office.streets))]))
	add("l", p.office.city)
	add("st", p.office.state)
	add("postalCode", p.office.postal)
	add("c", p.office.country)
	add("preferredLanguage", p.office.lang)
	if m := g.c.manager(p.i); m >= 0 {
		add("manager", g.userDN(m))
	}
	skus, plans := g.licences(p)
	add("o365Sku", skus...)
	add("o365DisabledPlans", plans...)
	if p.disabled {
		add("nsAccountLock", "true")
	}
	add("userPassword", ldapserver.HashPassword(g.opts.UserPassword, salt(r)))
	g.operational(rec, g.rng(p.i, streamEntry), seq)
	return rec
}

func salt(r *rand.Rand) []byte {
	b := make([]byte, 8)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}
