package faketenant

import (
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/beevik/etree"
	"github.com/jonboulle/clockwork"
	dsig "github.com/russellhaering/goxmldsig"
)

// claimsIn is what a federated token asserts.
type claimsIn struct {
	protocol     string
	issuer       string
	nameID       string
	upn          string
	audiences    []string
	notBefore    time.Time
	notOnOrAfter time.Time
	recipient    string
	inResponseTo string
}

type signinError struct {
	code int
	msg  string
}

func (e *signinError) Error() string { return fmt.Sprintf("AADSTS%d: %s", e.code, e.msg) }

func sfail(code int, format string, args ...any) *signinError {
	return &signinError{code: code, msg: fmt.Sprintf(format, args...)}
}

// serveLoginSrf is POST /login.srf: the identity provider returns a WS-Fed
// RSTR (wresult, a SAML 1.1 assertion) or a SAML 2.0 Response (SAMLResponse).
func (t *Tenant) serveLoginSrf(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.ParseForm() != nil {
		t.errorPage(w, "", "", 900561, "The endpoint only accepts POST requests with a sign-in response.")
		return
	}
	var c *claimsIn
	var err error
	proto := "wsfed"
	switch {
	case r.PostForm.Get("wresult") != "":
		c, err = t.verifyWSFed(r.PostForm.Get("wresult"))
	case r.PostForm.Get("SAMLResponse") != "":
		proto = "saml"
		c, err = t.verifySAML2(r, r.PostForm.Get("SAMLResponse"))
	default:
		t.errorPage(w, "", "", 50008, "SAML token is invalid: the request carries neither wresult nor SAMLResponse.")
		return
	}
	if err == nil {
		var u *object
		if u, err = t.matchUser(c); err == nil {
			t.signedIn(w, proto, u)
			return
		}
	}
	var se *signinError
	if !errors.As(err, &se) {
		se = sfail(50008, "SAML token is invalid. %v", err)
	}
	upn := ""
	if c != nil {
		upn = c.upn
	}
	t.errorPage(w, proto, upn, se.code, se.msg)
}

// federationsFor returns the certificates of every federation whose
// issuerUri is issuer.
func (t *Tenant) federationsFor(issuer string) ([]*x509.Certificate, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	var certs []*x509.Certificate
	found := false
	for _, d := range t.dir.domains {
		if d.fed == nil {
			continue
		}
		if iss, _ := d.fed.props["issuerUri"].(string); iss == issuer {
			found = true
			for _, c := range []*x509.Certificate{d.fed.cert, d.fed.nextCert} {
				if c != nil {
					certs = append(certs, c)
				}
			}
		}
	}
	return certs, found
}

// verifySignature validates the enveloped signature of el against the
// federation's certificates and returns the signed copy, so claims are read
// only from what was signed.
func (t *Tenant) verifySignature(el *etree.Element, certs []*x509.Certificate, idAttr string) (*etree.Element, error) {
	if len(certs) == 0 {
		return nil, sfail(50008, "SAML token is invalid: the federation has no signing certificate.")
	}
	ctx := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: certs})
	ctx.IdAttribute = idAttr
	ctx.Clock = dsig.NewFakeClock(clockwork.NewFakeClockAt(t.wall.Now()))
	signed, err := ctx.Validate(el)
	if err != nil {
		return nil, sfail(50006, "Signature verification failed because of an invalid signature. (%v)", err)
	}
	return signed, nil
}

// verifyWSFed reads an RSTR carrying a SAML 1.1 assertion, as AD FS and
// PingFederate send to login.srf.
func (t *Tenant) verifyWSFed(wresult string) (*claimsIn, error) {
	doc := etree.NewDocument()
	if err := doc.ReadFromString(wresult); err != nil {
		return nil, sfail(50008, "SAML token is invalid: wresult is not XML.")
	}
	a := doc.FindElement("//Assertion")
	if a == nil || a.SelectAttrValue("MajorVersion", "") != "1" {
		return nil, sfail(50008, "SAML token is invalid: no SAML 1.1 assertion in the RSTR.")
	}
	issuer := a.SelectAttrValue("Issuer", "")
	certs, ok := t.federationsFor(issuer)
	if !ok {
		return nil, sfail(50107, "The requested federation realm object '%s' does not exist.", issuer)
	}
	signed, err := t.verifySignature(a, certs, "AssertionID")
	if err != nil {
		return nil, err
	}
	c := &claimsIn{protocol: "wsfed", issuer: issuer}
	if cond := signed.FindElement("./Conditions"); cond != nil {
		c.notBefore = parseXMLTime(cond.SelectAttrValue("NotBefore", ""))
		c.notOnOrAfter = parseXMLTime(cond.SelectAttrValue("NotOnOrAfter", ""))
		for _, aud := range cond.FindElements("./AudienceRestrictionCondition/Audience") {
			c.audiences = append(c.audiences, strings.TrimSpace(aud.Text()))
		}
	}
	for _, path := range []string{"./AttributeStatement/Subject/NameIdentifier", "./AuthenticationStatement/Subject/NameIdentifier"} {
		if n := signed.FindElement(path); n != nil && c.nameID == "" {
			c.nameID = strings.TrimSpace(n.Text())
		}
	}
	for _, attr := range signed.FindElements("./AttributeStatement/Attribute") {
		if v := attr.FindElement("./AttributeValue"); v != nil && strings.EqualFold(attr.SelectAttrValue("AttributeName", ""), "UPN") {
			c.upn = strings.TrimSpace(v.Text())
		}
	}
	return c, nil
}

// verifySAML2 reads a SAML 2.0 Response (HTTP-POST binding); the signature
// may cover the Response or the Assertion.
func (t *Tenant) verifySAML2(r *http.Request, encoded string) (*claimsIn, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(encoded), ""))
	if err != nil {
		return nil, sfail(50008, "SAML token is invalid: SAMLResponse is not base64.")
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil || doc.Root() == nil || doc.Root().Tag != "Response" {
		return nil, sfail(50008, "SAML token is invalid: SAMLResponse is not a SAML 2.0 Response.")
	}
	resp := doc.Root()
	if sc := resp.FindElement("./Status/StatusCode"); sc == nil || !strings.HasSuffix(sc.SelectAttrValue("Value", ""), ":Success") {
		return nil, sfail(50008, "SAML token is invalid: the identity provider did not report success.")
	}
	a := resp.FindElement("./Assertion")
	if a == nil {
		return nil, sfail(50008, "SAML token is invalid: the Response has no Assertion.")
	}
	issuer := elText(a, "./Issuer")
	certs, ok := t.federationsFor(issuer)
	if !ok {
		return nil, sfail(50107, "The requested federation realm object '%s' does not exist.", issuer)
	}
	if resp.FindElement("./Signature") != nil {
		signedResp, err := t.verifySignature(resp, certs, "ID")
		if err != nil {
			return nil, err
		}
		a = signedResp.FindElement("./Assertion")
	} else if a, err = t.verifySignature(a, certs, "ID"); err != nil {
		return nil, err
	}
	c := &claimsIn{protocol: "saml", issuer: issuer, nameID: elText(a, "./Subject/NameID")}
	if cond := a.FindElement("./Conditions"); cond != nil {
		c.notBefore = parseXMLTime(cond.SelectAttrValue("NotBefore", ""))
		c.notOnOrAfter = parseXMLTime(cond.SelectAttrValue("NotOnOrAfter", ""))
		for _, aud := range cond.FindElements("./AudienceRestriction/Audience") {
			c.audiences = append(c.audiences, strings.TrimSpace(aud.Text()))
		}
	}
	if scd := a.FindElement("./Subject/SubjectConfirmation/SubjectConfirmationData"); scd != nil {
		c.recipient = scd.SelectAttrValue("Recipient", "")
		c.inResponseTo = scd.SelectAttrValue("InResponseTo", "")
		if exp := parseXMLTime(scd.SelectAttrValue("NotOnOrAfter", "")); !exp.IsZero() && (c.notOnOrAfter.IsZero() || exp.Before(c.notOnOrAfter)) {
			c.notOnOrAfter = exp
		}
	}
	for _, attr := range a.FindElements("./AttributeStatement/Attribute") {
		if v := attr.FindElement("./AttributeValue"); v != nil && strings.EqualFold(attr.SelectAttrValue("Name", ""), "IDPEmail") {
			c.upn = strings.TrimSpace(v.Text())
		}
	}
	if c.recipient != "" && !strings.EqualFold(c.recipient, baseURL(r)+"/login.srf") && !strings.EqualFold(c.recipient, "https://login.microsoftonline.com/login.srf") {
		return nil, sfail(50008, "SAML token is invalid: the Recipient '%s' is not this sign-in endpoint.", c.recipient)
	}
	if c.inResponseTo != "" {
		if _, ok := t.signin.take(strings.TrimPrefix(c.inResponseTo, "_")); !ok {
			return nil, sfail(50008, "SAML token is invalid: InResponseTo '%s' does not match a pending request.", c.inResponseTo)
		}
	}
	return c, nil
}

func elText(el *etree.Element, path string) string {
	if e := el.FindElement(path); e != nil {
		return strings.TrimSpace(e.Text())
	}
	return ""
}

func parseXMLTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

// matchUser applies the checks common to both protocols: audience, validity
// window, and an enabled user whose onPremisesImmutableId is the NameID and
// whose UPN is the asserted one, on a domain federated with this issuer.
func (t *Tenant) matchUser(c *claimsIn) (*object, error) {
	audOK := false
	for _, a := range c.audiences {
		if a == msOnlineRealm {
			audOK = true
		}
	}
	if !audOK {
		return nil, sfail(50008, "SAML token is invalid: the audience must be '%s'.", msOnlineRealm)
	}
	now := t.wall.Now()
	if c.notOnOrAfter.IsZero() || !now.Before(c.notOnOrAfter.Add(assertionSkew)) || (!c.notBefore.IsZero() && now.Add(assertionSkew).Before(c.notBefore)) {
		return nil, sfail(500133, "Assertion is not within its valid time range. Current time: %s.", now.UTC().Format(time.RFC3339))
	}
	if c.nameID == "" {
		return nil, sfail(50008, "SAML token is invalid: the NameID (ImmutableID) is missing.")
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	id, ok := t.dir.immutable[c.nameID]
	u := t.dir.objects[id]
	if !ok || u == nil || !u.active() || u.kind != kindUser {
		return nil, sfail(51004, "The user account %s does not exist in the %s directory. To sign into this application, the account must be added to the directory.", c.nameID, t.tenantID)
	}
	if c.upn == "" || !strings.EqualFold(c.upn, u.str("userPrincipalName")) {
		return nil, sfail(5000819, "SAML Assertion is invalid. Email address claim is missing or does not match domain from an external realm.")
	}
	_, dom, _ := strings.Cut(u.str("userPrincipalName"), "@")
	d := t.dir.domain(dom)
	if d == nil || d.fed == nil || d.fed.props["issuerUri"] != c.issuer {
		return nil, sfail(50107, "The requested federation realm object '%s' does not exist.", c.issuer)
	}
	if !u.boolean("accountEnabled") {
		return nil, sfail(50057, "The user account is disabled.")
	}
	return u, nil
}
