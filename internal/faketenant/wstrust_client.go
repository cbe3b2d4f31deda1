package faketenant

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/beevik/etree"
)

// What Entra's side of the active profile speaks: WS-Trust 1.3 (preferred)
// or 2005 usernamemixed, found through the domain's MEX.
const (
	wstNS13      = "http://docs.oasis-open.org/ws-sx/ws-trust/200512"
	wstNS2005    = "http://schemas.xmlsoap.org/ws/2005/02/trust"
	soap12NS     = "http://www.w3.org/2003/05/soap-envelope"
	wsaNS        = "http://www.w3.org/2005/08/addressing"
	wsseNS       = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
	wsuNS        = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
	maxFedBody   = 1 << 20
	fedCallLimit = 20 * time.Second
)

// activeEndpoint is a usernamemixed endpoint from a MEX document.
type activeEndpoint struct {
	url string
	ns  string // the WS-Trust namespace of its version
}

// askIdentityProvider is the server side of the password grant for a
// federated user: fetch the domain's MEX, post a usernamemixed RST to the
// endpoint it names and return the RSTR. A fault or an unusable answer is
// AADSTS50126 (the identity provider refused the password) or AADSTS50008.
func (t *Tenant) askIdentityProvider(ctx context.Context, mexURL, upn, password string) ([]byte, error) {
	if mexURL == "" {
		return nil, sfail(50008, "SAML token is invalid: the federated domain has no metadataExchangeUri, so the password cannot be checked.")
	}
	ctx, cancel := context.WithTimeout(ctx, fedCallLimit)
	defer cancel()
	mex, err := t.fedCall(ctx, http.MethodGet, mexURL, "", nil)
	if err != nil {
		return nil, sfail(50008, "Unable to read the federation metadata exchange document: %v", err)
	}
	ep, err := usernameMixedEndpoint(mex)
	if err != nil {
		return nil, sfail(50008, "The federation metadata exchange document at %s is unusable: %v", mexURL, err)
	}
	req, err := t.buildRST(ep, upn, password)
	if err != nil {
		return nil, err
	}
	res, err := t.fedCall(ctx, http.MethodPost, ep.url, "application/soap+xml; charset=utf-8", req)
	if err != nil {
		var fault soapFault
		if errors.As(err, &fault) && strings.HasSuffix(fault.code, "FailedAuthentication") {
			return nil, sfail(50126, "Error validating credentials due to invalid username or password. (the identity provider answered: %s)", fault.reason)
		}
		return nil, sfail(50008, "The identity provider's WS-Trust endpoint did not issue a token: %v", err)
	}
	return res, nil
}

// soapFault is a SOAP 1.2 fault the identity provider answered.
type soapFault struct{ code, reason string }

func (f soapFault) Error() string { return "SOAP fault " + f.code + ": " + f.reason }

// fedCall makes one request to the identity provider; a SOAP fault comes
// back as soapFault.
func (t *Tenant) fedCall(ctx context.Context, method, url, contentType string, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	client := t.cfg.FederationClient
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxFedBody))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", url, err)
	}
	if resp.StatusCode == http.StatusOK {
		return data, nil
	}
	doc := etree.NewDocument()
	if doc.ReadFromBytes(data) == nil {
		if f := doc.FindElement("//Fault"); f != nil {
			return nil, soapFault{code: elText(f, "./Code/Subcode/Value"), reason: elText(f, "./Reason/Text")}
		}
	}
	return nil, fmt.Errorf("%s answered HTTP %d", url, resp.StatusCode)
}

// usernameMixedEndpoint reads a MEX document as rich clients do: policies
// that ask for a username token over HTTPS, bindings that use them, ports
// at those bindings; WS-Trust 1.3 wins over 2005.
func usernameMixedEndpoint(mex []byte) (activeEndpoint, error) {
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(mex); err != nil || doc.Root() == nil || doc.Root().Tag != "definitions" {
		return activeEndpoint{}, fmt.Errorf("not a WSDL definitions document")
	}
	policies := map[string]bool{}
	for _, p := range doc.Root().SelectElements("Policy") {
		if p.FindElement(".//TransportBinding") != nil && p.FindElement(".//UsernameToken") != nil {
			if id := p.SelectAttrValue("wsu:Id", p.SelectAttrValue("Id", "")); id != "" {
				policies["#"+id] = true
			}
		}
	}
	bindings := map[string]string{}
	for _, b := range doc.Root().SelectElements("binding") {
		ref := b.FindElement("./PolicyReference")
		op := b.FindElement("./operation/operation")
		if ref == nil || op == nil || !policies[ref.SelectAttrValue("URI", "")] {
			continue
		}
		switch op.SelectAttrValue("soapAction", "") {
		case wstNS13 + "/RST/Issue":
			bindings[b.SelectAttrValue("name", "")] = wstNS13
		case wstNS2005 + "/RST/Issue":
			bindings[b.SelectAttrValue("name", "")] = wstNS2005
		}
	}
	var best activeEndpoint
	for _, port := range doc.Root().FindElements("./service/port") {
		name := port.SelectAttrValue("binding", "")
		if i := strings.Index(name, ":"); i >= 0 {
			name = name[i+1:]
		}
		ns, ok := bindings[name]
		addr := elText(port, "./EndpointReference/Address")
		if !ok || addr == "" {
			continue
		}
		if best.url == "" || ns == wstNS13 {
			best = activeEndpoint{url: addr, ns: ns}
		}
	}
	if best.url == "" {
		return activeEndpoint{}, fmt.Errorf("no usernamemixed endpoint")
	}
	return best, nil
}

// buildRST writes a usernamemixed RequestSecurityToken for
// urn:federation:MicrosoftOnline.
func (t *Tenant) buildRST(ep activeEndpoint, upn, password string) ([]byte, error) {
	now := t.wall.Now().UTC()
	keyType := wstNS13 + "/Bearer"
	if ep.ns == wstNS2005 {
		keyType = "http://schemas.xmlsoap.org/ws/2005/05/identity/NoProofKey"
	}
	doc := etree.NewDocument()
	env := doc.CreateElement("s:Envelope")
	env.CreateAttr("xmlns:s", soap12NS)
	env.CreateAttr("xmlns:a", wsaNS)
	env.CreateAttr("xmlns:u", wsuNS)
	h := env.CreateElement("s:Header")
	h.CreateElement("a:Action").SetText(ep.ns + "/RST/Issue")
	h.CreateElement("a:MessageID").SetText("urn:uuid:" + t.ids.guid())
	h.CreateElement("a:To").SetText(ep.url)
	sec := h.CreateElement("o:Security")
	sec.CreateAttr("xmlns:o", wsseNS)
	sec.CreateAttr("s:mustUnderstand", "1")
	ts := sec.CreateElement("u:Timestamp")
	ts.CreateAttr("u:Id", "_0")
	ts.CreateElement("u:Created").SetText(now.Format("2006-01-02T15:04:05.000Z"))
	ts.CreateElement("u:Expires").SetText(now.Add(5 * time.Minute).Format("2006-01-02T15:04:05.000Z"))
	ut := sec.CreateElement("o:UsernameToken")
	ut.CreateElement("o:Username").SetText(upn)
	ut.CreateElement("o:Password").SetText(password)
	rst := env.CreateElement("s:Body").CreateElement("t:RequestSecurityToken")
	rst.CreateAttr("xmlns:t", ep.ns)
	at := rst.CreateElement("wsp:AppliesTo")
	at.CreateAttr("xmlns:wsp", "http://schemas.xmlsoap.org/ws/2004/09/policy")
	at.CreateElement("a:EndpointReference").CreateElement("a:Address").SetText(msOnlineRealm)
	rst.CreateElement("t:KeyType").SetText(keyType)
	rst.CreateElement("t:RequestType").SetText(ep.ns + "/Issue")
	out, err := doc.WriteToBytes()
	if err != nil {
		return nil, fmt.Errorf("write WS-Trust request: %w", err)
	}
	return out, nil
}
