package directory

import (
	"context"
	"fmt"

	"github.com/go-ldap/ldap/v3"
)

// Users streams every user in scope to fn, page by page. attrs are the
// attributes the mapping needs (nil: every user attribute); the GUID,
// account-status attribute is added. An entry without a usable GUID or
// with an unreadable status is skipped and reported (ReadStats,
// WithProblemHandler). A nil error means the read was complete: any
// search failure, size or time limit, timeout, dropped connection or
// referral loop returns an error, and so does an error from fn.
func (d *Directory) Users(ctx context.Context, attrs []string, fn func(Entry) error) (ReadStats, error) {
	return d.read(ctx, KindUser, attrs, fn)
}

// Groups streams every group in scope, with its members (Entry.Members,
// ranged reads done), as Users does. It returns ErrNotConfigured when the
// source has no groups location.
func (d *Directory) Groups(ctx context.Context, attrs []string, fn func(Entry) error) (ReadStats, error) {
	return d.read(ctx, KindGroup, attrs, fn)
}

func (d *Directory) read(ctx context.Context, kind Kind, attrs []string, fn func(Entry) error) (ReadStats, error) {
	start := d.opts.now()
	st, err := d.scan(ctx, kind, d.newReader(kind, attrs), fn)
	st.Duration = d.opts.now().Sub(start)
	if err != nil {
		return st, fmt.Errorf("read %ss: %w", kind, err)
	}
	return st, nil
}

// Enumerate lists the GUID and DN of every user or group in scope, asking
// for the GUID attribute alone: the cheap full read that finds deletions
// (an entry absent here is gone from scope). It returns an error unless
// every page came back; entries without a usable GUID are skipped and go
// to WithProblemHandler.
func (d *Directory) Enumerate(ctx context.Context, kind Kind, fn func(guid, dn string) error) error {
	_, err := d.scan(ctx, kind, d.guidReader(kind), func(e Entry) error { return fn(e.GUID, e.DN) })
	if err != nil {
		return fmt.Errorf("enumerate %ss: %w", kind, err)
	}
	return nil
}

// scan streams every entry of kind in scope through r: a paged search of the
// scope's filter under the base DN, restricted to the scope group's members
// when it has one. Entries r cannot use are counted and reported, not
// delivered.
func (d *Directory) scan(ctx context.Context, kind Kind, r *reader, fn func(Entry) error) (ReadStats, error) {
	var st ReadStats
	sc, err := d.newScope(kind)
	if err != nil {
		return st, err
	}
	err = d.withConn(ctx, func(s *session) error {
		st = ReadStats{}
		in, err := sc.prepareFull(ctx, s, &st)
		if err != nil {
			return err
		}
		q := query{base: d.src.BaseDN, scope: ldap.ScopeWholeSubtree, filter: sc.filter(), attrs: r.attrs}
		return d.search(ctx, s, q, &st, func(c *ldap.Conn, e *ldap.Entry) error {
			if in != nil && !in(e.DN) {
				return nil
			}
			ent, prob, err := r.convert(ctx, c, e)
			if err != nil {
				return err
			}
			s.delivered = true
			if prob != nil {
				st.problem(*prob, d.opts.problems)
				return nil
			}
			st.Entries++
			return fn(ent)
		})
	})
	return st, err
}

// Lookup reads one entry by DN, with the same attributes and checks as
// Users or Groups. It returns ErrNotFound when there is no such entry and
// ErrNotInScope when the entry exists but the channel does not provision
// it; a per-entry problem (no GUID) is returned as an error.
func (d *Directory) Lookup(ctx context.Context, kind Kind, dn string, attrs []string) (Entry, error) {
	sc, err := d.newScope(kind)
	if err != nil {
		return Entry{}, err
	}
	r := d.newReader(kind, attrs)
	var out Entry
	err = d.withConn(ctx, func(s *session) error {
		if !dnWithin(dn, d.src.BaseDN) {
			if e, err := d.baseEntry(s.c, dn, "(objectClass=*)", []string{"1.1"}); err != nil {
				return err
			} else if e == nil {
				return ErrNotFound
			}
			return ErrNotInScope
		}
		e, err := d.baseEntry(s.c, dn, sc.loc.Filter, r.attrs)
		if err != nil {
			return err
		}
		if e == nil {
			if e, err := d.baseEntry(s.c, dn, "(objectClass=*)", []string{"1.1"}); err != nil {
				return err
			} else if e == nil {
				return ErrNotFound
			}
			return ErrNotInScope
		}
		if err := sc.checkGroup(s.c); err != nil {
			return err
		}
		in, err := sc.contains(ctx, s, e.DN)
		if err != nil {
			return err
		}
		if !in {
			return ErrNotInScope
		}
		ent, prob, err := r.convert(ctx, s.c, e)
		if err != nil {
			return err
		}
		if prob != nil {
			return fmt.Errorf("%s", prob.String())
		}
		out = ent
		return nil
	})
	if err != nil {
		return Entry{}, fmt.Errorf("look up %s %s: %w", kind, dn, err)
	}
	return out, nil
}
