package console

import (
	"context"
	"crypto/subtle"
	"fmt"
	"net"
	"net/http"
	"strings"
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
// open in the same browser could otherwise make them. err is a session
// store that cannot be read: the caller may well be signed in.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, page bool) (principal, bool, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		tok, ok := strings.CutPrefix(h, "Bearer ")
		if ok && s.o.Token != "" && equal(tok, s.o.Token) {
			return principal{who: apiActor(r), bearer: true}, true, nil
		}
		if s.o.Token != "" {
			return principal{}, false, nil
		}
	}
	if c, err := r.Cookie(sessionCookie); err == nil {
		ss, ok, err := s.sessions.get(r.Context(), c.Value)
		if err != nil {
			return principal{}, false, err
		}
		if ok {
			return principal{who: ss.name, session: ss}, true, nil
		}
	}
	if s.o.Token == "" {
		if !page { // no session, so no action: reading is all
			return principal{who: "local operator (" + remoteHost(r) + ")"}, true, nil
		}
		ss, err := s.sessions.start(r.Context(), "local operator ("+remoteHost(r)+")")
		if err != nil {
			return principal{}, false, err
		}
		s.setSessionCookie(w, ss)
		return principal{who: ss.name, session: ss}, true, nil
	}
	return principal{}, false, nil
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
		p, ok, err := s.authenticate(w, r, !rt.api && r.Method == http.MethodGet && rt.path != "/metrics")
		if err != nil {
			s.o.Logger.Error("console sign-in check failed", "path", r.URL.Path, "err", err)
			writeError(w, http.StatusServiceUnavailable, "the console's sessions cannot be read now; try again shortly")
			return
		}
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
