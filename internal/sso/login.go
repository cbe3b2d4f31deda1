package sso

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"
	"time"
)

// authTimeout bounds the directory's answer: a person is waiting.
const authTimeout = 15 * time.Second

// maxLoginLength refuses absurd user names before they reach the directory.
const maxLoginLength = 256

// serveLogin is the login form's POST: check the CSRF token, the lockout,
// then the password (by a bind as the user), and answer the flow.
func (s *Server) serveLogin(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.problem(w, http.StatusBadRequest, "Sign-in failed", "The sign-in form could not be read.", "Go back to Microsoft 365 and start again.")
		return
	}
	f, flowID, ok := s.takeFlow(r)
	if !ok {
		s.problem(w, http.StatusForbidden, "Sign-in expired", "This sign-in page has expired or was not opened here.",
			"Go back to Microsoft 365 and start signing in again.")
		return
	}
	login := strings.TrimSpace(r.PostForm.Get("username"))
	password := r.PostForm.Get("password")
	addr := s.clientAddr(r)
	f.Hint = login
	ev := Event{Login: login, From: addr, Protocol: f.Protocol, Operation: "signIn", Result: "failed"}
	if login == "" || password == "" || len(login) > maxLoginLength {
		s.retry(w, r, flowID, f, "Enter your user name and password.", "", http.StatusBadRequest)
		return
	}
	now := s.d.Clock.Now()
	id, err := s.checkPassword(r.Context(), ev, password)
	if errors.Is(err, errLockedOut) {
		s.retry(w, r, flowID, f, "Too many failed sign-ins.", " Wait a few minutes, then try again.", http.StatusTooManyRequests)
		return
	}
	if err != nil {
		s.refuse(w, r, flowID, f, err)
		return
	}
	_ = s.d.Store.DeleteItem(r.Context(), "flow:"+flowID)
	ss := session{Identity: id, AuthnInstant: now, Login: login}
	if err := s.startSession(w, r, ss); err != nil {
		s.d.Log.Error("start session", "err", err)
	}
	s.d.Log.Debug("password accepted", "login", login, "upn", id.UPN, "from", addr)
	s.complete(w, r, f, ss, false)
}

// takeFlow finds the flow the form belongs to and checks its CSRF token.
func (s *Server) takeFlow(r *http.Request) (flow, string, bool) {
	id := r.PostForm.Get("flow")
	c, err := r.Cookie(flowCookie)
	if id == "" || len(id) > 100 || err != nil || subtle.ConstantTimeCompare([]byte(c.Value), []byte(id)) != 1 {
		return flow{}, "", false
	}
	var f flow
	if err := s.getJSON(r.Context(), "flow:"+id, &f); err != nil {
		return flow{}, "", false
	}
	csrf := r.PostForm.Get("csrf")
	if f.CSRF == "" || subtle.ConstantTimeCompare([]byte(csrf), []byte(f.CSRF)) != 1 {
		return flow{}, "", false
	}
	return f, id, true
}

// retry shows the form again for the same flow with a message.
func (s *Server) retry(w http.ResponseWriter, r *http.Request, flowID string, f flow, msg, hint string, status int) {
	_ = s.d.Store.DeleteItem(r.Context(), "flow:"+flowID)
	f.ForceAuthn = true // the new form asks for a password whatever the session
	s.showLogin(w, r, f, msg, hint, status)
}

// refuse answers a failed password check (checkPassword has counted and
// audited it): each reason its own message; a wrong password and an
// unknown user alike.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, flowID string, f flow, err error) {
	switch {
	case errors.Is(err, ErrInvalidCredentials):
		s.retry(w, r, flowID, f, "Your user name or password is incorrect.", " Check them and try again.", http.StatusUnauthorized)
		return
	case errors.Is(err, ErrAccountDisabled):
		s.problem(w, http.StatusForbidden, "Account disabled", "Your account is disabled.", "Contact your IT help desk to have it enabled.")
	case errors.Is(err, ErrAccountLocked):
		s.problem(w, http.StatusForbidden, "Account locked", "Your account is locked in the directory.", "Wait for it to unlock, or contact your IT help desk.")
	case errors.Is(err, ErrPasswordExpired):
		s.problem(w, http.StatusForbidden, "Password expired", "Your password has expired.", "Change it the way your organisation provides (for example at a workstation), then sign in again.")
	case errors.Is(err, ErrNotProvisioned):
		s.problem(w, http.StatusForbidden, "No Microsoft 365 account", "Your account is not set up for Microsoft 365.",
			"Your password is right, but Microsoft 365 does not have an account for you yet (or no longer). Contact your IT help desk.")
	default:
		s.problem(w, http.StatusServiceUnavailable, "Sign-in is unavailable", "Sign-in is unavailable right now.", "Please try again in a few minutes.")
	}
	_ = s.d.Store.DeleteItem(r.Context(), "flow:"+flowID)
}

// complete answers the flow with a token for the session's identity.
func (s *Server) complete(w http.ResponseWriter, r *http.Request, f flow, ss session, fromSession bool) {
	ev := Event{Login: ss.Login, DN: ss.Identity.DN, ImmutableID: ss.Identity.ImmutableID, From: s.clientAddr(r), Protocol: f.Protocol, Operation: "signIn", Result: "ok"}
	if fromSession {
		ev.Reason = "existing session"
	}
	var err error
	switch f.Protocol {
	case "wsfed":
		err = s.completeWSFed(w, f, ss)
	case "saml2":
		err = s.completeSAML2(w, f, ss)
	}
	if err != nil {
		ev.Result, ev.Reason = "failed", "issue token: "+err.Error()
		s.d.Log.Error("issue token", "upn", ss.Identity.UPN, "err", err)
		s.problem(w, http.StatusInternalServerError, "Sign-in failed", "A sign-in token could not be made.", "Please try again; if it keeps failing, contact your IT help desk.")
	}
	s.audit(r.Context(), ev)
}

// grant is the token to issue now for a session.
func (s *Server) grant(ss session) Grant {
	return Grant{Identity: ss.Identity, AuthnInstant: ss.AuthnInstant, Now: s.d.Clock.Now(), Lifetime: s.o.TokenLifetime, Skew: s.o.Skew}
}

// serveSignOutPage ends the session (the "sign out" link of any page).
func (s *Server) serveSignOutPage(w http.ResponseWriter, r *http.Request) {
	s.signOut(w, r, "")
	s.render(w, http.StatusOK, "message", page{Title: "Signed out", Heading: "Signed out", Note: "You have signed out.", Hint: "Close the browser to finish signing out of every application."})
}

func (s *Server) signOut(w http.ResponseWriter, r *http.Request, protocol string) {
	ss, ok := s.endSession(w, r)
	if ok {
		s.audit(r.Context(), Event{Login: ss.Login, DN: ss.Identity.DN, ImmutableID: ss.Identity.ImmutableID, From: s.clientAddr(r), Protocol: protocol, Operation: "signOut", Result: "ok"})
	}
}
