package directory

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// pool keeps a few bound connections. go-ldap has none: a Conn is one TCP
// connection whose reader goroutine marks it closing when the server goes
// away. A connection found closing is dropped and a new one dialled, with
// backoff between failed dials.
type pool struct {
	d     *Directory
	slots chan struct{} // one token per connection in use
	mu    sync.Mutex
	idle  []*ldap.Conn
	done  bool
}

func newPool(d *Directory) *pool {
	return &pool{d: d, slots: make(chan struct{}, d.opts.poolSize)}
}

// get returns a bound connection, waiting for a free slot.
func (p *pool) get(ctx context.Context) (*ldap.Conn, error) {
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	p.mu.Lock()
	if p.done {
		p.mu.Unlock()
		<-p.slots
		return nil, ErrClosed
	}
	for len(p.idle) > 0 {
		c := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		if !c.IsClosing() {
			p.mu.Unlock()
			return c, nil
		}
		c.Close()
	}
	p.mu.Unlock()
	c, err := p.d.dialRetry(ctx, p.d.u, true)
	if err != nil {
		<-p.slots
		return nil, err
	}
	return c, nil
}

// put returns a connection to the pool, or closes it when it is not fit
// to be used again.
func (p *pool) put(c *ldap.Conn, reuse bool) {
	p.mu.Lock()
	if reuse && !p.done && !c.IsClosing() {
		p.idle = append(p.idle, c)
		c = nil
	}
	p.mu.Unlock()
	if c != nil {
		c.Close()
	}
	<-p.slots
}

func (p *pool) close() {
	p.mu.Lock()
	p.done = true
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	for _, c := range idle {
		c.Close()
	}
}

// session is one use of a pooled connection by an operation. delivered
// records whether the operation has called the caller back yet: until it
// has, a dropped connection is retried on a new one without the caller
// seeing it.
type session struct {
	c         *ldap.Conn
	delivered bool
	dirty     bool // the connection holds server-side state (an abandoned paged search)
}

// withConn runs fn on a pooled connection. A connection failure before fn
// delivered anything is retried on a fresh connection (the server may have
// restarted since the connection was pooled); after that it is returned.
// Cancelling ctx closes the connection, which ends any request on it.
func (d *Directory) withConn(ctx context.Context, fn func(s *session) error) error {
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		c, err := d.pool.get(ctx)
		if err != nil {
			return err
		}
		s := &session{c: c}
		stop := context.AfterFunc(ctx, func() { c.Close() })
		err = fn(s)
		cancelled := !stop()
		// go-ldap reports some connection failures as bare strings; a
		// connection that is closing after an error is the reliable sign.
		lost := isConnError(err) || err != nil && c.IsClosing()
		d.pool.put(c, !cancelled && !s.dirty && !lost)
		if err != nil && cancelled {
			return ctx.Err()
		}
		if lost && !s.delivered && attempt < 2 {
			d.log.Info("ldap connection lost; retrying on a new connection", "err", err)
			continue
		}
		return err
	}
}

// dialRetry dials and binds, retrying connection failures with backoff.
// Failures that another try cannot mend (a refused bind, a certificate
// that does not verify, a bad URL) are returned at once.
func (d *Directory) dialRetry(ctx context.Context, u *url.URL, bind bool) (*ldap.Conn, error) {
	wait := d.opts.backoffMin
	var last error
	for attempt := 1; attempt <= d.opts.dialAttempts; attempt++ {
		c, err := d.dial(ctx, u)
		if err == nil && bind {
			err = d.bind(c)
			if err != nil {
				c.Close()
			}
		}
		if err == nil {
			return c, nil
		}
		last = err
		if !isConnError(err) || ctx.Err() != nil || attempt == d.opts.dialAttempts {
			break
		}
		// Full jitter keeps a fleet of provisioners from reconnecting in step.
		sleep := wait/2 + rand.N(wait/2+1)
		d.log.Debug("ldap dial failed; retrying", "attempt", attempt, "in", sleep, "err", err)
		t := time.NewTimer(sleep)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
		wait = min(wait*2, d.opts.backoffMax)
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return nil, fmt.Errorf("connect to %s: %w", redactURL(u), last)
}

// dial opens a connection to u: TCP, TLS for ldaps, StartTLS when the
// source asks for it. It does not bind.
func (d *Directory) dial(ctx context.Context, u *url.URL) (*ldap.Conn, error) {
	dctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	dialer := d.opts.dial
	if dialer == nil {
		nd := &net.Dialer{Timeout: d.timeout, KeepAlive: 30 * time.Second}
		dialer = nd.DialContext
	}
	raw, err := dialer(dctx, "tcp", u.Host)
	if err != nil {
		return nil, ldap.NewError(ldap.ErrorNetwork, err)
	}
	tcfg, err := d.tlsConfig(u.Hostname())
	if err != nil {
		raw.Close()
		return nil, err
	}
	isTLS := false
	if u.Scheme == "ldaps" {
		tc := tls.Client(raw, tcfg)
		if err := tc.HandshakeContext(dctx); err != nil {
			raw.Close()
			return nil, tlsError(err)
		}
		raw, isTLS = tc, true
	}
	c := ldap.NewConn(raw, isTLS)
	c.Start()
	c.SetTimeout(d.timeout)
	if d.src.StartTLS && !isTLS {
		// StartTLS blocks on the server's answer; close the connection if
		// the dial context ends first.
		stop := context.AfterFunc(dctx, func() { c.Close() })
		err := c.StartTLS(tcfg)
		stop()
		if err != nil {
			c.Close()
			return nil, tlsError(fmt.Errorf("starttls: %w", err))
		}
	}
	return c, nil
}

// bind binds c with the source's credentials (anonymous when no bind DN is
// set).
func (d *Directory) bind(c *ldap.Conn) error {
	if d.src.BindDN == "" {
		return nil
	}
	if err := c.Bind(d.src.BindDN, d.src.Password.Value()); err != nil {
		return fmt.Errorf("bind as %s: %w", d.src.BindDN, err)
	}
	return nil
}

// tlsConfig builds the TLS configuration for a host: the WithTLSConfig
// base, the source's CA file added to the system roots, and
// insecureSkipVerify.
func (d *Directory) tlsConfig(host string) (*tls.Config, error) {
	var cfg *tls.Config
	if d.opts.tlsConfig != nil {
		cfg = d.opts.tlsConfig.Clone()
	} else {
		cfg = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	// A ServerName set by WithTLSConfig names the source's server; a
	// referral's server is checked under its own name.
	if cfg.ServerName == "" || host != d.u.Hostname() {
		cfg.ServerName = host
	}
	if d.src.CAFile != "" {
		pem, err := os.ReadFile(d.src.CAFile)
		if err != nil {
			return nil, fmt.Errorf("directory: caFile: %w", err)
		}
		roots := cfg.RootCAs
		if roots != nil {
			roots = roots.Clone() // the caller's pool stays as it was
		} else {
			roots, err = x509.SystemCertPool()
			if err != nil || roots == nil {
				roots = x509.NewCertPool()
			}
		}
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("directory: caFile %s holds no PEM certificate", d.src.CAFile)
		}
		cfg.RootCAs = roots
	}
	if d.src.InsecureSkipVerify {
		cfg.InsecureSkipVerify = true
	}
	return cfg, nil
}

// permanentError marks an error another try cannot mend.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

func tlsError(err error) error {
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	var ci x509.CertificateInvalidError
	if errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &hn) || errors.As(err, &ci) {
		return permanentError{fmt.Errorf("tls: %w", err)}
	}
	return ldap.NewError(ldap.ErrorNetwork, err)
}

// isConnError reports whether err means the connection (not the request)
// failed: the request may succeed on a new connection.
func isConnError(err error) bool {
	if err == nil {
		return false
	}
	var pe permanentError
	if errors.As(err, &pe) {
		return false
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var le *ldap.Error
	if errors.As(err, &le) {
		switch le.ResultCode {
		case ldap.ErrorNetwork, ldap.LDAPResultServerDown, ldap.LDAPResultUnavailable, ldap.LDAPResultBusy:
			return true
		}
		if le.Err != nil && le.ResultCode >= ldap.ErrorNetwork {
			return isConnError(le.Err)
		}
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	// go-ldap's reader and writer errors are formatted, not wrapped.
	msg := err.Error()
	for _, m := range []string{"unable to read LDAP response packet", "unable to send request", "ldap: connection closed", "ldap: response channel closed"} {
		if strings.Contains(msg, m) {
			return true
		}
	}
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, net.ErrClosed)
}
