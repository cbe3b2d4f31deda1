package sso

import (
	"net/http"
	"strings"
)

// maxWctx bounds the context Entra asks to have echoed back.
const maxWctx = 4096

// passwordAuth lists the wauth values a password sign-in satisfies.
var passwordAuth = map[string]bool{
	amPassword:    true,
	acPasswordTLS: true,
	acPassword:    true,
	acUnspecified: true,
}

// serveWSFed is /idp/prp.wsf, the WS-Federation passive endpoint.
func (s *Server) serveWSFed(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.problem(w, http.StatusBadRequest, "Sign-in failed", "The sign-in request could not be read.", "")
		return
	}
	switch wa := r.Form.Get("wa"); wa {
	case "wsignin1.0":
		s.wsfedSignIn(w, r)
	case "wsignout1.0", "wsignoutcleanup1.0":
		s.signOut(w, r, "wsfed")
		if reply := r.Form.Get("wreply"); reply != "" && s.replyAllowed(reply) && wa == "wsignout1.0" {
			http.Redirect(w, r, reply, http.StatusFound)
			return
		}
		s.render(w, http.StatusOK, "message", page{Title: "Signed out", Heading: "Signed out", Note: "You have signed out.", Hint: "Close the browser to finish signing out of every application."})
	default:
		s.problem(w, http.StatusBadRequest, "Sign-in failed", "This is not a WS-Federation request (wa is missing or unknown).",
			"Start from Microsoft 365 (for example https://www.office.com) and sign in there.")
	}
}

func (s *Server) wsfedSignIn(w http.ResponseWriter, r *http.Request) {
	q := r.Form
	if realm := q.Get("wtrealm"); realm != MicrosoftOnline {
		s.problem(w, http.StatusBadRequest, "Sign-in failed", "This sign-in service signs in to Microsoft 365 only.",
			"The request named the realm "+quote(realm)+"; only "+MicrosoftOnline+" is served.")
		return
	}
	reply := q.Get("wreply")
	if reply == "" {
		reply = s.o.ReplyURLs[0]
	}
	if !s.replyAllowed(reply) {
		s.d.Log.Warn("refused WS-Federation reply address not on the allow-list", "wreply", reply, "from", s.clientAddr(r))
		s.problem(w, http.StatusBadRequest, "Sign-in failed", "The request asks to send your sign-in somewhere this service does not trust.",
			"The address is not in sso.replyURLs. If you followed a link, it may not be genuine.")
		return
	}
	if len(q.Get("wctx")) > maxWctx {
		s.problem(w, http.StatusBadRequest, "Sign-in failed", "The sign-in request is too large.", "")
		return
	}
	wauth := q.Get("wauth")
	if wauth != "" && !passwordAuth[wauth] {
		s.problem(w, http.StatusBadRequest, "Sign-in method not available", "Microsoft 365 asked for a way of signing in this service does not offer.",
			"It signs in with a password only; the request asked for "+quote(wauth)+".")
		return
	}
	f := flow{Protocol: "wsfed", WReply: reply, WCtx: q.Get("wctx"), Hint: loginHint(q.Get("username"), q.Get("login_hint")),
		ForceAuthn: q.Get("wfresh") == "0"}
	s.begin(w, r, f)
}

func loginHint(vals ...string) string {
	for _, v := range vals {
		if v = strings.TrimSpace(v); v != "" && len(v) <= maxLoginLength {
			return v
		}
	}
	return ""
}

func quote(s string) string {
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return "“" + s + "”"
}

// completeWSFed posts the RSTR to wreply.
func (s *Server) completeWSFed(w http.ResponseWriter, f flow, ss session) error {
	g := s.grant(ss)
	a, err := s.tokens.saml11(g)
	if err != nil {
		return err
	}
	res, err := rstr(a, g)
	if err != nil {
		return err
	}
	fields := []field{{"wa", "wsignin1.0"}, {"wresult", res}}
	if f.WCtx != "" {
		fields = append(fields, field{"wctx", f.WCtx})
	}
	s.render(w, http.StatusOK, "autopost", page{Title: "Signing in", Heading: "Signed in as " + ss.Identity.UPN, Action: f.WReply, Fields: fields})
	return nil
}
