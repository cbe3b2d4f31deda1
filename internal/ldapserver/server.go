package ldapserver

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"
)

// Options configure a Server. Only BaseDN (or an LDIF to take it from) is
// required.
type Options struct {
	// BaseDN is the naming context, e.g. "dc=contoso,dc=com". When empty it
	// is the DN of the first entry of the LDIF.
	BaseDN string
	// AdminDN and AdminPassword identify the one account that may write
	// over LDAP. The admin needs no entry in the directory, like OpenLDAP's
	// rootdn. AdminPassword is compared in constant time and never logged.
	// With no AdminDN, the directory is read-only over LDAP (the Go methods
	// still write).
	AdminDN       string
	AdminPassword string
	// LDIF or LDIFPath is the initial content; at most one may be set.
	LDIF     io.Reader
	LDIFPath string
	// PersistPath, when set, is rewritten with the whole directory as LDIF
	// shortly after each change and on Close, with operational attributes,
	// so that a restart from it keeps entryUUIDs and change numbers.
	PersistPath string
	// Logger receives operation logs at debug level and failures above it;
	// nil discards them.
	Logger *slog.Logger
	// Clock is the time source for timestamps and CSNs; nil is time.Now.
	Clock func() time.Time
	// Rand is the randomness for entryUUIDs; nil is crypto/rand.
	Rand io.Reader
	// ServerID is the sid written in entryCSN, 0 to 4095.
	ServerID int
	// SizeLimit, when positive, caps the entries an unpaged search returns
	// (then sizeLimitExceeded), as Active Directory's MaxPageSize does, so
	// that tests can prove a client pages.
	SizeLimit int
	// AllowAnonymousRead lets unauthenticated connections search. By
	// default only the root DSE is readable before a bind.
	AllowAnonymousRead bool
	// TLSConfig enables the StartTLS extended operation. For LDAPS, hand
	// Serve a listener from tls.NewListener instead.
	TLSConfig *tls.Config
}

// Server is an embedded LDAP directory. Its methods are safe for concurrent
// use.
type Server struct {
	opts     Options
	log      *slog.Logger
	store    *store
	adminNDN string
	persist  *persister

	mu        sync.Mutex
	listeners []net.Listener
	conns     map[*conn]struct{}
	nextConn  uint64
	closed    bool
	wg        sync.WaitGroup
}

// New builds a server and loads its initial content. It does not listen:
// call Start or Serve.
func New(opts Options) (*Server, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	if opts.ServerID < 0 || opts.ServerID > 0xfff {
		return nil, fmt.Errorf("ldapserver: ServerID %d: want 0 to 4095", opts.ServerID)
	}
	if opts.LDIF != nil && opts.LDIFPath != "" {
		return nil, errors.New("ldapserver: set LDIF or LDIFPath, not both")
	}
	s := &Server{opts: opts, log: opts.Logger, conns: make(map[*conn]struct{})}
	if opts.AdminDN != "" {
		n, err := normalizeDN(opts.AdminDN)
		if err != nil {
			return nil, fmt.Errorf("ldapserver: AdminDN: %w", err)
		}
		if opts.AdminPassword == "" {
			return nil, errors.New("ldapserver: AdminDN is set but AdminPassword is empty")
		}
		s.adminNDN = n
	}
	st, err := loadStore(opts)
	if err != nil {
		return nil, err
	}
	s.store = st
	if opts.PersistPath != "" {
		s.persist = newPersister(s, opts.PersistPath)
		st.changed = s.persist.mark
	}
	return s, nil
}

// Start listens on addr ("127.0.0.1:0" picks a free port) and serves in the
// background until Close or until ctx is done. It returns the address
// listened on.
func (s *Server) Start(ctx context.Context, addr string) (string, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return "", fmt.Errorf("ldapserver: listen on %s: %w", addr, err)
	}
	if err := s.addListener(ln); err != nil {
		return "", err
	}
	go func() {
		if err := s.serve(ctx, ln); err != nil {
			s.log.Error("ldap server stopped accepting", "addr", ln.Addr().String(), "err", err)
		}
	}()
	return ln.Addr().String(), nil
}

// Serve accepts connections on ln until Close or until ctx is done, then
// returns nil; it returns an error if accepting fails otherwise. Serve
// takes ownership of ln.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if err := s.addListener(ln); err != nil {
		return err
	}
	return s.serve(ctx, ln)
}

func (s *Server) addListener(ln net.Listener) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		_ = ln.Close()
		return errors.New("ldapserver: server is closed")
	}
	s.listeners = append(s.listeners, ln)
	return nil
}

func (s *Server) serve(ctx context.Context, ln net.Listener) error {
	stop := context.AfterFunc(ctx, func() { _ = s.Close() })
	defer stop()
	s.log.Info("ldap server listening", "addr", ln.Addr().String(), "base", s.store.suffix.String())
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.isClosed() || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("ldapserver: accept: %w", err)
		}
		c, ok := s.track(nc)
		if !ok {
			_ = nc.Close()
			return nil
		}
		go func() {
			defer s.untrack(c)
			c.serve()
		}()
	}
}

func (s *Server) track(nc net.Conn) (*conn, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, false
	}
	s.nextConn++
	c := newConn(s, s.nextConn, nc)
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	return c, true
}

func (s *Server) untrack(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.wg.Done()
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// Addr returns the address of the first listener, or "" before Start.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.listeners) == 0 {
		return ""
	}
	return s.listeners[0].Addr().String()
}

// Close stops listening, closes every client connection (idle ones too, so
// it never waits on a client), waits for the operations in progress and
// writes the persistence file if one is configured. It is safe to call
// more than once.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	var errs []error
	for _, ln := range s.listeners {
		if err := ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	for c := range s.conns {
		c.shutdown()
	}
	s.mu.Unlock()
	s.wg.Wait()
	if s.persist != nil {
		errs = append(errs, s.persist.close())
	}
	return errors.Join(errs...)
}
