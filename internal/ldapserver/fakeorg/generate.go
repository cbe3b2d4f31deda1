// Package fakeorg generates a fictional organisation as LDIF: people in
// departments with an org chart, locations, licences and a few disabled
// accounts, and groups including a nested and an almost empty one. The
// output depends only on the options, so a seed always gives the same file;
// examples/contoso.ldif is its output for Contoso().
package fakeorg

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/o365prov/o365prov/internal/ldapserver"
	"github.com/o365prov/o365prov/internal/ldapserver/ldif"
)

// Documented demo passwords. They protect nothing: the data is fictional.
const (
	// UserPassword is every generated user's password.
	UserPassword = "Contoso-Demo-2026!"
	// ServicePassword is the password of the service account
	// cn=o365prov,ou=services,<base>, which o365prov binds as.
	ServicePassword = "o365prov-Service-2026!"
)

// MaxUsers bounds --users; the generator streams, this only keeps typing
// mistakes from filling a disk.
const MaxUsers = 1_000_000

// Options describe the organisation.
type Options struct {
	Users  int
	Groups int
	Seed   uint64
	// Domain is the mail domain; the base DN is made of its labels
	// (contoso.com gives dc=contoso,dc=com).
	Domain string
	// UserPassword and ServicePassword default to the documented ones.
	UserPassword    string
	ServicePassword string
	// Time is written as every entry's createTimestamp and modifyTimestamp
	// and in its entryCSN; fixed so that the output is reproducible.
	Time time.Time
}

// Contoso returns the options of the shipped examples/contoso.ldif.
func Contoso() Options {
	return Options{Users: 200, Groups: 20, Seed: 1, Domain: "contoso.com"}
}

// BaseDN returns the base DN for a mail domain.
func BaseDN(domain string) string {
	labels := strings.Split(domain, ".")
	for i, l := range labels {
		labels[i] = "dc=" + l
	}
	return strings.Join(labels, ",")
}

var domainRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$`)

func (o *Options) validate() error {
	if o.Users < 1 || o.Users > MaxUsers {
		return fmt.Errorf("users %d: want 1 to %d", o.Users, MaxUsers)
	}
	if o.Groups < 0 {
		return fmt.Errorf("groups %d: want 0 or more", o.Groups)
	}
	if !domainRE.MatchString(o.Domain) {
		return fmt.Errorf("domain %q: want a lower-case DNS name with at least two labels, such as contoso.com", o.Domain)
	}
	if o.UserPassword == "" {
		o.UserPassword = UserPassword
	}
	if o.ServicePassword == "" {
		o.ServicePassword = ServicePassword
	}
	if o.Time.IsZero() {
		o.Time = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return nil
}

type generator struct {
	opts  Options
	t     *tables
	c     *chart
	base  string
	org   string
	nameA uint64
	nameB uint64
}

// Generate writes the organisation to w as LDIF, one entry at a time.
func Generate(ctx context.Context, w io.Writer, opts Options) error {
	if err := opts.validate(); err != nil {
		return fmt.Errorf("fakeorg: %w", err)
	}
	g := newGenerator(opts)
	lw := ldif.NewWriter(w)
	if err := lw.Comment(g.header()); err != nil {
		return err
	}
	seq := 0
	for _, rec := range g.skeleton(&seq) {
		if err := lw.Write(rec); err != nil {
			return err
		}
	}
	for i := range opts.Users {
		if i%1000 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		seq++
		if err := lw.Write(g.userRecord(g.person(i), seq)); err != nil {
			return fmt.Errorf("fakeorg: user %d: %w", i, err)
		}
	}
	for _, spec := range g.groups() {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		seq++
		if err := lw.Write(g.groupRecord(spec, seq)); err != nil {
			return fmt.Errorf("fakeorg: group %s: %w", spec.cn, err)
		}
	}
	if err := lw.Flush(); err != nil {
		return fmt.Errorf("fakeorg: %w", err)
	}
	return nil
}

func newGenerator(opts Options) *generator {
	t := newTables()
	g := &generator{opts: opts, t: t, c: newChart(opts.Users, fanOut, t.depts), base: BaseDN(opts.Domain)}
	label := strings.Split(opts.Domain, ".")[0]
	g.org = strings.ToUpper(label[:1]) + label[1:]
	r := rand.New(rand.NewPCG(opts.Seed, 0))
	combos := uint64(len(t.first) * len(t.last))
	for {
		// An affine map a*i+b mod combos is a permutation when a is
		// coprime with combos.
		g.nameA = 1 + r.Uint64N(combos-1)
		if gcd(g.nameA, combos) == 1 {
			break
		}
	}
	g.nameB = r.Uint64N(combos)
	return g
}

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// skeleton returns the base entry, the organisational units and the
// service account.
func (g *generator) skeleton(seq *int) []*ldif.Record {
	dc := strings.Split(g.opts.Domain, ".")[0]
	recs := []*ldif.Record{
		record(g.base, "objectClass", "top", "objectClass", "dcObject", "objectClass", "organization",
			"dc", dc, "o", g.org),
		record("ou=people,"+g.base, "objectClass", "top", "objectClass", "organizationalUnit",
			"ou", "people", "description", "Everyone who works at "+g.org),
		record("ou=groups,"+g.base, "objectClass", "top", "objectClass", "organizationalUnit",
			"ou", "groups", "description", "Departments, offices and projects"),
		record("ou=services,"+g.base, "objectClass", "top", "objectClass", "organizationalUnit",
			"ou", "services", "description", "Accounts that applications bind as"),
		record("cn=o365prov,ou=services,"+g.base, "objectClass", "top", "objectClass", "organizationalRole",
			"objectClass", "simpleSecurityObject", "cn", "o365prov",
			"description", "o365prov reads the directory as this account",
			"userPassword", ldapserver.HashPassword(g.opts.ServicePassword, salt(g.rng(-1, streamEntry)))),
	}
	for _, rec := range recs {
		*seq++
		g.operational(rec, g.rng(-*seq, streamEntry), *seq)
	}
	return recs
}

func record(dn string, pairs ...string) *ldif.Record {
	rec := &ldif.Record{DN: dn}
	for i := 0; i+1 < len(pairs); i += 2 {
		rec.Attrs = append(rec.Attrs, ldif.Attr{Name: pairs[i], Value: pairs[i+1]})
	}
	return rec
}

// operational appends entryUUID, timestamps and an entryCSN that orders
// entries as the file does, so that loading keeps them.
func (g *generator) operational(rec *ldif.Record, r *rand.Rand, seq int) {
	var id uuid.UUID
	for i := range id {
		id[i] = byte(r.Uint32())
	}
	id[6] = id[6]&0x0f | 0x40 // version 4
	id[8] = id[8]&0x3f | 0x80 // RFC 4122 variant
	t := g.opts.Time.Add(time.Duration(seq) * time.Microsecond).UTC()
	ts := t.Format("20060102150405Z")
	rec.Attrs = append(rec.Attrs,
		ldif.Attr{Name: "entryUUID", Value: id.String()},
		ldif.Attr{Name: "createTimestamp", Value: ts},
		ldif.Attr{Name: "modifyTimestamp", Value: ts},
		ldif.Attr{Name: "entryCSN", Value: t.Format("20060102150405.000000") + "Z#000000#000#000000"},
	)
}
