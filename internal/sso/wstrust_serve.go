package sso

import (
	"context"
	"errors"
	"net/http"
	"net/netip"

	"github.com/beevik/etree"
)

// serveActive is /idp/sts.wst, the WS-Trust usernamemixed endpoint rich
// clients (MSAL's password grant) and Entra itself post to. It checks the
// password exactly as the login form does and answers with the passive
// profile's signed SAML 1.1 assertion, or a SOAP fault.
func (s *Server) serveActive(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		s.writeFault(w, "", invalidRequest("WS-Trust requests are POSTed"))
		return
	}
	body, f := readSOAP(r)
	if f != nil {
		s.writeFault(w, "", f)
		return
	}
	req, f := parseRST(body)
	if f != nil {
		s.writeFault(w, "", f)
		return
	}
	// WS-Trust fault codes are answered in the request's version's namespace.
	fault := func(f *trustFault) {
		if f.ns == nsTrust13 {
			f.ns = req.version.ns
		}
		s.writeFault(w, req.messageID, f)
	}
	ev := Event{Login: req.username, From: s.clientAddr(r), Protocol: "wstrust" + req.version.name, Operation: "signIn", Result: "failed"}
	if f := s.checkRequest(r.Context(), req); f != nil {
		ev.Reason = f.Error()
		s.audit(r.Context(), ev)
		fault(f)
		return
	}
	id, err := s.checkPassword(r.Context(), ev, req.password)
	if err != nil {
		fault(passwordFault(err))
		return
	}
	now := s.d.Clock.Now()
	g := Grant{Identity: id, AuthnInstant: now, Now: now, Lifetime: s.o.TokenLifetime, Skew: s.o.Skew,
		InsideCorporateNetwork: s.insideCorporateNetwork(ev.From)}
	a, err := s.tokens.saml11(g)
	if err == nil {
		err = s.writeRSTR(w, req, rstrElement(a, g, req.version))
	}
	if err != nil {
		ev.Reason = "issue token: " + err.Error()
		s.audit(r.Context(), ev)
		s.d.Log.Error("issue token", "upn", id.UPN, "err", err)
		fault(&trustFault{ns: nsTrust13, code: "RequestFailed", reason: "a token could not be issued"})
		return
	}
	ev.DN, ev.ImmutableID, ev.Result = id.DN, id.ImmutableID, "ok"
	s.audit(r.Context(), ev)
}

// checkRequest refuses what no password check should see: an empty user
// name, another audience, a stale or missing timestamp, a replay.
func (s *Server) checkRequest(ctx context.Context, req rst) *trustFault {
	if req.username == "" || req.password == "" || len(req.username) > maxLoginLength {
		return &trustFault{sender: true, ns: nsTrust13, code: "FailedAuthentication", reason: "a user name and password are required"}
	}
	if req.appliesTo != MicrosoftOnline {
		// WS-Trust 1.3 §11: InvalidScope, "the request scope is invalid".
		return &trustFault{sender: true, ns: nsTrust13, code: "InvalidScope", reason: "tokens are issued to " + MicrosoftOnline + " only; the request asked for " + quote(req.appliesTo)}
	}
	now := s.d.Clock.Now()
	if req.created.IsZero() || req.expires.IsZero() || req.messageID == "" || len(req.messageID) > 200 {
		return invalidRequest("a wsu:Timestamp (Created and Expires) and a wsa:MessageID are required")
	}
	if req.created.After(now.Add(s.o.Skew)) || now.Sub(req.created) > maxMessageAge+s.o.Skew || !now.Before(req.expires.Add(s.o.Skew)) {
		return &trustFault{sender: true, ns: nsWSSE, code: "MessageExpired", reason: "the message timestamp is outside the accepted window"}
	}
	fresh, err := s.d.Store.AddItem(ctx, "wstrust:msg:"+req.messageID, []byte{1}, now.Add(maxMessageAge+2*s.o.Skew), now)
	if err != nil {
		s.d.Log.Error("remember WS-Trust message id", "err", err)
		return &trustFault{ns: nsTrust13, code: "RequestFailed", reason: "the request could not be processed"}
	}
	if !fresh {
		return invalidRequest("this message was already received (replayed wsa:MessageID)")
	}
	return nil
}

// passwordFault maps checkPassword's refusals to faults. A wrong password
// and an unknown user are the same fault; other reasons say what the
// login form would say.
func passwordFault(err error) *trustFault {
	f := &trustFault{sender: true, ns: nsTrust13, code: "FailedAuthentication"}
	switch {
	case errors.Is(err, errLockedOut):
		f.reason = "too many failed sign-ins; wait a few minutes, then try again"
	case errors.Is(err, ErrInvalidCredentials):
		f.reason = "the user name or password is incorrect"
	case errors.Is(err, ErrAccountDisabled):
		f.reason = "the account is disabled"
	case errors.Is(err, ErrAccountLocked):
		f.reason = "the account is locked in the directory"
	case errors.Is(err, ErrPasswordExpired):
		f.reason = "the password has expired"
	case errors.Is(err, ErrNotProvisioned):
		f.reason = "the account is not set up for Microsoft 365"
	default:
		return &trustFault{ns: nsTrust13, code: "RequestFailed", reason: "sign-in is unavailable right now"}
	}
	return f
}

// insideCorporateNetwork reports whether addr is in Options.CorporateNetworks.
func (s *Server) insideCorporateNetwork(addr string) bool {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return false
	}
	for _, p := range s.o.CorporateNetworks {
		if p.Contains(ip.Unmap()) {
			return true
		}
	}
	return false
}

// envelope starts a SOAP 1.2 response relating to messageID.
func envelope(action, messageID string) (*etree.Document, *etree.Element, *etree.Element) {
	doc := etree.NewDocument()
	env := doc.CreateElement("s:Envelope")
	env.CreateAttr("xmlns:s", nsSOAP12)
	env.CreateAttr("xmlns:a", nsAddressing)
	h := env.CreateElement("s:Header")
	act := h.CreateElement("a:Action")
	act.CreateAttr("s:mustUnderstand", "1")
	act.SetText(action)
	if messageID != "" {
		h.CreateElement("a:RelatesTo").SetText(messageID)
	}
	return doc, h, env.CreateElement("s:Body")
}

// writeRSTR answers a WS-Trust request: 1.3 wraps the RSTR in a
// collection (MSAL reads it there), 2005 sends it bare.
func (s *Server) writeRSTR(w http.ResponseWriter, req rst, r *etree.Element) error {
	doc, h, body := envelope(req.version.replyAction, req.messageID)
	now := s.d.Clock.Now()
	sec := h.CreateElement("o:Security")
	sec.CreateAttr("s:mustUnderstand", "1")
	sec.CreateAttr("xmlns:o", nsWSSE)
	ts := sec.CreateElement("u:Timestamp")
	ts.CreateAttr("xmlns:u", nsWSU)
	ts.CreateAttr("u:Id", "_0")
	ts.CreateElement("u:Created").SetText(xmlTime(now))
	ts.CreateElement("u:Expires").SetText(xmlTime(now.Add(maxMessageAge)))
	if req.version == trust13 {
		c := body.CreateElement("trust:RequestSecurityTokenResponseCollection")
		c.CreateAttr("xmlns:trust", nsTrust13)
		c.AddChild(r)
	} else {
		body.AddChild(r)
	}
	out, err := doc.WriteToBytes()
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/soap+xml; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(out)
	return nil
}

// writeFault answers with a SOAP 1.2 fault: Sender faults are 400 and
// Receiver faults 500, as the SOAP 1.2 HTTP binding says (Part 2 §7.5.1).
func (s *Server) writeFault(w http.ResponseWriter, messageID string, f *trustFault) {
	doc, _, body := envelope(nsAddressing+"/soap/fault", messageID)
	fe := body.CreateElement("s:Fault")
	code := fe.CreateElement("s:Code")
	status, top := http.StatusInternalServerError, "s:Receiver"
	if f.sender {
		status, top = http.StatusBadRequest, "s:Sender"
	}
	code.CreateElement("s:Value").SetText(top)
	sub := code.CreateElement("s:Subcode").CreateElement("s:Value")
	sub.CreateAttr("xmlns:f", f.ns)
	sub.SetText("f:" + f.code)
	txt := fe.CreateElement("s:Reason").CreateElement("s:Text")
	txt.CreateAttr("xml:lang", "en")
	txt.SetText(f.reason)
	out, err := doc.WriteToBytes()
	if err != nil {
		s.d.Log.Error("write SOAP fault", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/soap+xml; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(out)
}
