package console

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Cookie names. The session cookie is HttpOnly and SameSite=Strict; the
// login cookie carries the double-submitted CSRF token of the login form,
// which is posted before any session exists.
const (
	sessionCookie = "o365prov_session"
	loginCookie   = "o365prov_login"
	csrfHeader    = "X-CSRF-Token"
	csrfField     = "csrf"
	actorHeader   = "X-O365prov-Actor"
)

// sessionLifetime is how long a session lives without being used.
const sessionLifetime = 8 * time.Hour

// maxSessions bounds the sessions kept in memory.
const maxSessions = 1000

// session is one person signed in to the console.
type session struct {
	id      string
	name    string // who, for the audit log
	csrf    string
	expires time.Time
}

// sessions keeps the console's sessions in memory: a restart signs
// everyone out, which is acceptable for an administration console.
type sessions struct {
	mu    sync.Mutex
	byID  map[string]*session
	rand  io.Reader
	clock func() time.Time
}

func newSessions(r io.Reader, clock func() time.Time) *sessions {
	return &sessions{byID: map[string]*session{}, rand: r, clock: clock}
}

func (s *sessions) token() (string, error) {
	b := make([]byte, 32)
	if _, err := io.ReadFull(s.rand, b); err != nil {
		return "", fmt.Errorf("random session token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// start opens a session for name.
func (s *sessions) start(name string) (*session, error) {
	id, err := s.token()
	if err != nil {
		return nil, err
	}
	csrf, err := s.token()
	if err != nil {
		return nil, err
	}
	ss := &session{id: id, name: name, csrf: csrf, expires: s.clock().Add(sessionLifetime)}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock()
	for k, v := range s.byID { // sessions are few: sweeping here keeps the map small
		if now.After(v.expires) {
			delete(s.byID, k)
		}
	}
	if len(s.byID) >= maxSessions { // someone opens sessions in a loop: the stalest goes
		var stalest *session
		for _, v := range s.byID {
			if stalest == nil || v.expires.Before(stalest.expires) {
				stalest = v
			}
		}
		delete(s.byID, stalest.id)
	}
	s.byID[id] = ss
	return ss, nil
}

// get returns the live session with that id and extends it.
func (s *sessions) get(id string) (*session, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.byID[id]
	if !ok {
		return nil, false
	}
	now := s.clock()
	if now.After(ss.expires) {
		delete(s.byID, id)
		return nil, false
	}
	ss.expires = now.Add(sessionLifetime)
	cp := *ss
	return &cp, true
}

func (s *sessions) end(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byID, id)
}

// equal compares secrets in constant time.
func equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// principal is who makes a request.
type principal struct {
	who     string
	session *session // the person's session; nil for a bearer token
	bearer  bool     // signed in with the admin token as a bearer token
}

type principalKey struct{}

func who(ctx context.Context) string {
	if p, ok := ctx.Value(principalKey{}).(principal); ok {
		return p.who
	}
	return "unknown"
}

// authenticate finds who makes the request: a bearer token, or a session
// cookie. Without a configured token every request is the local operator's
// (the console then listens on loopback only); a page opens a session on
// the fly, so that the actions it offers carry a CSRF token: another site
// open in the same browser could otherwise make them.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, page bool) (principal, bool) {
	if h := r.Header.Get("Authorization"); h != "" {
		tok, ok := strings.CutPrefix(h, "Bearer ")
		if ok && s.o.Token != "" && equal(tok, s.o.Token) {
			return principal{who: apiActor(r), bearer: true}, true
		}
		if s.o.Token != "" {
			return principal{}, false
		}
	}
	if c, err := r.Cookie(sessionCookie); err == nil {
		if ss, ok := s.sessions.get(c.Value); ok {
			return principal{who: ss.name, session: ss}, true
		}
	}
	if s.o.Token == "" {
		if !page { // no session, so no action: reading is all
			return principal{who: "local operator (" + remoteHost(r) + ")"}, true
		}
		ss, err := s.sessions.start("local operator (" + remoteHost(r) + ")")
		if err != nil {
			return principal{}, false
		}
		s.setSessionCookie(w, ss)
		return principal{who: ss.name, session: ss}, true
	}
	return principal{}, false
}

// apiActor names a bearer-token caller: the token is shared, so the caller
// may say who it is acting for in X-O365prov-Actor.
func apiActor(r *http.Request) string {
	name := cleanName(r.Header.Get(actorHeader))
	if name == "" {
		return "admin API (" + remoteHost(r) + ")"
	}
	return name + " (api, " + remoteHost(r) + ")"
}

// cleanName keeps a display name printable and short.
func cleanName(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	if len([]rune(s)) > 64 {
		s = string([]rune(s)[:64])
	}
	return s
}

func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (s *Server) setSessionCookie(w http.ResponseWriter, ss *session) {
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: ss.id, Path: "/", HttpOnly: true, Secure: s.o.Secure,
		SameSite: http.SameSiteStrictMode, MaxAge: int(sessionLifetime / time.Second),
	})
}

// checkCSRF refuses an action made with a session cookie unless it
// carries the session's CSRF token (header or form field) and, when the
// browser says where it comes from, comes from this console. A request
// authenticated by a bearer token cannot be forged by another site: a
// browser never adds that header by itself.
func checkCSRF(r *http.Request, p principal) error {
	if p.bearer {
		return nil
	}
	if p.session == nil {
		return fmt.Errorf("an action needs the CSRF token of a console session (open the page and use its buttons) or the admin token")
	}
	if origin := r.Header.Get("Origin"); origin != "" && !sameOrigin(origin, r) {
		return fmt.Errorf("request from %s, not from this console", origin)
	}
	tok := r.Header.Get(csrfHeader)
	if tok == "" { // a form of the console's pages
		tok = r.PostFormValue(csrfField)
	}
	if tok == "" || !equal(tok, p.session.csrf) {
		return fmt.Errorf("missing or wrong CSRF token (reload the page and try again)")
	}
	return nil
}

func sameOrigin(origin string, r *http.Request) bool {
	o := strings.TrimPrefix(strings.TrimPrefix(origin, "https://"), "http://")
	return o == r.Host
}

// requireAuth wraps a handler of a route that needs a signed-in caller;
// actions also need a CSRF token. API callers get 401 JSON, people are sent
// to the login page.
func (s *Server) requireAuth(rt route) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, ok := s.authenticate(w, r, !rt.api && r.Method == http.MethodGet && rt.path != "/metrics")
		if !ok {
			if rt.api || r.Method != http.MethodGet {
				w.Header().Set("WWW-Authenticate", `Bearer realm="o365prov"`)
				writeError(w, http.StatusUnauthorized, "sign in first: an admin token as a bearer token, or a session from /login")
				return
			}
			http.Redirect(w, r, loginURL(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		if rt.action {
			r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
			if err := checkCSRF(r, p); err != nil {
				writeError(w, http.StatusForbidden, err.Error())
				return
			}
		}
		rt.h(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	}
}

// safeNext keeps a redirect target on this console.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}
