package sso

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/beevik/etree"
)

// Namespaces and fixed values of the tokens Entra accepts.
const (
	MicrosoftOnline = "urn:federation:MicrosoftOnline"

	nsSAML11     = "urn:oasis:names:tc:SAML:1.0:assertion"
	nsSAML2      = "urn:oasis:names:tc:SAML:2.0:assertion"
	nsSAMLP      = "urn:oasis:names:tc:SAML:2.0:protocol"
	nsTrust      = "http://schemas.xmlsoap.org/ws/2005/02/trust"
	nsPolicy     = "http://schemas.xmlsoap.org/ws/2004/09/policy"
	nsAddressing = "http://www.w3.org/2005/08/addressing"
	nsWSU        = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"

	claimsUPN    = "http://schemas.xmlsoap.org/claims"
	claimsMS     = "http://schemas.microsoft.com/claims"
	claimsMS2012 = "http://schemas.microsoft.com/ws/2012/01"
	// amrPassword is the authnmethodsreferences value for a password, as
	// AD FS sends it.
	amrPassword       = "http://schemas.microsoft.com/ws/2008/06/identity/authenticationmethod/password"
	claimsImmutableID = "http://schemas.microsoft.com/LiveID/Federation/2008/05"

	amPassword        = "urn:oasis:names:tc:SAML:1.0:am:password"
	acPasswordTLS     = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
	acPassword        = "urn:oasis:names:tc:SAML:2.0:ac:classes:Password"
	acUnspecified     = "urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified"
	nameIDPersistent  = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
	statusSuccess     = "urn:oasis:names:tc:SAML:2.0:status:Success"
	statusRequester   = "urn:oasis:names:tc:SAML:2.0:status:Requester"
	statusResponder   = "urn:oasis:names:tc:SAML:2.0:status:Responder"
	statusNoAuthnCtx  = "urn:oasis:names:tc:SAML:2.0:status:NoAuthnContext"
	statusRequestDeny = "urn:oasis:names:tc:SAML:2.0:status:RequestDenied"
)

// Identity is who signed in, as Entra knows them: the provisioned user's
// onPremisesImmutableId and userPrincipalName.
type Identity struct {
	ImmutableID string
	UPN         string
	DisplayName string
	DN          string
}

// Grant is one token to issue.
type Grant struct {
	Identity     Identity
	AuthnInstant time.Time
	Now          time.Time
	Lifetime     time.Duration // validity after Now
	Skew         time.Duration // NotBefore is Now-Skew
	// InsideCorporateNetwork says the person signed in from one of the
	// corporate networks (Options.CorporateNetworks); Entra's Conditional
	// Access reads it as a trusted location.
	InsideCorporateNetwork bool
}

// tokenBuilder makes signed assertions.
type tokenBuilder struct {
	issuer string
	signer signer
	random io.Reader
}

// saml11 builds the signed SAML 1.1 assertion a WS-Federation RSTR wraps
// (what AD FS and PingFederate send to login.srf).
func (b tokenBuilder) saml11(g Grant) (*etree.Element, error) {
	id, err := newID(b.random)
	if err != nil {
		return nil, err
	}
	a := etree.NewElement("saml:Assertion")
	a.CreateAttr("xmlns:saml", nsSAML11)
	a.CreateAttr("MajorVersion", "1")
	a.CreateAttr("MinorVersion", "1")
	a.CreateAttr("AssertionID", id)
	a.CreateAttr("Issuer", b.issuer)
	a.CreateAttr("IssueInstant", xmlTime(g.Now))
	cond := a.CreateElement("saml:Conditions")
	cond.CreateAttr("NotBefore", xmlTime(g.Now.Add(-g.Skew)))
	cond.CreateAttr("NotOnOrAfter", xmlTime(g.Now.Add(g.Lifetime)))
	cond.CreateElement("saml:AudienceRestrictionCondition").CreateElement("saml:Audience").SetText(MicrosoftOnline)
	st := a.CreateElement("saml:AttributeStatement")
	subject11(st, g.Identity.ImmutableID)
	attr11(st, "UPN", claimsUPN, g.Identity.UPN)
	attr11(st, "ImmutableID", claimsImmutableID, g.Identity.ImmutableID)
	attr11(st, "insidecorporatenetwork", claimsMS2012, strconv.FormatBool(g.InsideCorporateNetwork))
	attr11(st, "authnmethodsreferences", claimsMS, amrPassword)
	as := a.CreateElement("saml:AuthenticationStatement")
	as.CreateAttr("AuthenticationMethod", amPassword)
	as.CreateAttr("AuthenticationInstant", xmlTime(g.AuthnInstant))
	subject11(as, g.Identity.ImmutableID)
	return b.signer.sign(a, "AssertionID", "")
}

func subject11(parent *etree.Element, nameID string) {
	s := parent.CreateElement("saml:Subject")
	n := s.CreateElement("saml:NameIdentifier")
	n.CreateAttr("Format", "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified")
	n.SetText(nameID)
	s.CreateElement("saml:SubjectConfirmation").CreateElement("saml:ConfirmationMethod").SetText("urn:oasis:names:tc:SAML:1.0:cm:bearer")
}

func attr11(parent *etree.Element, name, ns, value string) {
	at := parent.CreateElement("saml:Attribute")
	at.CreateAttr("AttributeName", name)
	at.CreateAttr("AttributeNamespace", ns)
	at.CreateElement("saml:AttributeValue").SetText(value)
}

// rstr wraps a SAML 1.1 assertion in a WS-Trust 2005 RequestSecurityTokenResponse,
// the wresult of a WS-Federation sign-in response.
func rstr(assertion *etree.Element, g Grant) (string, error) {
	doc := etree.NewDocument()
	doc.SetRoot(rstrElement(assertion, g, trust2005))
	s, err := doc.WriteToString()
	if err != nil {
		return "", fmt.Errorf("write RSTR: %w", err)
	}
	return s, nil
}

// rstrElement is the RequestSecurityTokenResponse of either WS-Trust
// version around a SAML 1.1 assertion: the passive profile's wresult and
// the active profile's SOAP answer are the same token.
func rstrElement(assertion *etree.Element, g Grant, v trustVersion) *etree.Element {
	r := etree.NewElement("t:RequestSecurityTokenResponse")
	r.CreateAttr("xmlns:t", v.ns)
	lt := r.CreateElement("t:Lifetime")
	c := lt.CreateElement("wsu:Created")
	c.CreateAttr("xmlns:wsu", nsWSU)
	c.SetText(xmlTime(g.Now))
	e := lt.CreateElement("wsu:Expires")
	e.CreateAttr("xmlns:wsu", nsWSU)
	e.SetText(xmlTime(g.Now.Add(g.Lifetime)))
	at := r.CreateElement("wsp:AppliesTo")
	at.CreateAttr("xmlns:wsp", nsPolicy)
	epr := at.CreateElement("wsa:EndpointReference")
	epr.CreateAttr("xmlns:wsa", nsAddressing)
	epr.CreateElement("wsa:Address").SetText(MicrosoftOnline)
	r.CreateElement("t:RequestedSecurityToken").AddChild(assertion)
	r.CreateElement("t:TokenType").SetText(nsSAML11)
	r.CreateElement("t:RequestType").SetText(v.ns + "/Issue")
	r.CreateElement("t:KeyType").SetText(v.bearer)
	return r
}

// saml2Target is where and to what a SAML 2.0 Response answers.
type saml2Target struct {
	ACS          string
	InResponseTo string // "" for IdP-initiated
	AuthnContext string // the class reference asserted
	SessionIndex string
}

// saml2Assertion builds the signed SAML 2.0 assertion: NameID persistent =
// ImmutableID, attribute IDPEmail = UPN.
func (b tokenBuilder) saml2Assertion(g Grant, t saml2Target) (*etree.Element, error) {
	id, err := newID(b.random)
	if err != nil {
		return nil, err
	}
	a := etree.NewElement("saml:Assertion")
	a.CreateAttr("xmlns:saml", nsSAML2)
	a.CreateAttr("ID", id)
	a.CreateAttr("Version", "2.0")
	a.CreateAttr("IssueInstant", xmlTime(g.Now))
	a.CreateElement("saml:Issuer").SetText(b.issuer)
	sub := a.CreateElement("saml:Subject")
	n := sub.CreateElement("saml:NameID")
	n.CreateAttr("Format", nameIDPersistent)
	n.SetText(g.Identity.ImmutableID)
	sc := sub.CreateElement("saml:SubjectConfirmation")
	sc.CreateAttr("Method", "urn:oasis:names:tc:SAML:2.0:cm:bearer")
	scd := sc.CreateElement("saml:SubjectConfirmationData")
	if t.InResponseTo != "" {
		scd.CreateAttr("InResponseTo", t.InResponseTo)
	}
	scd.CreateAttr("NotOnOrAfter", xmlTime(g.Now.Add(g.Lifetime)))
	scd.CreateAttr("Recipient", t.ACS)
	cond := a.CreateElement("saml:Conditions")
	cond.CreateAttr("NotBefore", xmlTime(g.Now.Add(-g.Skew)))
	cond.CreateAttr("NotOnOrAfter", xmlTime(g.Now.Add(g.Lifetime)))
	cond.CreateElement("saml:AudienceRestriction").CreateElement("saml:Audience").SetText(MicrosoftOnline)
	as := a.CreateElement("saml:AuthnStatement")
	as.CreateAttr("AuthnInstant", xmlTime(g.AuthnInstant))
	if t.SessionIndex != "" {
		as.CreateAttr("SessionIndex", t.SessionIndex)
	}
	as.CreateElement("saml:AuthnContext").CreateElement("saml:AuthnContextClassRef").SetText(t.AuthnContext)
	at := a.CreateElement("saml:AttributeStatement").CreateElement("saml:Attribute")
	at.CreateAttr("Name", "IDPEmail")
	at.CreateElement("saml:AttributeValue").SetText(g.Identity.UPN)
	return b.signer.sign(a, "ID", "Issuer")
}

// saml2Response wraps an assertion (nil for a failure) in a Response with
// the given status; signResponse signs the Response as well.
func (b tokenBuilder) saml2Response(now time.Time, t saml2Target, assertion *etree.Element, status, subStatus, message string, signResponse bool) (string, error) {
	id, err := newID(b.random)
	if err != nil {
		return "", err
	}
	r := etree.NewElement("samlp:Response")
	r.CreateAttr("xmlns:samlp", nsSAMLP)
	r.CreateAttr("xmlns:saml", nsSAML2)
	r.CreateAttr("ID", id)
	r.CreateAttr("Version", "2.0")
	r.CreateAttr("IssueInstant", xmlTime(now))
	r.CreateAttr("Destination", t.ACS)
	if t.InResponseTo != "" {
		r.CreateAttr("InResponseTo", t.InResponseTo)
	}
	r.CreateElement("saml:Issuer").SetText(b.issuer)
	st := r.CreateElement("samlp:Status")
	code := st.CreateElement("samlp:StatusCode")
	code.CreateAttr("Value", status)
	if subStatus != "" {
		code.CreateElement("samlp:StatusCode").CreateAttr("Value", subStatus)
	}
	if message != "" {
		st.CreateElement("samlp:StatusMessage").SetText(message)
	}
	if assertion != nil {
		r.AddChild(assertion)
	}
	if signResponse {
		if r, err = b.signer.sign(r, "ID", "Issuer"); err != nil {
			return "", err
		}
	}
	doc := etree.NewDocument()
	doc.SetRoot(r)
	return doc.WriteToString()
}
