package sso

import (
	"net/http"

	"github.com/beevik/etree"
)

const (
	nsMetadata = "urn:oasis:names:tc:SAML:2.0:metadata"
	nsDSig     = "http://www.w3.org/2000/09/xmldsig#"
	nsFed      = "http://docs.oasis-open.org/wsfed/federation/200706"
	nsXSI      = "http://www.w3.org/2001/XMLSchema-instance"

	bindingRedirect = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
	bindingPOST     = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
)

// keyDescriptors publishes the current certificate and, during a
// rollover, the next one, so Entra (which reads metadata to roll over) and
// administrators see both.
func (s *Server) keyDescriptors(parent *etree.Element) {
	certs := []KeyPair{s.d.Keys.Current}
	if s.d.Keys.Next != nil {
		certs = append(certs, *s.d.Keys.Next)
	}
	for _, kp := range certs {
		kd := parent.CreateElement("md:KeyDescriptor")
		kd.CreateAttr("use", "signing")
		ki := kd.CreateElement("ds:KeyInfo")
		ki.CreateAttr("xmlns:ds", nsDSig)
		ki.CreateElement("ds:X509Data").CreateElement("ds:X509Certificate").SetText(kp.CertBase64())
	}
}

func (s *Server) entityDescriptor() (*etree.Element, error) {
	id, err := newID(s.d.Random)
	if err != nil {
		return nil, err
	}
	ed := etree.NewElement("md:EntityDescriptor")
	ed.CreateAttr("xmlns:md", nsMetadata)
	ed.CreateAttr("ID", id)
	ed.CreateAttr("entityID", s.o.Issuer)
	return ed, nil
}

// SAML2Metadata is the signed SAML 2.0 IdP metadata document.
func (s *Server) SAML2Metadata() ([]byte, error) {
	ed, err := s.entityDescriptor()
	if err != nil {
		return nil, err
	}
	idp := ed.CreateElement("md:IDPSSODescriptor")
	idp.CreateAttr("protocolSupportEnumeration", "urn:oasis:names:tc:SAML:2.0:protocol")
	idp.CreateAttr("WantAuthnRequestsSigned", "false")
	s.keyDescriptors(idp)
	for _, b := range []string{bindingRedirect, bindingPOST} {
		e := idp.CreateElement("md:SingleLogoutService")
		e.CreateAttr("Binding", b)
		e.CreateAttr("Location", s.o.BaseURL+"/idp/SLO.saml2")
	}
	idp.CreateElement("md:NameIDFormat").SetText(nameIDPersistent)
	for _, b := range []string{bindingRedirect, bindingPOST} {
		e := idp.CreateElement("md:SingleSignOnService")
		e.CreateAttr("Binding", b)
		e.CreateAttr("Location", s.ssoURL())
	}
	at := idp.CreateElement("saml:Attribute")
	at.CreateAttr("xmlns:saml", nsSAML2)
	at.CreateAttr("Name", "IDPEmail")
	return s.signedDocument(ed)
}

// WSFedMetadata is the signed WS-Federation metadata document.
func (s *Server) WSFedMetadata() ([]byte, error) {
	ed, err := s.entityDescriptor()
	if err != nil {
		return nil, err
	}
	rd := ed.CreateElement("md:RoleDescriptor")
	rd.CreateAttr("xmlns:xsi", nsXSI)
	rd.CreateAttr("xmlns:fed", nsFed)
	rd.CreateAttr("xsi:type", "fed:SecurityTokenServiceType")
	rd.CreateAttr("protocolSupportEnumeration", nsFed)
	s.keyDescriptors(rd)
	tt := rd.CreateElement("fed:TokenTypesOffered").CreateElement("fed:TokenType")
	tt.CreateAttr("Uri", "urn:oasis:names:tc:SAML:1.0:assertion")
	ct := rd.CreateElement("fed:ClaimTypesOffered")
	for _, c := range [][2]string{{claimsUPN + "/UPN", "UPN"}, {claimsImmutableID + "/ImmutableID", "ImmutableID"}} {
		e := ct.CreateElement("auth:ClaimType")
		e.CreateAttr("xmlns:auth", "http://docs.oasis-open.org/wsfed/authorization/200706")
		e.CreateAttr("Uri", c[0])
		e.CreateElement("auth:DisplayName").SetText(c[1])
	}
	ep := rd.CreateElement("fed:PassiveRequestorEndpoint").CreateElement("wsa:EndpointReference")
	ep.CreateAttr("xmlns:wsa", nsAddressing)
	ep.CreateElement("wsa:Address").SetText(s.o.BaseURL + "/idp/prp.wsf")
	return s.signedDocument(ed)
}

func (s *Server) signedDocument(el *etree.Element) ([]byte, error) {
	signed, err := s.tokens.signer.sign(el, "ID", signFirst)
	if err != nil {
		return nil, err
	}
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	doc.SetRoot(signed)
	return doc.WriteToBytes()
}

func (s *Server) serveSAML2Metadata(w http.ResponseWriter, _ *http.Request) {
	s.serveXML(w, "application/samlmetadata+xml", s.SAML2Metadata)
}

func (s *Server) serveWSFedMetadata(w http.ResponseWriter, _ *http.Request) {
	s.serveXML(w, "application/samlmetadata+xml", s.WSFedMetadata)
}

func (s *Server) serveXML(w http.ResponseWriter, contentType string, build func() ([]byte, error)) {
	b, err := build()
	if err != nil {
		s.d.Log.Error("metadata", "err", err)
		http.Error(w, "metadata unavailable", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", contentType)
	_, _ = w.Write(b)
}
