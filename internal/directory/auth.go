package directory

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/go-ldap/ldap/v3"
)

// Authenticate checks a user's password for single sign-on. It finds the
// one user in scope whose loginAttr (userPrincipalName, mail, uid, ...)
// equals login, binds as that entry with password on a connection of its
// own (never a pooled one), and returns the entry with attrs.
//
// An unknown login, a login matching several users, an empty password and
// a wrong password all return ErrInvalidCredentials, and an unknown login
// costs a bind too, so neither the error nor the time taken tells whether
// the user exists. A right password for an account the channel's status
// algorithm says is disabled returns ErrAccountDisabled. Any other error
// (the directory is down) is an error of its own, to be shown as "try
// later", never as a wrong password.
func (d *Directory) Authenticate(ctx context.Context, loginAttr, login, password string, attrs []string) (Entry, error) {
	if loginAttr == "" {
		return Entry{}, errors.New("authenticate: no login attribute")
	}
	if password == "" || strings.TrimSpace(login) == "" {
		// An empty password is an unauthenticated bind (RFC 4513 5.1.2),
		// which many servers accept: never try it.
		return Entry{}, ErrInvalidCredentials
	}
	sc, err := d.newScope(KindUser)
	if err != nil {
		return Entry{}, err
	}
	r := d.newReader(KindUser, attrs)
	var found []Entry
	err = d.withConn(ctx, func(s *session) error {
		found = found[:0]
		var st ReadStats
		if err := sc.checkGroup(s.c); err != nil {
			return err
		}
		q := query{
			base:   d.src.BaseDN,
			scope:  ldap.ScopeWholeSubtree,
			filter: sc.filter("(" + ldap.EscapeFilter(loginAttr) + "=" + ldap.EscapeFilter(login) + ")"),
			attrs:  r.attrs,
		}
		return d.search(ctx, s, q, &st, func(c *ldap.Conn, e *ldap.Entry) error {
			if sc.byGroup() && !sc.serverSide() {
				in, err := sc.contains(ctx, s, e.DN)
				if err != nil || !in {
					return err
				}
			}
			ent, prob, err := r.convert(ctx, c, e)
			if err != nil {
				return err
			}
			if prob != nil {
				d.log.Warn("login matches an entry that cannot be provisioned", "dn", prob.DN, "reason", prob.Reason)
				return nil
			}
			if len(found) < 2 {
				found = append(found, ent)
			}
			return nil
		})
	})
	if err != nil {
		return Entry{}, fmt.Errorf("authenticate: %w", err)
	}
	target := ""
	if len(found) == 1 {
		target = found[0].DN
	} else {
		if len(found) > 1 {
			d.log.Warn("login matches more than one user; refusing it", "attribute", loginAttr)
		}
		// Bind as a name that does not exist, so this path costs what a
		// wrong password costs.
		target = "cn=o365prov-no-such-user," + d.src.BaseDN
	}
	ok, err := d.checkPassword(ctx, target, password)
	if err != nil {
		return Entry{}, fmt.Errorf("authenticate: %w", err)
	}
	if !ok || len(found) != 1 {
		return Entry{}, ErrInvalidCredentials
	}
	if !found[0].Enabled {
		return Entry{}, ErrAccountDisabled
	}
	return found[0], nil
}

// checkPassword binds as dn on a new connection. ok is false for a
// refused bind (invalid credentials; AD also refuses disabled, expired and
// locked accounts this way).
func (d *Directory) checkPassword(ctx context.Context, dn, password string) (bool, error) {
	c, err := d.dialRetry(ctx, d.u, false)
	if err != nil {
		return false, err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	err = c.Bind(dn, password)
	switch {
	case err == nil:
		return true, nil
	case ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) && adBindStatus(err) != nil:
		return false, adBindStatus(err)
	case ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials),
		ldap.IsErrorWithCode(err, ldap.LDAPResultInappropriateAuthentication),
		ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidDNSyntax),
		ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject):
		return false, nil
	}
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	return false, fmt.Errorf("bind: %w", err)
}
