package sso

import (
	"fmt"
	"net/http"

	"github.com/beevik/etree"
)

// serveSLO is /idp/SLO.saml2: a LogoutRequest from the service provider
// ends the session and is answered with a signed LogoutResponse; without a
// request it is an IdP-initiated sign-out.
func (s *Server) serveSLO(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.problem(w, http.StatusBadRequest, "Sign-out failed", "The sign-out request could not be read.", "")
		return
	}
	if r.Form.Get("SAMLRequest") == "" {
		s.serveSignOutPage(w, r)
		return
	}
	in, err := readSAMLMessage(r, "LogoutRequest")
	if err == nil && elementText(in.root, "./Issuer") != MicrosoftOnline {
		err = fmt.Errorf("%w: issuer %s is not %s", errBadRequest, quote(elementText(in.root, "./Issuer")), MicrosoftOnline)
	}
	id := ""
	if err == nil {
		id = in.root.SelectAttrValue("ID", "")
		if id == "" || len(id) > 256 {
			err = fmt.Errorf("%w: the LogoutRequest has no usable ID", errBadRequest)
		}
	}
	if err == nil {
		now := s.d.Clock.Now()
		if ok, aerr := s.d.Store.AddItem(r.Context(), "request:"+id, nil, now.Add(2*maxRequestAge), now); aerr != nil || !ok {
			err = fmt.Errorf("%w: request id %s was already answered (replayed request)", errBadRequest, quote(id))
		}
	}
	if err != nil {
		s.badSAML(w, r, err)
		return
	}
	s.signOut(w, r, "saml2")
	resp, err := s.logoutResponse(id)
	if err != nil {
		s.d.Log.Error("LogoutResponse", "err", err)
		s.problem(w, http.StatusInternalServerError, "Sign-out", "You are signed out here, but Microsoft 365 could not be told.", "Close the browser to finish signing out.")
		return
	}
	s.postSAML(w, flow{ACS: s.o.ReplyURLs[0], RelayState: in.relayState}, "SAMLResponse", resp, "Signed out")
}

func (s *Server) logoutResponse(inResponseTo string) (string, error) {
	id, err := newID(s.d.Random)
	if err != nil {
		return "", err
	}
	r := etree.NewElement("samlp:LogoutResponse")
	r.CreateAttr("xmlns:samlp", nsSAMLP)
	r.CreateAttr("xmlns:saml", nsSAML2)
	r.CreateAttr("ID", id)
	r.CreateAttr("Version", "2.0")
	r.CreateAttr("IssueInstant", xmlTime(s.d.Clock.Now()))
	r.CreateAttr("Destination", s.o.ReplyURLs[0])
	r.CreateAttr("InResponseTo", inResponseTo)
	r.CreateElement("saml:Issuer").SetText(s.o.Issuer)
	r.CreateElement("samlp:Status").CreateElement("samlp:StatusCode").CreateAttr("Value", statusSuccess)
	signed, err := s.tokens.signer.sign(r, "ID", "Issuer")
	if err != nil {
		return "", err
	}
	doc := etree.NewDocument()
	doc.SetRoot(signed)
	return doc.WriteToString()
}
