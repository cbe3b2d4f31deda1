package ldapserver

import (
	"bufio"
	"crypto/subtle"
	"crypto/tls"
	"net"
	"strings"
)

// OIDs of the controls and extended operations the server implements.
const (
	oidPaging      = "1.2.840.113556.1.4.319"
	oidManageDsaIT = "2.16.840.1.113730.3.4.2"
	oidStartTLS    = "1.3.6.1.4.1.1466.20037"
	oidWhoAmI      = "1.3.6.1.4.1.4203.1.11.3"
)

// handleBind implements simple bind (RFC 4513 §5.1). Whatever the outcome
// the connection is first made anonymous, as a failed bind must leave it.
func (c *conn) handleBind(req *request) {
	c.setBind("", false)
	version, err := num(req.body, 0)
	if err != nil {
		c.replyErr(req, err)
		return
	}
	if version != 3 {
		c.reply(req, ProtocolError, "", "only LDAP version 3 is supported")
		return
	}
	name, err := str(req.body, 1)
	if err != nil {
		c.replyErr(req, err)
		return
	}
	auth, err := child(req.body, 2)
	if err != nil {
		c.replyErr(req, err)
		return
	}
	if auth.Tag != 0 {
		c.reply(req, AuthMethodNotSupported, "", "only simple bind is supported")
		return
	}
	dn, admin, err := c.srv.authenticate(name, auth.Data.String())
	if err != nil {
		c.log.Info("ldap bind refused", "dn", name, "err", err)
		c.replyErr(req, err)
		return
	}
	c.setBind(dn, admin)
	c.log.Debug("ldap bind", "dn", dn, "admin", admin)
	c.reply(req, Success, "", "")
}

// authenticate checks a simple bind and returns the bound DN ("" for
// anonymous) and whether it is the administrator. Every failure that could
// tell an attacker whether an entry exists is the same invalidCredentials.
func (s *Server) authenticate(name, password string) (string, bool, error) {
	switch {
	case name == "" && password == "":
		return "", false, nil
	case name == "":
		return "", false, errorf(InvalidCredentials, "a password without a DN is not a valid bind")
	case password == "":
		// RFC 4513 §5.1.2: an unauthenticated bind must not grant access.
		return "", false, errorf(UnwillingToPerform, "unauthenticated bind (DN with an empty password) is not allowed")
	}
	d, err := parseDN(name)
	if err != nil {
		return "", false, err
	}
	if s.adminNDN != "" && d.norm() == s.adminNDN {
		if subtle.ConstantTimeCompare([]byte(password), []byte(s.opts.AdminPassword)) != 1 {
			return "", false, errorf(InvalidCredentials, "invalid credentials")
		}
		return d.String(), true, nil
	}
	s.store.mu.RLock()
	defer s.store.mu.RUnlock()
	e := s.store.byDN[d.norm()]
	if e == nil || !anyPasswordMatches(e.attrs.values("userpassword"), password) {
		return "", false, errorf(InvalidCredentials, "invalid credentials")
	}
	if strings.EqualFold(strings.TrimSpace(e.attrs.first("nsaccountlock")), "true") {
		// 389-DS answers a locked account this way, after checking the password.
		return "", false, errorf(UnwillingToPerform, "account is disabled (nsAccountLock: true)")
	}
	return e.display, false, nil
}

func anyPasswordMatches(stored []string, password string) bool {
	ok := false
	for _, v := range stored {
		if checkPassword(v, password) {
			ok = true
		}
	}
	return ok
}

// handleExtended answers the extended operations other than StartTLS.
func (c *conn) handleExtended(req *request) {
	name, err := str(req.body, 0)
	if err != nil {
		c.replyErr(req, err)
		return
	}
	switch name {
	case oidWhoAmI:
		dn, _ := c.state()
		authz := ""
		if dn != "" {
			authz = "dn:" + dn
		}
		c.replyWith(req, Success, "", "", octets(nil, ctxPrim(11), authz), nil)
	default:
		// RFC 4511 §4.12: an unrecognised requestName is a protocolError.
		c.reply(req, ProtocolError, "", "unsupported extended operation "+name)
	}
}

// handleStartTLS upgrades the connection (RFC 4513 §3). It runs on the
// reader goroutine with no other operation in flight, and returns false if
// the connection must close.
func (c *conn) handleStartTLS(req *request) bool {
	cfg := c.srv.opts.TLSConfig
	c.mu.Lock()
	already := c.tls
	c.mu.Unlock()
	switch {
	case cfg == nil:
		c.reply(req, ProtocolError, "", "StartTLS is not configured on this server")
		return true
	case already:
		c.reply(req, OperationsError, "", "TLS is already established")
		return true
	}
	c.replyWith(req, Success, "", "", octets(nil, ctxPrim(10), oidStartTLS), nil)
	// Bytes the client sent after the request (its ClientHello) may already
	// sit in the reader's buffer, so TLS reads through it.
	tc := tls.Server(&bufferedConn{Conn: c.nc, r: c.r}, cfg)
	if err := tc.HandshakeContext(c.ctx); err != nil {
		c.log.Info("ldap StartTLS handshake failed", "err", err)
		return false
	}
	// Only this goroutine reads c.r. c.nc stays the raw connection, which
	// is what shutdown closes.
	c.r = bufio.NewReader(tc)
	c.wmu.Lock()
	c.w.Reset(tc)
	c.wmu.Unlock()
	c.mu.Lock()
	c.tls = true
	c.mu.Unlock()
	return true
}

// bufferedConn reads through a bufio.Reader that may hold bytes already
// received from the connection.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (b *bufferedConn) Read(p []byte) (int, error) { return b.r.Read(p) }
