package sso

import (
	"net/http"

	"github.com/beevik/etree"
)

// Namespaces of the MEX document (WSDL 1.1 with WS-Policy assertions).
const (
	nsWSDL     = "http://schemas.xmlsoap.org/wsdl/"
	nsSOAP12WS = "http://schemas.xmlsoap.org/wsdl/soap12/"
	nsSP13     = "http://docs.oasis-open.org/ws-sx/ws-securitypolicy/200702"
	nsSP2005   = "http://schemas.xmlsoap.org/ws/2005/07/securitypolicy"
	nsWSAW     = "http://www.w3.org/2006/05/addressing/wsdl"
	soapHTTP   = "http://schemas.xmlsoap.org/soap/http"
)

// mexBinding is one usernamemixed endpoint as MEX describes it.
type mexBinding struct {
	name    string // binding name; its policy is name+"_policy"
	version trustVersion
	sp      string // the WS-SecurityPolicy namespace of that WS-Trust version
	tokens  string // SignedEncryptedSupportingTokens (1.3) or SignedSupportingTokens (2005)
}

var mexBindings = []mexBinding{
	{name: "UserNameWSTrustBinding_IWSTrust13Async", version: trust13, sp: nsSP13, tokens: "SignedEncryptedSupportingTokens"},
	{name: "UserNameWSTrustBinding_IWSTrustFeb2005Async", version: trust2005, sp: nsSP2005, tokens: "SignedSupportingTokens"},
}

// serveMEX is /idp/mex: the WS-MetadataExchange document rich clients read
// to find the usernamemixed endpoint (MSAL takes the WS-Trust 1.3 one when
// both are offered). It describes policies (HTTPS transport, a username
// token), bindings naming the policy and the WS-Trust version's action, and
// ports with the endpoint address.
func (s *Server) serveMEX(w http.ResponseWriter, _ *http.Request) {
	s.serveXML(w, "text/xml; charset=utf-8", s.mexDocument().WriteToBytes)
}

func (s *Server) mexDocument() *etree.Document {
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="utf-8"`)
	d := doc.CreateElement("wsdl:definitions")
	d.CreateAttr("name", "SecurityTokenService")
	d.CreateAttr("targetNamespace", "http://tempuri.org/")
	d.CreateAttr("xmlns:wsdl", nsWSDL)
	d.CreateAttr("xmlns:tns", "http://tempuri.org/")
	d.CreateAttr("xmlns:soap12", nsSOAP12WS)
	d.CreateAttr("xmlns:wsp", nsPolicy)
	d.CreateAttr("xmlns:wsu", nsWSU)
	d.CreateAttr("xmlns:wsa10", nsAddressing)
	d.CreateAttr("xmlns:wsaw", nsWSAW)
	for _, b := range mexBindings {
		mexPolicy(d, b)
	}
	for _, b := range mexBindings {
		bind := d.CreateElement("wsdl:binding")
		bind.CreateAttr("name", b.name)
		bind.CreateAttr("type", "tns:IWSTrust"+b.version.name)
		bind.CreateElement("wsp:PolicyReference").CreateAttr("URI", "#"+b.name+"_policy")
		bind.CreateElement("soap12:binding").CreateAttr("transport", soapHTTP)
		op := bind.CreateElement("wsdl:operation")
		op.CreateAttr("name", "Issue")
		so := op.CreateElement("soap12:operation")
		so.CreateAttr("soapAction", b.version.issueAction)
		so.CreateAttr("style", "document")
		for _, io := range []string{"wsdl:input", "wsdl:output"} {
			op.CreateElement(io).CreateElement("soap12:body").CreateAttr("use", "literal")
		}
	}
	svc := d.CreateElement("wsdl:service")
	svc.CreateAttr("name", "SecurityTokenService")
	for _, b := range mexBindings {
		port := svc.CreateElement("wsdl:port")
		port.CreateAttr("name", b.name)
		port.CreateAttr("binding", "tns:"+b.name)
		port.CreateElement("soap12:address").CreateAttr("location", s.o.BaseURL+ActivePath)
		port.CreateElement("wsa10:EndpointReference").CreateElement("wsa10:Address").SetText(s.o.BaseURL + ActivePath)
	}
	return doc
}

// mexPolicy writes a usernamemixed policy: HTTPS transport with a
// timestamp, a plain-text username token inside it.
func mexPolicy(d *etree.Element, b mexBinding) {
	pol := d.CreateElement("wsp:Policy")
	pol.CreateAttr("wsu:Id", b.name+"_policy")
	all := pol.CreateElement("wsp:ExactlyOne").CreateElement("wsp:All")
	tb := all.CreateElement("sp:TransportBinding")
	// The namespace is declared on each assertion, as AD FS does: clients
	// (MSAL among them) look for it there.
	tb.CreateAttr("xmlns:sp", b.sp)
	tbp := tb.CreateElement("wsp:Policy")
	tbp.CreateElement("sp:TransportToken").CreateElement("wsp:Policy").CreateElement("sp:HttpsToken").CreateAttr("RequireClientCertificate", "false")
	tbp.CreateElement("sp:AlgorithmSuite").CreateElement("wsp:Policy").CreateElement("sp:Basic256")
	tbp.CreateElement("sp:Layout").CreateElement("wsp:Policy").CreateElement("sp:Strict")
	tbp.CreateElement("sp:IncludeTimestamp")
	st := all.CreateElement("sp:" + b.tokens)
	st.CreateAttr("xmlns:sp", b.sp)
	ut := st.CreateElement("wsp:Policy").CreateElement("sp:UsernameToken")
	ut.CreateAttr("sp:IncludeToken", b.sp+"/IncludeToken/AlwaysToRecipient")
	ut.CreateElement("wsp:Policy").CreateElement("sp:WssUsernameToken10")
	all.CreateElement("wsaw:UsingAddressing")
}
