package faketenant

import (
	"bytes"
	"compress/flate"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

// idp signs tokens like AD FS or PingFederate would.
type idp struct {
	key  *rsa.PrivateKey
	cert []byte
}

func loadIdP(t *testing.T, name string) idp {
	t.Helper()
	kp, _ := os.ReadFile("testdata/" + name + ".key")
	cp, _ := os.ReadFile("testdata/" + name + ".pem")
	kb, _ := pem.Decode(kp)
	cb, _ := pem.Decode(cp)
	key, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return idp{key: key.(*rsa.PrivateKey), cert: cb.Bytes}
}

func (p idp) sign(t *testing.T, el *etree.Element, idAttr string) *etree.Element {
	t.Helper()
	ctx, err := dsig.NewSigningContext(p.key, [][]byte{p.cert})
	if err != nil {
		t.Fatal(err)
	}
	ctx.IdAttribute = idAttr
	signed, err := ctx.SignEnveloped(el)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

type tokenSpec struct {
	issuer, audience, nameID, upn string
	notBefore, notOnOrAfter       time.Time
	inResponseTo, recipient       string
}

func (f *fixture) defaultSpec() tokenSpec {
	now := epoch
	return tokenSpec{issuer: fedIssuer, audience: msOnlineRealm, nameID: "SU1NVVRBQkxF", upn: "fed1@fed.contoso.com",
		notBefore: now.Add(-time.Minute), notOnOrAfter: now.Add(time.Hour), recipient: f.srv.URL + "/login.srf"}
}

func xmlTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// wsfedResult builds an RSTR with a signed SAML 1.1 assertion; tamper runs
// after signing.
func wsfedResult(t *testing.T, p idp, s tokenSpec, tamper func(*etree.Element)) string {
	a := etree.NewElement("saml:Assertion")
	a.CreateAttr("xmlns:saml", "urn:oasis:names:tc:SAML:1.0:assertion")
	a.CreateAttr("MajorVersion", "1")
	a.CreateAttr("MinorVersion", "1")
	a.CreateAttr("AssertionID", "_a1b2c3")
	a.CreateAttr("Issuer", s.issuer)
	a.CreateAttr("IssueInstant", xmlTime(s.notBefore))
	cond := a.CreateElement("saml:Conditions")
	cond.CreateAttr("NotBefore", xmlTime(s.notBefore))
	cond.CreateAttr("NotOnOrAfter", xmlTime(s.notOnOrAfter))
	cond.CreateElement("saml:AudienceRestrictionCondition").CreateElement("saml:Audience").SetText(s.audience)
	st := a.CreateElement("saml:AttributeStatement")
	subj := st.CreateElement("saml:Subject")
	subj.CreateElement("saml:NameIdentifier").SetText(s.nameID)
	subj.CreateElement("saml:SubjectConfirmation").CreateElement("saml:ConfirmationMethod").SetText("urn:oasis:names:tc:SAML:1.0:cm:bearer")
	for name, ns := range map[string]string{"UPN": "http://schemas.xmlsoap.org/claims", "ImmutableID": "http://schemas.microsoft.com/LiveID/Federation/2008/05"} {
		attr := st.CreateElement("saml:Attribute")
		attr.CreateAttr("AttributeName", name)
		attr.CreateAttr("AttributeNamespace", ns)
		v := s.upn
		if name == "ImmutableID" {
			v = s.nameID
		}
		attr.CreateElement("saml:AttributeValue").SetText(v)
	}
	signed := p.sign(t, a, "AssertionID")
	if tamper != nil {
		tamper(signed)
	}
	doc := etree.NewDocument()
	rstr := doc.CreateElement("t:RequestSecurityTokenResponse")
	rstr.CreateAttr("xmlns:t", "http://schemas.xmlsoap.org/ws/2005/02/trust")
	rstr.CreateElement("t:RequestedSecurityToken").AddChild(signed)
	out, _ := doc.WriteToString()
	return out
}

// samlResponse builds a SAML 2.0 Response signed on the assertion, or on the
// response when signResponse is set.
func samlResponse(t *testing.T, p idp, s tokenSpec, signResponse bool) string {
	resp := etree.NewElement("samlp:Response")
	resp.CreateAttr("xmlns:samlp", "urn:oasis:names:tc:SAML:2.0:protocol")
	resp.CreateAttr("xmlns:saml", "urn:oasis:names:tc:SAML:2.0:assertion")
	resp.CreateAttr("ID", "_resp1")
	resp.CreateAttr("Version", "2.0")
	resp.CreateAttr("IssueInstant", xmlTime(s.notBefore))
	resp.CreateElement("saml:Issuer").SetText(s.issuer)
	resp.CreateElement("samlp:Status").CreateElement("samlp:StatusCode").CreateAttr("Value", "urn:oasis:names:tc:SAML:2.0:status:Success")
	a := etree.NewElement("saml:Assertion")
	a.CreateAttr("xmlns:saml", "urn:oasis:names:tc:SAML:2.0:assertion")
	a.CreateAttr("ID", "_assert1")
	a.CreateAttr("Version", "2.0")
	a.CreateAttr("IssueInstant", xmlTime(s.notBefore))
	a.CreateElement("saml:Issuer").SetText(s.issuer)
	subj := a.CreateElement("saml:Subject")
	nid := subj.CreateElement("saml:NameID")
	nid.CreateAttr("Format", "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent")
	nid.SetText(s.nameID)
	sc := subj.CreateElement("saml:SubjectConfirmation")
	sc.CreateAttr("Method", "urn:oasis:names:tc:SAML:2.0:cm:bearer")
	scd := sc.CreateElement("saml:SubjectConfirmationData")
	scd.CreateAttr("NotOnOrAfter", xmlTime(s.notOnOrAfter))
	scd.CreateAttr("Recipient", s.recipient)
	if s.inResponseTo != "" {
		scd.CreateAttr("InResponseTo", s.inResponseTo)
	}
	cond := a.CreateElement("saml:Conditions")
	cond.CreateAttr("NotBefore", xmlTime(s.notBefore))
	cond.CreateAttr("NotOnOrAfter", xmlTime(s.notOnOrAfter))
	cond.CreateElement("saml:AudienceRestriction").CreateElement("saml:Audience").SetText(s.audience)
	attr := a.CreateElement("saml:AttributeStatement").CreateElement("saml:Attribute")
	attr.CreateAttr("Name", "IDPEmail")
	attr.CreateElement("saml:AttributeValue").SetText(s.upn)
	if signResponse {
		resp.AddChild(a)
		resp = p.sign(t, resp, "ID")
	} else {
		resp.AddChild(p.sign(t, a, "ID"))
	}
	doc := etree.NewDocument()
	doc.SetRoot(resp)
	out, _ := doc.WriteToBytes()
	return base64.StdEncoding.EncodeToString(out)
}

// withSAMLDomain federates saml.contoso.com over SAML 2.0 with signed
// requests, using the same IdP certificate and issuer.
func withSAMLDomain(c *Config) {
	c.Domains = append(c.Domains, DomainConfig{Name: "saml.contoso.com", Federation: &FederationSpec{
		IssuerURI: "https://idp.contoso.com/saml", PassiveSignInURI: "https://idp.contoso.com/sso?tenant=x",
		PreferredAuthenticationProtocol: "saml", IsSignedAuthenticationRequestRequired: true,
		SigningCertificateFile: "testdata/idp-signing.pem",
	}})
}

func noRedirect(f *fixture) *http.Client {
	c := *f.srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

func TestHomeRealmDiscovery(t *testing.T) {
	f := newFixture(t, withDomains, withSAMLDomain)
	get := func(path string) *http.Response {
		r, err := noRedirect(f).Get(f.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}

	t.Run("a WS-Fed domain is sent to its passiveSignInUri with wa, wtrealm and wctx", func(t *testing.T) {
		r := get("/login?username=fed1@fed.contoso.com")
		loc, _ := url.Parse(r.Header.Get("Location"))
		q := loc.Query()
		if r.StatusCode != http.StatusFound || loc.Host != "idp.contoso.com" || loc.Path != "/adfs/ls" ||
			q.Get("wa") != "wsignin1.0" || q.Get("wtrealm") != "urn:federation:MicrosoftOnline" || q.Get("wctx") == "" || q.Get("username") != "fed1@fed.contoso.com" {
			t.Fatalf("%d %s", r.StatusCode, loc)
		}
	})

	t.Run("a SAML domain gets a signed, deflated AuthnRequest and keeps its own query", func(t *testing.T) {
		r := get("/login?username=s1@saml.contoso.com")
		loc, _ := url.Parse(r.Header.Get("Location"))
		q := loc.Query()
		if r.StatusCode != http.StatusFound || q.Get("tenant") != "x" || q.Get("RelayState") == "" || q.Get("SigAlg") == "" {
			t.Fatalf("%d %s", r.StatusCode, loc)
		}
		raw, _ := base64.StdEncoding.DecodeString(q.Get("SAMLRequest"))
		xml, err := io.ReadAll(flate.NewReader(bytes.NewReader(raw)))
		if err != nil || !strings.Contains(string(xml), "<saml:Issuer xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\">urn:federation:MicrosoftOnline</saml:Issuer>") ||
			!strings.Contains(string(xml), `AssertionConsumerServiceURL="`+f.srv.URL+`/login.srf"`) {
			t.Fatalf("AuthnRequest %s (%v)", xml, err)
		}
		signedPart := loc.RawQuery[strings.Index(loc.RawQuery, "SAMLRequest="):strings.Index(loc.RawQuery, "&Signature=")]
		sig, _ := base64.StdEncoding.DecodeString(q.Get("Signature"))
		sum := sha256.Sum256([]byte(signedPart))
		if err := rsa.VerifyPKCS1v15(&f.tenant.signer.key.PublicKey, crypto.SHA256, sum[:], sig); err != nil {
			t.Fatalf("redirect signature: %v", err)
		}
	})

	t.Run("a managed domain gets a password page", func(t *testing.T) {
		r := get("/login?username=someone@contoso.com")
		body, _ := io.ReadAll(r.Body)
		if r.StatusCode != 200 || !strings.Contains(string(body), `type="password"`) {
			t.Fatalf("%d %s", r.StatusCode, body)
		}
	})

	t.Run("an unknown domain is an AADSTS50034 page", func(t *testing.T) {
		r := get("/login?username=x@nowhere.example")
		body, _ := io.ReadAll(r.Body)
		if r.StatusCode != 400 || !strings.Contains(string(body), "AADSTS50034") {
			t.Fatalf("%d %s", r.StatusCode, body)
		}
	})
}

func TestLoginSrf(t *testing.T) {
	f := newFixture(t, withDomains, withSAMLDomain)
	p := loadIdP(t, "idp-signing")
	mustSeed := func(su SeedUser) {
		if _, err := f.tenant.AddUser(su); err != nil {
			t.Fatal(err)
		}
	}
	mustSeed(SeedUser{Properties: map[string]any{"userPrincipalName": "fed1@fed.contoso.com", "displayName": "Fed One", "onPremisesImmutableId": "SU1NVVRBQkxF"}})
	mustSeed(SeedUser{Properties: map[string]any{"userPrincipalName": "off@fed.contoso.com", "displayName": "Off", "onPremisesImmutableId": "T0ZG", "accountEnabled": false}})
	mustSeed(SeedUser{Properties: map[string]any{"userPrincipalName": "s1@saml.contoso.com", "displayName": "Saml One", "onPremisesImmutableId": "U0FNTA=="}})
	post := func(vals url.Values) (int, string) {
		r := f.form("/login.srf", vals)
		return r.status, string(r.raw)
	}

	t.Run("a signed WS-Fed RSTR signs the user in and names them", func(t *testing.T) {
		status, body := post(url.Values{"wa": {"wsignin1.0"}, "wresult": {wsfedResult(t, p, f.defaultSpec(), nil)}})
		if status != 200 || !strings.Contains(body, `<span id="upn">fed1@fed.contoso.com</span>`) || !strings.Contains(body, "Fed One") {
			t.Fatalf("%d %s", status, body)
		}
		si := f.tenant.SignIns()
		if len(si) == 0 || !si[len(si)-1].OK || si[len(si)-1].Protocol != "wsfed" {
			t.Fatalf("sign-ins %+v", si)
		}
	})

	wsfed := []struct {
		name   string
		change func(*tokenSpec)
		tamper func(*etree.Element)
		signer string
		code   string
	}{
		{"a tampered assertion fails signature verification", nil, func(a *etree.Element) {
			a.FindElement(".//NameIdentifier").SetText("T0ZG")
		}, "", "AADSTS50006"},
		{"an assertion signed by an unknown key fails", nil, nil, "app-cert", "AADSTS50006"},
		{"an unknown issuer is AADSTS50107", func(s *tokenSpec) { s.issuer = "http://evil/trust" }, nil, "", "AADSTS50107"},
		{"the audience must be urn:federation:MicrosoftOnline", func(s *tokenSpec) { s.audience = "urn:other" }, nil, "", "AADSTS50008"},
		{"an expired assertion is refused", func(s *tokenSpec) { s.notOnOrAfter = epoch.Add(-10 * time.Minute) }, nil, "", "AADSTS500133"},
		{"an assertion from the future is refused", func(s *tokenSpec) { s.notBefore = epoch.Add(10 * time.Minute) }, nil, "", "AADSTS500133"},
		{"an ImmutableID no user holds is AADSTS51004", func(s *tokenSpec) { s.nameID = "Tk9CT0RZ" }, nil, "", "AADSTS51004"},
		{"the asserted UPN must be the user's", func(s *tokenSpec) { s.upn = "someone.else@fed.contoso.com" }, nil, "", "AADSTS5000819"},
		{"a disabled user is AADSTS50057", func(s *tokenSpec) { s.nameID, s.upn = "T0ZG", "off@fed.contoso.com" }, nil, "", "AADSTS50057"},
		{"the user's domain must be federated with the asserting issuer", func(s *tokenSpec) {
			s.nameID, s.upn = "U0FNTA==", "s1@saml.contoso.com"
		}, nil, "", "AADSTS50107"},
	}
	for _, tc := range wsfed {
		t.Run("WS-Fed: "+tc.name, func(t *testing.T) {
			s := f.defaultSpec()
			if tc.change != nil {
				tc.change(&s)
			}
			signer := p
			if tc.signer != "" {
				signer = loadIdP(t, tc.signer)
			}
			status, body := post(url.Values{"wresult": {wsfedResult(t, signer, s, tc.tamper)}})
			if status != 400 || !strings.Contains(body, `<p id="error-code">`+tc.code+`</p>`) {
				t.Fatalf("%d %s", status, body)
			}
		})
	}

	samlSpec := func() tokenSpec {
		s := f.defaultSpec()
		s.issuer, s.nameID, s.upn = "https://idp.contoso.com/saml", "U0FNTA==", "s1@saml.contoso.com"
		return s
	}

	t.Run("a SAML 2.0 Response signed on the assertion signs the user in", func(t *testing.T) {
		status, body := post(url.Values{"SAMLResponse": {samlResponse(t, p, samlSpec(), false)}})
		if status != 200 || !strings.Contains(body, "s1@saml.contoso.com") {
			t.Fatalf("%d %s", status, body)
		}
	})

	t.Run("a SAML 2.0 Response signed on the response signs the user in", func(t *testing.T) {
		status, body := post(url.Values{"SAMLResponse": {samlResponse(t, p, samlSpec(), true)}})
		if status != 200 {
			t.Fatalf("%d %s", status, body)
		}
	})

	t.Run("a SAML response to our AuthnRequest is matched by InResponseTo, once", func(t *testing.T) {
		r, _ := noRedirect(f).Get(f.srv.URL + "/login?username=s1@saml.contoso.com")
		loc, _ := url.Parse(r.Header.Get("Location"))
		s := samlSpec()
		s.inResponseTo = "_" + loc.Query().Get("RelayState")
		resp := samlResponse(t, p, s, false)
		if status, body := post(url.Values{"SAMLResponse": {resp}, "RelayState": {loc.Query().Get("RelayState")}}); status != 200 {
			t.Fatalf("%d %s", status, body)
		}
		if status, _ := post(url.Values{"SAMLResponse": {resp}}); status != 400 {
			t.Fatalf("a replayed InResponseTo was accepted")
		}
	})

	t.Run("a SAML response for another recipient is refused", func(t *testing.T) {
		s := samlSpec()
		s.recipient = "https://elsewhere.example/acs"
		if status, body := post(url.Values{"SAMLResponse": {samlResponse(t, p, s, false)}}); status != 400 || !strings.Contains(body, "AADSTS50008") {
			t.Fatalf("%d %s", status, body)
		}
	})

	t.Run("a managed user signs in with the password the provisioner set", func(t *testing.T) {
		f.createUser("pw", nil)
		r := f.form("/login", url.Values{"username": {"pw@contoso.com"}, "password": {"xWwvJ]6NMw+bWH-d"}})
		if r.status != 200 || !strings.Contains(string(r.raw), "pw@contoso.com") {
			t.Fatalf("%d %s", r.status, r.raw)
		}
		r = f.form("/login", url.Values{"username": {"pw@contoso.com"}, "password": {"wrong"}})
		if r.status != 400 || !strings.Contains(string(r.raw), "AADSTS50126") {
			t.Fatalf("%d %s", r.status, r.raw)
		}
	})

	t.Run("a POST without a token is an error page", func(t *testing.T) {
		if status, _ := post(url.Values{"wa": {"wsignin1.0"}}); status != 400 {
			t.Fatalf("status %d", status)
		}
	})
}
