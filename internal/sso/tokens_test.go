package sso

import (
	"bytes"
	"flag"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
)

var update = flag.Bool("update", false, "rewrite golden files")

// countingReader is a deterministic "random" source for golden files.
type countingReader struct{ n byte }

func (c *countingReader) Read(p []byte) (int, error) {
	for i := range p {
		c.n++
		p[i] = c.n
	}
	return len(p), nil
}

func testKey(t testing.TB) KeyPair {
	t.Helper()
	kp, err := LoadPEMFiles("testdata/signing-key.pem", "testdata/signing-cert.pem")
	if err != nil {
		t.Fatal(err)
	}
	return kp
}

var fixedNow = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

func fixedGrant() Grant {
	return Grant{
		Identity:     Identity{ImmutableID: aliceIID, UPN: "alice@contoso.com"},
		AuthnInstant: fixedNow.Add(-time.Minute), Now: fixedNow, Lifetime: time.Hour, Skew: 3 * time.Minute,
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file; got:\n%s", name, got)
	}
}

// xmlsecVerify checks doc's first signature with xmlsec1 against cert.
func xmlsecVerify(t *testing.T, doc, idAttr, node string) error {
	t.Helper()
	if _, err := exec.LookPath("xmlsec1"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("xmlsec1 is not installed (scripts/test-deps installs it)")
		}
		t.Skip("xmlsec1 is not installed")
	}
	dir := t.TempDir()
	f := filepath.Join(dir, "doc.xml")
	if err := os.WriteFile(f, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("xmlsec1", "--verify", "--pubkey-cert-pem", "testdata/signing-cert.pem",
		"--id-attr:"+idAttr, node, f).CombinedOutput()
	if err != nil {
		return &xmlsecError{string(out)}
	}
	return nil
}

type xmlsecError struct{ out string }

func (e *xmlsecError) Error() string { return "xmlsec1: " + e.out }

func TestTokens(t *testing.T) {
	b := tokenBuilder{issuer: "https://sso.contoso.com", signer: signer{key: testKey(t)}, random: &countingReader{}}
	t.Run("the WS-Federation RSTR matches its golden file and verifies with xmlsec1", func(t *testing.T) {
		a, err := b.saml11(fixedGrant())
		if err != nil {
			t.Fatal(err)
		}
		res, err := rstr(a, fixedGrant())
		if err != nil {
			t.Fatal(err)
		}
		golden(t, "wsfed-rstr.xml", res)
		if err := xmlsecVerify(t, res, "AssertionID", "urn:oasis:names:tc:SAML:1.0:assertion:Assertion"); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{`Issuer="https://sso.contoso.com"`, `<saml:Audience>urn:federation:MicrosoftOnline</saml:Audience>`,
			`AttributeName="UPN" AttributeNamespace="http://schemas.xmlsoap.org/claims"`,
			`AttributeName="ImmutableID" AttributeNamespace="http://schemas.microsoft.com/LiveID/Federation/2008/05"`,
			`NotBefore="2026-03-02T09:27:00.000Z" NotOnOrAfter="2026-03-02T10:30:00.000Z"`, `AuthenticationMethod="urn:oasis:names:tc:SAML:1.0:am:password"`} {
			if !strings.Contains(res, want) {
				t.Errorf("RSTR lacks %s", want)
			}
		}
	})
	for _, signResponse := range []bool{false, true} {
		name := "the SAML 2.0 Response with a signed assertion matches its golden file and verifies with xmlsec1"
		file := "saml2-response.xml"
		if signResponse {
			name, file = "the signed SAML 2.0 Response matches its golden file and both signatures verify with xmlsec1", "saml2-response-signed.xml"
		}
		t.Run(name, func(t *testing.T) {
			target := saml2Target{ACS: "https://login.microsoftonline.com/login.srf", InResponseTo: "_req1", AuthnContext: acPasswordTLS, SessionIndex: "_s1"}
			a, err := b.saml2Assertion(fixedGrant(), target)
			if err != nil {
				t.Fatal(err)
			}
			res, err := b.saml2Response(fixedNow, target, a, statusSuccess, "", "", signResponse)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, file, res)
			node := "urn:oasis:names:tc:SAML:2.0:assertion:Assertion"
			if signResponse {
				node = "urn:oasis:names:tc:SAML:2.0:protocol:Response"
			}
			if err := xmlsecVerify(t, res, "ID", node); err != nil {
				t.Fatal(err)
			}
			// The assertion's own signature, on its own.
			doc := etree.NewDocument()
			doc.SetRoot(a.Copy())
			s, _ := doc.WriteToString()
			if err := xmlsecVerify(t, s, "ID", "urn:oasis:names:tc:SAML:2.0:assertion:Assertion"); err != nil {
				t.Fatal(err)
			}
		})
	}
	t.Run("an assertion altered after signing fails xmlsec1", func(t *testing.T) {
		a, err := b.saml11(fixedGrant())
		if err != nil {
			t.Fatal(err)
		}
		res, _ := rstr(a, fixedGrant())
		res = strings.Replace(res, "alice@contoso.com", "mallory@contoso.com", 1)
		if err := xmlsecVerify(t, res, "AssertionID", "urn:oasis:names:tc:SAML:1.0:assertion:Assertion"); err == nil {
			t.Fatal("xmlsec1 accepted an altered assertion")
		}
	})
}

func TestMetadataIsSignedAndVerifies(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	h.idp.d.Keys = Keys{Current: testKey(t)}
	h.idp.tokens.signer = signer{key: testKey(t)}
	for _, tc := range []struct{ name, path, want string }{
		{"SAML 2.0 metadata", "/idp/metadata.xml", `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="` + h.isrv.URL + `/idp/SSO.saml2"/>`},
		{"WS-Federation metadata", "/FederationMetadata/2007-06/FederationMetadata.xml", `<wsa:Address>` + h.isrv.URL + `/idp/prp.wsf</wsa:Address>`},
	} {
		t.Run("the "+tc.name+" is served signed and verifies with xmlsec1", func(t *testing.T) {
			r := h.get(h.isrv.URL + tc.path)
			if r.status != 200 || !strings.Contains(r.body, tc.want) {
				t.Fatalf("%d %s", r.status, r.body)
			}
			if err := xmlsecVerify(t, r.body, "ID", "urn:oasis:names:tc:SAML:2.0:metadata:EntityDescriptor"); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestFakeTenantRefuses checks the relying party refuses what it must:
// the identity provider's tokens are only good as issued.
func TestFakeTenantRefuses(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	now := time.Now()
	base := Grant{Identity: Identity{ImmutableID: aliceIID, UPN: "alice@fed.contoso.com"}, AuthnInstant: now, Now: now, Lifetime: time.Hour, Skew: 3 * time.Minute}
	post := func(t *testing.T, a *etree.Element, g Grant) reply {
		t.Helper()
		res, err := rstr(a, g)
		if err != nil {
			t.Fatal(err)
		}
		return h.post(h.tsrv.URL+"/login.srf", url.Values{"wa": {"wsignin1.0"}, "wresult": {res}})
	}
	t.Run("a token as issued is accepted", func(t *testing.T) {
		a, _ := h.idp.tokens.saml11(base)
		if upn := signedInAs(post(t, a, base)); upn != "alice@fed.contoso.com" {
			t.Fatal("the control token was refused")
		}
	})
	cases := []struct {
		name  string
		build func(t *testing.T) (*etree.Element, Grant)
		code  string
	}{
		{"one altered after signing", func(t *testing.T) (*etree.Element, Grant) {
			a, _ := h.idp.tokens.saml11(base)
			for _, v := range a.FindElements(".//AttributeValue") {
				if v.Text() == "alice@fed.contoso.com" {
					v.SetText("bob@fed.contoso.com")
				}
			}
			return a, base
		}, "AADSTS50006"},
		{"one expired", func(t *testing.T) (*etree.Element, Grant) {
			g := base
			g.Now = now.Add(-3 * time.Hour)
			a, _ := h.idp.tokens.saml11(g)
			return a, g
		}, "AADSTS500133"},
		{"one for another audience", func(t *testing.T) (*etree.Element, Grant) {
			a, _ := h.idp.tokens.saml11(base)
			a.RemoveChild(a.SelectElement("Signature"))
			a.FindElement(".//Audience").SetText("urn:other:relying-party")
			signed, err := h.idp.tokens.signer.sign(a, "AssertionID", "")
			if err != nil {
				t.Fatal(err)
			}
			return signed, base
		}, "AADSTS50008"},
		{"one signed by the next certificate before rollover", func(t *testing.T) (*etree.Element, Grant) {
			next := tokenBuilder{issuer: h.opts.BaseURL, signer: signer{key: h.nextKey}, random: bytes.NewReader(bytes.Repeat([]byte{7}, 64))}
			a, err := next.saml11(base)
			if err != nil {
				t.Fatal(err)
			}
			return a, base
		}, "AADSTS50006"},
	}
	for _, tc := range cases {
		t.Run("the fake tenant refuses "+tc.name, func(t *testing.T) {
			a, g := tc.build(t)
			r := post(t, a, g)
			if signedInAs(r) != "" || !strings.Contains(tenantError(r), tc.code) {
				t.Fatalf("want %s, got %d %q", tc.code, r.status, tenantError(r))
			}
		})
	}
}

func TestKeysLoad(t *testing.T) {
	pem := testKey(t)
	t.Run("a PKCS#12 file gives the same key and certificate as the PEM files", func(t *testing.T) {
		kp, err := LoadPKCS12File("testdata/signing.p12", "test-p12-pass")
		if err != nil {
			t.Fatal(err)
		}
		if !kp.Cert.Equal(pem.Cert) {
			t.Fatal("different certificate")
		}
	})
	t.Run("a PKCS#12 file with the wrong password is refused without the password in the error", func(t *testing.T) {
		_, err := LoadPKCS12File("testdata/signing.p12", "wrong-password-xyz")
		if err == nil || strings.Contains(err.Error(), "wrong-password-xyz") {
			t.Fatalf("%v", err)
		}
	})
	t.Run("a certificate that does not match the key is refused", func(t *testing.T) {
		if _, err := LoadPEMFiles("testdata/signing-key.pem", "testdata/next-cert.pem"); err == nil || !strings.Contains(err.Error(), "does not match") {
			t.Fatalf("%v", err)
		}
	})
}
