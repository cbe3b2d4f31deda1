package ldapserver

import (
	"fmt"
)

// writer returns the bound DN if the connection may write; only the
// configured administrator may.
func (c *conn) writer(req *request) (string, bool) {
	dn, admin := c.state()
	if !admin {
		who := "anonymous users"
		if dn != "" {
			who = dn
		}
		c.reply(req, InsufficientAccessRights, "", fmt.Sprintf("%s may not write: only the administrator may", who))
		return "", false
	}
	return dn, true
}

// write runs op on the store under its write lock and answers req.
func (c *conn) write(req *request, what, target string, op func(s *store) error) {
	st := c.srv.store
	st.mu.Lock()
	err := op(st)
	st.mu.Unlock()
	if err != nil {
		c.log.Debug("ldap "+what+" refused", "dn", target, "err", err)
		c.replyErr(req, err)
		return
	}
	c.log.Debug("ldap "+what, "dn", target)
	c.reply(req, Success, "", "")
}

func (c *conn) handleAdd(req *request) {
	who, ok := c.writer(req)
	if !ok {
		return
	}
	dn, attrs, err := decodeAdd(req.body)
	if err != nil {
		c.replyErr(req, err)
		return
	}
	c.write(req, "add", dn, func(s *store) error { return s.add(who, dn, attrs, false) })
}

func (c *conn) handleModify(req *request) {
	who, ok := c.writer(req)
	if !ok {
		return
	}
	dn, changes, err := decodeModify(req.body)
	if err != nil {
		c.replyErr(req, err)
		return
	}
	c.write(req, "modify", dn, func(s *store) error { return s.modify(who, dn, changes) })
}

func (c *conn) handleDelete(req *request) {
	who, ok := c.writer(req)
	if !ok {
		return
	}
	dn := req.body.Data.String()
	c.write(req, "delete", dn, func(s *store) error { return s.delete(who, dn) })
}

func (c *conn) handleModifyDN(req *request) {
	who, ok := c.writer(req)
	if !ok {
		return
	}
	m, err := decodeModifyDN(req.body)
	if err != nil {
		c.replyErr(req, err)
		return
	}
	c.write(req, "modrdn", m.dn, func(s *store) error {
		return s.modifyDN(who, m.dn, m.newRDN, m.deleteOld, m.superior)
	})
}

// handleCompare answers compareTrue or compareFalse (RFC 4511 §4.10).
func (c *conn) handleCompare(req *request) {
	bound, admin := c.state()
	if bound == "" && !c.srv.opts.AllowAnonymousRead {
		c.reply(req, InsufficientAccessRights, "", "bind first")
		return
	}
	d, f, err := decodeCompare(req.body)
	if err != nil {
		c.replyErr(req, err)
		return
	}
	st := c.srv.store
	st.mu.RLock()
	e, err := st.lookup(d)
	var r tri
	var present bool
	if err == nil {
		v := view{s: st, admin: admin}
		vals, _ := v.attr(e, f.typ)
		present = len(vals) > 0
		r = v.match(f, e)
	}
	st.mu.RUnlock()
	switch {
	case err != nil:
		c.replyErr(req, err)
	case !present:
		c.reply(req, NoSuchAttribute, "", fmt.Sprintf("%s has no attribute %s", d, f.desc))
	case r == isTrue:
		c.reply(req, CompareTrue, "", "")
	case r == isFalse:
		c.reply(req, CompareFalse, "", "")
	default:
		c.reply(req, InvalidAttributeSyntax, "", fmt.Sprintf("the asserted value is not valid for %s", f.desc))
	}
}
