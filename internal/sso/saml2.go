package sso

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/beevik/etree"
)

// Limits on inbound SAML messages.
const (
	maxSAMLMessage = 32 << 10 // decoded (and inflated) bytes
	maxRelayState  = 1024
	maxRequestAge  = 10 * time.Minute
)

var errBadRequest = errors.New("bad SAML request")

// inbound is an AuthnRequest or LogoutRequest read from either binding.
type inbound struct {
	root       *etree.Element
	relayState string
}

// readSAMLMessage decodes SAMLRequest from the HTTP-Redirect binding
// (deflated, in the query) or HTTP-POST binding (form), refusing anything
// oversized, carrying a DTD or entity, or not the one expected element.
func readSAMLMessage(r *http.Request, want string) (inbound, error) {
	raw := r.Form.Get("SAMLRequest")
	if raw == "" {
		return inbound{}, fmt.Errorf("%w: no SAMLRequest", errBadRequest)
	}
	if len(raw) > maxSAMLMessage*2 {
		return inbound{}, fmt.Errorf("%w: SAMLRequest is larger than %d bytes", errBadRequest, maxSAMLMessage)
	}
	dec, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(raw), ""))
	if err != nil {
		return inbound{}, fmt.Errorf("%w: SAMLRequest is not base64", errBadRequest)
	}
	if r.Method == http.MethodGet {
		fr := flate.NewReader(bytes.NewReader(dec))
		dec, err = io.ReadAll(io.LimitReader(fr, maxSAMLMessage+1))
		if err != nil {
			return inbound{}, fmt.Errorf("%w: SAMLRequest does not inflate", errBadRequest)
		}
	}
	if len(dec) > maxSAMLMessage {
		return inbound{}, fmt.Errorf("%w: SAMLRequest is larger than %d bytes", errBadRequest, maxSAMLMessage)
	}
	root, err := parseStrictXML(dec)
	if err != nil {
		return inbound{}, err
	}
	if root.Tag != want || root.NamespaceURI() != nsSAMLP {
		return inbound{}, fmt.Errorf("%w: expected a samlp:%s", errBadRequest, want)
	}
	// Signature wrapping: a second copy of the message (or of its Issuer)
	// hidden inside it is refused outright, so there is never a question of
	// which one was meant.
	if countTag(root, want) != 1 || countTag(root, "Issuer") > 1 || countTag(root, "Signature") > len(root.SelectElements("Signature")) || len(root.SelectElements("Signature")) > 1 {
		return inbound{}, fmt.Errorf("%w: a nested %s, Issuer or Signature (signature wrapping)", errBadRequest, want)
	}
	rs := r.Form.Get("RelayState")
	if len(rs) > maxRelayState {
		return inbound{}, fmt.Errorf("%w: RelayState is longer than %d bytes", errBadRequest, maxRelayState)
	}
	return inbound{root: root, relayState: rs}, nil
}

// countTag counts el and its descendants with the local name tag.
func countTag(el *etree.Element, tag string) int {
	n := 0
	if el.Tag == tag {
		n++
	}
	for _, c := range el.ChildElements() {
		n += countTag(c, tag)
	}
	return n
}

// parseStrictXML parses one document with no DTD, entity or processing
// instruction other than the XML declaration.
func parseStrictXML(b []byte) (*etree.Element, error) {
	upper := bytes.ToUpper(b)
	if bytes.Contains(upper, []byte("<!DOCTYPE")) || bytes.Contains(upper, []byte("<!ENTITY")) {
		return nil, fmt.Errorf("%w: a DTD or entity declaration is not allowed", errBadRequest)
	}
	doc := etree.NewDocument()
	doc.ReadSettings = etree.ReadSettings{Permissive: false}
	if err := doc.ReadFromBytes(b); err != nil {
		return nil, fmt.Errorf("%w: not well-formed XML", errBadRequest)
	}
	for _, t := range doc.Child {
		switch t := t.(type) {
		case *etree.Directive:
			return nil, fmt.Errorf("%w: a directive is not allowed", errBadRequest)
		case *etree.ProcInst:
			if t.Target != "xml" {
				return nil, fmt.Errorf("%w: a processing instruction is not allowed", errBadRequest)
			}
		}
	}
	if doc.Root() == nil {
		return nil, fmt.Errorf("%w: empty document", errBadRequest)
	}
	return doc.Root(), nil
}

func (s *Server) ssoURL() string { return s.o.BaseURL + "/idp/SSO.saml2" }

// serveSAML2 is /idp/SSO.saml2, SP-initiated SAML 2.0 sign-in.
func (s *Server) serveSAML2(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.problem(w, http.StatusBadRequest, "Sign-in failed", "The sign-in request could not be read.", "")
		return
	}
	in, err := readSAMLMessage(r, "AuthnRequest")
	if err != nil {
		s.badSAML(w, r, err)
		return
	}
	f, err := s.authnRequest(in)
	if err != nil {
		s.badSAML(w, r, err)
		return
	}
	if ok, err := s.d.Store.AddItem(r.Context(), "request:"+f.RequestID, nil, s.d.Clock.Now().Add(2*maxRequestAge), s.d.Clock.Now()); err != nil || !ok {
		if err != nil {
			s.d.Log.Error("replay check", "err", err)
		}
		s.badSAML(w, r, fmt.Errorf("%w: request id %s was already answered (replayed request)", errBadRequest, quote(f.RequestID)))
		return
	}
	if f.AuthnContext == "" {
		// RequestedAuthnContext that a password sign-in cannot satisfy: say
		// so to the service provider, as SAML 2.0 core §3.3.2.2.1 asks.
		s.samlError(w, f, statusResponder, statusNoAuthnCtx, "This identity provider signs in with a password only.")
		return
	}
	if in.root.SelectAttrValue("IsPassive", "") == "true" {
		if ss, _, ok := s.currentSession(r); ok {
			s.complete(w, r, f, ss, true)
			return
		}
		s.samlError(w, f, statusResponder, "urn:oasis:names:tc:SAML:2.0:status:NoPassive", "No session; a passive sign-in is not possible.")
		return
	}
	s.begin(w, r, f)
}

func (s *Server) badSAML(w http.ResponseWriter, r *http.Request, err error) {
	s.d.Log.Warn("refused SAML request", "from", s.clientAddr(r), "reason", err)
	s.problem(w, http.StatusBadRequest, "Sign-in failed", "The sign-in request was refused.", strings.TrimPrefix(err.Error(), errBadRequest.Error()+": "))
}

// authnRequest checks an AuthnRequest and turns it into a flow.
func (s *Server) authnRequest(in inbound) (flow, error) {
	a := in.root
	id := a.SelectAttrValue("ID", "")
	if id == "" || len(id) > 256 || strings.ContainsAny(id, " <>&\"'") {
		return flow{}, fmt.Errorf("%w: the AuthnRequest has no usable ID", errBadRequest)
	}
	if v := a.SelectAttrValue("Version", ""); v != "2.0" {
		return flow{}, fmt.Errorf("%w: SAML version %s; only 2.0 is served", errBadRequest, quote(v))
	}
	if iss := elementText(a, "./Issuer"); iss != MicrosoftOnline {
		return flow{}, fmt.Errorf("%w: issuer %s; this service signs in to %s only", errBadRequest, quote(iss), MicrosoftOnline)
	}
	if d := a.SelectAttrValue("Destination", ""); d != "" && d != s.ssoURL() {
		return flow{}, fmt.Errorf("%w: Destination %s is not %s", errBadRequest, quote(d), s.ssoURL())
	}
	if t, err := time.Parse(time.RFC3339Nano, a.SelectAttrValue("IssueInstant", "")); err != nil {
		return flow{}, fmt.Errorf("%w: IssueInstant is missing or malformed", errBadRequest)
	} else if now := s.d.Clock.Now(); t.After(now.Add(s.o.Skew)) || now.Sub(t) > maxRequestAge {
		return flow{}, fmt.Errorf("%w: IssueInstant %s is too old or in the future", errBadRequest, t.UTC().Format(time.RFC3339))
	}
	acs := a.SelectAttrValue("AssertionConsumerServiceURL", "")
	if acs == "" {
		acs = s.o.ReplyURLs[0]
	}
	if !s.replyAllowed(acs) {
		return flow{}, fmt.Errorf("%w: the AssertionConsumerServiceURL %s is not in sso.replyURLs", errBadRequest, quote(acs))
	}
	if b := a.SelectAttrValue("ProtocolBinding", ""); b != "" && b != "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" {
		return flow{}, fmt.Errorf("%w: ProtocolBinding %s; only HTTP-POST is served", errBadRequest, quote(b))
	}
	if p := a.FindElement("./NameIDPolicy"); p != nil {
		if f := p.SelectAttrValue("Format", ""); f != "" && f != nameIDPersistent && f != "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified" {
			return flow{}, fmt.Errorf("%w: NameID format %s; only persistent is served", errBadRequest, quote(f))
		}
	}
	f := flow{Protocol: "saml2", RequestID: id, ACS: acs, RelayState: in.relayState,
		ForceAuthn: a.SelectAttrValue("ForceAuthn", "") == "true", Hint: loginHint(elementText(a, "./Subject/NameID"))}
	f.AuthnContext = s.authnContext(a.FindElement("./RequestedAuthnContext"))
	return f, nil
}

// authnContext picks the class to assert, or "" when the request's
// RequestedAuthnContext cannot be met by a password sign-in.
func (s *Server) authnContext(req *etree.Element) string {
	ours := acPassword
	if s.o.SecureCookies {
		ours = acPasswordTLS
	}
	if req == nil {
		return ours
	}
	comparison := req.SelectAttrValue("Comparison", "exact")
	for _, c := range req.FindElements("./AuthnContextClassRef") {
		ref := strings.TrimSpace(c.Text())
		switch comparison {
		case "exact":
			if ref == acPassword || ref == acUnspecified || (ref == acPasswordTLS && s.o.SecureCookies) {
				return ref
			}
		case "minimum":
			if ref == acPassword || ref == acUnspecified || ref == acPasswordTLS && s.o.SecureCookies {
				return ours
			}
		case "maximum":
			if ref == acPasswordTLS || ref == acPassword && !s.o.SecureCookies {
				return ours
			}
		}
	}
	return ""
}

func elementText(el *etree.Element, path string) string {
	if e := el.FindElement(path); e != nil {
		return strings.TrimSpace(e.Text())
	}
	return ""
}

// serveIdPInitiated is /idp/startSSO.ping?PartnerSpId=urn:federation:MicrosoftOnline:
// sign in here first, then post an unsolicited Response to the ACS.
func (s *Server) serveIdPInitiated(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if sp := q.Get("PartnerSpId"); sp != MicrosoftOnline {
		s.problem(w, http.StatusBadRequest, "Sign-in failed", "Unknown service provider "+quote(sp)+".", "This service signs in to "+MicrosoftOnline+" only.")
		return
	}
	rs := q.Get("TargetResource")
	if rs == "" {
		rs = q.Get("RelayState")
	}
	if rs != "" && !s.relayAllowed(rs) {
		s.d.Log.Warn("refused IdP-initiated RelayState not on the allow-list", "relayState", rs, "from", s.clientAddr(r))
		s.problem(w, http.StatusBadRequest, "Sign-in failed", "The request asks to send you somewhere this service does not trust.", "The address is not in sso.relayStates.")
		return
	}
	s.begin(w, r, flow{Protocol: "saml2", ACS: s.o.ReplyURLs[0], RelayState: rs, AuthnContext: s.authnContext(nil), ForceAuthn: q.Get("ForceAuthn") == "true"})
}

func (s *Server) relayAllowed(u string) bool {
	for _, a := range s.o.RelayStates {
		if a == u {
			return true
		}
	}
	return false
}

// completeSAML2 posts a Response with a signed assertion to the ACS.
func (s *Server) completeSAML2(w http.ResponseWriter, f flow, ss session) error {
	g := s.grant(ss)
	t := saml2Target{ACS: f.ACS, InResponseTo: f.RequestID, AuthnContext: f.AuthnContext}
	a, err := s.tokens.saml2Assertion(g, t)
	if err != nil {
		return err
	}
	resp, err := s.tokens.saml2Response(g.Now, t, a, statusSuccess, "", "", s.o.SignResponse)
	if err != nil {
		return err
	}
	s.postSAML(w, f, "SAMLResponse", resp, "Signed in as "+ss.Identity.UPN)
	return nil
}

// samlError answers the service provider with a failed status.
func (s *Server) samlError(w http.ResponseWriter, f flow, status, sub, msg string) {
	resp, err := s.tokens.saml2Response(s.d.Clock.Now(), saml2Target{ACS: f.ACS, InResponseTo: f.RequestID}, nil, status, sub, msg, true)
	if err != nil {
		s.d.Log.Error("SAML error response", "err", err)
		s.problem(w, http.StatusInternalServerError, "Sign-in failed", msg, "")
		return
	}
	s.postSAML(w, f, "SAMLResponse", resp, "Returning to Microsoft 365")
}

func (s *Server) postSAML(w http.ResponseWriter, f flow, name, xml, heading string) {
	fields := []field{{name, base64.StdEncoding.EncodeToString([]byte(xml))}}
	if f.RelayState != "" {
		fields = append(fields, field{"RelayState", f.RelayState})
	}
	s.render(w, http.StatusOK, "autopost", page{Title: "Signing in", Heading: heading, Action: f.ACS, Fields: fields})
}
