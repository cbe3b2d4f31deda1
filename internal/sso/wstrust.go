package sso

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/beevik/etree"
)

// The active profile's endpoints (docs/sso.md, "Rich clients"): the
// WS-Trust security token service at PingFederate's path, and its MEX.
const (
	ActivePath = "/idp/sts.wst"
	MEXPath    = "/idp/mex"
)

const (
	nsSOAP12  = "http://www.w3.org/2003/05/soap-envelope"
	nsTrust13 = "http://docs.oasis-open.org/ws-sx/ws-trust/200512"
	nsWSSE    = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
)

// trustVersion is what differs between WS-Trust 1.3 and WS-Trust 2005.
type trustVersion struct {
	name        string
	ns          string // RequestSecurityToken's namespace
	issueAction string // the request's wsa:Action and soapAction
	replyAction string
	bearer      string // KeyType of a bearer token
}

var (
	trust13 = trustVersion{name: "1.3", ns: nsTrust13, issueAction: nsTrust13 + "/RST/Issue",
		replyAction: nsTrust13 + "/RSTRC/IssueFinal", bearer: nsTrust13 + "/Bearer"}
	trust2005 = trustVersion{name: "2005", ns: nsTrust, issueAction: nsTrust + "/RST/Issue",
		replyAction: nsTrust + "/RSTR/Issue", bearer: "http://schemas.xmlsoap.org/ws/2005/05/identity/NoProofKey"}
)

// Limits of a WS-Trust request: a usernamemixed RST is about 2 KB.
const (
	maxTrustBytes = 16 << 10
	// maxMessageAge is how old a request's wsu:Created may be; its
	// wsa:MessageID is remembered this long (plus skew) to refuse replays.
	maxMessageAge = 5 * time.Minute
)

// rst is a usernamemixed RequestSecurityToken.
type rst struct {
	version   trustVersion
	messageID string
	created   time.Time
	expires   time.Time
	username  string
	password  string
	appliesTo string
}

// trustFault is a SOAP fault to answer: code is a WS-Trust (or WS-Security)
// fault code, reason what the client is told (never a secret).
type trustFault struct {
	sender bool   // the client's fault (SOAP Sender) or ours (Receiver)
	ns     string // namespace of code; nsTrust13 stands for the request's WS-Trust version
	code   string // e.g. FailedAuthentication
	reason string
}

func (f *trustFault) Error() string { return f.code + ": " + f.reason }

func invalidRequest(format string, args ...any) *trustFault {
	return &trustFault{sender: true, ns: nsTrust13, code: "InvalidRequest", reason: fmt.Sprintf(format, args...)}
}

// readSOAP reads a request body of at most maxTrustBytes and refuses any
// document type declaration: encoding/xml expands no entities, but a DTD has
// no business in SOAP (SOAP 1.2 Part 1 §5) and is how XML bombs arrive.
func readSOAP(r *http.Request) ([]byte, *trustFault) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxTrustBytes+1))
	if err != nil {
		return nil, invalidRequest("the request body could not be read")
	}
	if len(body) > maxTrustBytes {
		return nil, invalidRequest("the request is larger than %d bytes", maxTrustBytes)
	}
	dec := xml.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := dec.RawToken()
		if errors.Is(err, io.EOF) {
			return body, nil
		}
		if err != nil {
			return nil, invalidRequest("the request is not well-formed XML")
		}
		switch t := tok.(type) {
		case xml.Directive:
			return nil, invalidRequest("a document type declaration is not allowed in a SOAP message")
		case xml.ProcInst:
			if t.Target != "xml" {
				return nil, invalidRequest("processing instructions are not allowed in a SOAP message")
			}
		}
	}
}

// parseRST reads a SOAP 1.2 envelope carrying a usernamemixed RST of either
// WS-Trust version.
func parseRST(body []byte) (rst, *trustFault) {
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(body); err != nil {
		return rst{}, invalidRequest("the request is not well-formed XML")
	}
	env := doc.Root()
	if env == nil || env.Tag != "Envelope" || env.NamespaceURI() != nsSOAP12 {
		return rst{}, invalidRequest("the request is not a SOAP 1.2 envelope")
	}
	header, body2 := child(env, nsSOAP12, "Header"), child(env, nsSOAP12, "Body")
	if header == nil || body2 == nil {
		return rst{}, invalidRequest("the envelope needs a Header and a Body")
	}
	var req rst
	tok := firstChild(body2)
	switch {
	case tok != nil && tok.Tag == "RequestSecurityToken" && tok.NamespaceURI() == nsTrust13:
		req.version = trust13
	case tok != nil && tok.Tag == "RequestSecurityToken" && tok.NamespaceURI() == nsTrust:
		req.version = trust2005
	default:
		return rst{}, invalidRequest("the Body must be a WS-Trust 1.3 or 2005 RequestSecurityToken")
	}
	if a := child(header, nsAddressing, "Action"); a != nil && strings.TrimSpace(a.Text()) != req.version.issueAction {
		return rst{}, invalidRequest("the action must be %s for WS-Trust %s", req.version.issueAction, req.version.name)
	}
	if rt := child(tok, req.version.ns, "RequestType"); rt == nil || strings.TrimSpace(rt.Text()) != req.version.ns+"/Issue" {
		return rst{}, invalidRequest("only the Issue request type is served")
	}
	if addr := findPath(tok, [][2]string{{nsPolicy, "AppliesTo"}, {nsAddressing, "EndpointReference"}, {nsAddressing, "Address"}}); addr != nil {
		req.appliesTo = strings.TrimSpace(addr.Text())
	}
	for _, el := range header.ChildElements() {
		// MSAL spells it messageID; WS-Addressing says MessageID.
		if el.NamespaceURI() == nsAddressing && strings.EqualFold(el.Tag, "MessageID") {
			req.messageID = strings.TrimSpace(el.Text())
		}
	}
	sec := child(header, nsWSSE, "Security")
	if sec == nil {
		return rst{}, &trustFault{sender: true, ns: nsWSSE, code: "InvalidSecurity", reason: "the request has no WS-Security header"}
	}
	if ts := child(sec, nsWSU, "Timestamp"); ts != nil {
		req.created = parseTime(child(ts, nsWSU, "Created"))
		req.expires = parseTime(child(ts, nsWSU, "Expires"))
	}
	ut := child(sec, nsWSSE, "UsernameToken")
	if ut == nil {
		return rst{}, &trustFault{sender: true, ns: nsWSSE, code: "InvalidSecurityToken", reason: "the request carries no UsernameToken"}
	}
	if u := child(ut, nsWSSE, "Username"); u != nil {
		req.username = strings.TrimSpace(u.Text())
	}
	if p := child(ut, nsWSSE, "Password"); p != nil {
		if t := p.SelectAttrValue("Type", ""); t != "" && !strings.HasSuffix(t, "#PasswordText") {
			return rst{}, &trustFault{sender: true, ns: nsWSSE, code: "UnsupportedSecurityToken", reason: "only PasswordText passwords are accepted"}
		}
		req.password = p.Text()
	}
	return req, nil
}

func child(el *etree.Element, ns, tag string) *etree.Element {
	for _, c := range el.ChildElements() {
		if c.Tag == tag && c.NamespaceURI() == ns {
			return c
		}
	}
	return nil
}

func firstChild(el *etree.Element) *etree.Element {
	if cs := el.ChildElements(); len(cs) > 0 {
		return cs[0]
	}
	return nil
}

func findPath(el *etree.Element, path [][2]string) *etree.Element {
	for _, p := range path {
		if el = child(el, p[0], p[1]); el == nil {
			return nil
		}
	}
	return el
}

func parseTime(el *etree.Element) time.Time {
	if el == nil {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(el.Text()))
	if err != nil {
		return time.Time{}
	}
	return t
}
