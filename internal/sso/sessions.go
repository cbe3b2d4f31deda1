package sso

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

const (
	sessionCookie = "o365prov_sso"
	flowCookie    = "o365prov_login"
	flowLifetime  = 15 * time.Minute
)

// session is a signed-in browser: a second sign-in within the lifetime
// asks no password.
type session struct {
	Identity     Identity  `json:"identity"`
	AuthnInstant time.Time `json:"authnInstant"`
	Expires      time.Time `json:"expires"`
	Login        string    `json:"login"`
}

// flow is a sign-in in progress: the protocol request being answered.
type flow struct {
	Protocol string    `json:"protocol"` // wsfed | saml2
	CSRF     string    `json:"csrf"`
	Created  time.Time `json:"created"`
	Hint     string    `json:"hint,omitempty"` // a user name the relying party gave
	// WS-Federation
	WReply string `json:"wreply,omitempty"`
	WCtx   string `json:"wctx,omitempty"`
	// SAML 2.0
	RequestID    string `json:"requestId,omitempty"`
	ACS          string `json:"acs,omitempty"`
	RelayState   string `json:"relayState,omitempty"`
	AuthnContext string `json:"authnContext,omitempty"`
	ForceAuthn   bool   `json:"forceAuthn,omitempty"`
}

func (s *Server) token() (string, error) {
	b := make([]byte, 32)
	if _, err := io.ReadFull(s.d.Random, b); err != nil {
		return "", fmt.Errorf("random token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func (s *Server) putJSON(ctx context.Context, key string, v any, expires time.Time) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return s.d.Store.PutItem(ctx, key, b, expires)
}

func (s *Server) getJSON(ctx context.Context, key string, v any) error {
	b, err := s.d.Store.Item(ctx, key, s.d.Clock.Now())
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// currentSession returns the browser's live session, if any.
func (s *Server) currentSession(r *http.Request) (session, string, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" || len(c.Value) > 100 {
		return session{}, "", false
	}
	var ss session
	if err := s.getJSON(r.Context(), "session:"+c.Value, &ss); err != nil {
		if !errors.Is(err, ErrNoItem) {
			s.d.Log.Error("read sso session", "err", err)
		}
		return session{}, "", false
	}
	return ss, c.Value, s.d.Clock.Now().Before(ss.Expires)
}

// startSession stores a session and sets its cookie.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, ss session) error {
	id, err := s.token()
	if err != nil {
		return err
	}
	ss.Expires = s.d.Clock.Now().Add(s.o.SessionLifetime)
	if err := s.putJSON(r.Context(), "session:"+id, ss, ss.Expires); err != nil {
		return fmt.Errorf("store sso session: %w", err)
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: "/", HttpOnly: true, Secure: s.o.SecureCookies, SameSite: http.SameSiteLaxMode, Expires: ss.Expires})
	return nil
}

// endSession forgets the browser's session and clears the cookie. It
// returns the session that ended, if there was one.
func (s *Server) endSession(w http.ResponseWriter, r *http.Request) (session, bool) {
	ss, id, ok := s.currentSession(r)
	if id != "" {
		if err := s.d.Store.DeleteItem(r.Context(), "session:"+id); err != nil {
			s.d.Log.Error("delete sso session", "err", err)
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true, Secure: s.o.SecureCookies, SameSite: http.SameSiteLaxMode, MaxAge: -1})
	return ss, ok
}

// begin answers a validated protocol request: at once with a token when
// the browser has a session (and the request does not force a fresh
// sign-in), otherwise with the login form.
func (s *Server) begin(w http.ResponseWriter, r *http.Request, f flow) {
	if ss, _, ok := s.currentSession(r); ok && !f.ForceAuthn {
		s.d.Log.Debug("sign-in from session", "upn", ss.Identity.UPN, "protocol", f.Protocol)
		s.complete(w, r, f, ss, true)
		return
	}
	s.showLogin(w, r, f, "", "", http.StatusOK)
}

// showLogin stores the flow and renders the form. The flow id travels in
// the form and in a cookie, and the form carries a CSRF token kept with
// the flow: a post from another site has neither.
func (s *Server) showLogin(w http.ResponseWriter, r *http.Request, f flow, errMsg, errHint string, status int) {
	id, err := s.token()
	if err == nil {
		f.CSRF, err = s.token()
	}
	now := s.d.Clock.Now()
	f.Created = now
	if err == nil {
		err = s.putJSON(r.Context(), "flow:"+id, f, now.Add(flowLifetime))
	}
	if err != nil {
		s.d.Log.Error("start sign-in", "err", err)
		s.problem(w, http.StatusServiceUnavailable, "Sign-in is unavailable", "Sign-in is unavailable right now.", "Please try again in a few minutes.")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: flowCookie, Value: id, Path: "/idp/", HttpOnly: true, Secure: s.o.SecureCookies, SameSite: http.SameSiteLaxMode, MaxAge: int(flowLifetime / time.Second)})
	s.render(w, status, "login", page{Flow: id, CSRF: f.CSRF, Username: f.Hint, LoginHint: s.o.LoginHint, Error: errMsg, ErrorHint: errHint})
}
