package sso

import (
	"context"
	"errors"
)

// checkPassword is the one password check every profile uses (the login
// form and WS-Trust): the lockout first, then the directory, then the
// failure counters. A refusal is audited here, with ev's protocol and
// address; the caller audits a success once it has issued the token.
//
// Errors: errLockedOut (the directory was not asked), or the Directory's.
func (s *Server) checkPassword(ctx context.Context, ev Event, password string) (Identity, error) {
	ev.Operation, ev.Result = "signIn", "failed"
	now := s.d.Clock.Now()
	if err := s.limit.check(ctx, ev.Login, ev.From, now); err != nil {
		ev.Reason = "locked out by o365prov after repeated failures"
		if !errors.Is(err, errLockedOut) {
			ev.Reason = "lockout check failed: " + err.Error()
		}
		s.audit(ctx, ev)
		return Identity{}, errLockedOut
	}
	actx, cancel := context.WithTimeout(ctx, authTimeout)
	id, err := s.d.Directory.Authenticate(actx, ev.Login, password)
	cancel()
	if err == nil {
		if err := s.limit.succeed(ctx, ev.Login); err != nil {
			s.d.Log.Error("clear failed sign-ins", "err", err)
		}
		return id, nil
	}
	ev.Reason = err.Error()
	switch {
	case errors.Is(err, ErrInvalidCredentials):
		if ferr := s.limit.fail(ctx, ev.Login, ev.From, now); ferr != nil {
			s.d.Log.Error("count failed sign-in", "err", ferr)
		}
	case errors.Is(err, ErrAccountDisabled), errors.Is(err, ErrAccountLocked),
		errors.Is(err, ErrPasswordExpired), errors.Is(err, ErrNotProvisioned):
	default:
		ev.Reason = "directory unavailable: " + err.Error()
		s.d.Log.Error("check password", "login", ev.Login, "err", err)
	}
	s.audit(ctx, ev)
	return Identity{}, err
}
