package faketenant

import (
	"bytes"
	"compress/flate"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// msOnlineRealm is the audience and realm Entra uses towards federated
// identity providers.
const msOnlineRealm = "urn:federation:MicrosoftOnline"

// SignIn records one attempt at the sign-in side, for SSO tests.
type SignIn struct {
	Time     time.Time `json:"time"`
	Protocol string    `json:"protocol"` // wsfed, saml or password
	UPN      string    `json:"upn,omitempty"`
	UserID   string    `json:"userId,omitempty"`
	OK       bool      `json:"ok"`
	Error    string    `json:"error,omitempty"`
}

// signinState holds sign-ins in flight (wctx / RelayState and AuthnRequest
// ids) and the log.
type signinState struct {
	mu      sync.Mutex
	pending map[string]pendingSignin
	log     []SignIn
	pages   *template.Template
}

type pendingSignin struct {
	upn     string
	created time.Time
}

func newSigninState() *signinState {
	return &signinState{pending: map[string]pendingSignin{}, pages: template.Must(template.New("pages").Parse(pageTemplates))}
}

const pageTemplates = `
{{define "head"}}<!DOCTYPE html><html><head><meta charset="utf-8"><title>{{.Title}}</title></head><body>{{end}}
{{define "username"}}{{template "head" .}}<h1>Sign in</h1><form method="get" action="/login"><label>Email, phone, or Skype <input name="username" type="email" autofocus></label><button type="submit">Next</button></form></body></html>{{end}}
{{define "password"}}{{template "head" .}}<h1>Enter password</h1><p id="username">{{.UPN}}</p><form method="post" action="/login"><input type="hidden" name="username" value="{{.UPN}}"><label>Password <input name="password" type="password" autofocus></label><button type="submit">Sign in</button></form></body></html>{{end}}
{{define "signedin"}}{{template "head" .}}<h1>Signed in</h1><p>You are signed in as <span id="displayName">{{.DisplayName}}</span> (<span id="upn">{{.UPN}}</span>).</p><p id="objectId">{{.UserID}}</p><p id="protocol">{{.Protocol}}</p></body></html>{{end}}
{{define "error"}}{{template "head" .}}<h1>Sign in</h1><p>Sorry, but we're having trouble signing you in.</p><p id="error-code">AADSTS{{.Code}}</p><p id="error-message">AADSTS{{.Code}}: {{.Message}}</p><p>Request Id: {{.RequestID}}<br>Timestamp: {{.Time}}</p></body></html>{{end}}
`

func (s *signinState) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending, s.log = map[string]pendingSignin{}, nil
}

func (s *signinState) record(si SignIn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = append(s.log, si)
}

func (s *signinState) remember(key string, p pendingSignin) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, v := range s.pending {
		if p.created.Sub(v.created) > time.Hour {
			delete(s.pending, k)
		}
	}
	s.pending[key] = p
}

func (s *signinState) take(key string) (pendingSignin, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.pending[key]
	delete(s.pending, key)
	return p, ok
}

func (s *signinState) snapshot() []SignIn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SignIn(nil), s.log...)
}

func (t *Tenant) page(w http.ResponseWriter, status int, name string, data map[string]any) {
	data["Title"] = "Sign in to your account"
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := t.signin.pages.ExecuteTemplate(w, name, data); err != nil {
		t.log.Error("render sign-in page", "page", name, "err", err)
	}
}

// errorPage shows an AADSTS-style error (400) and logs the attempt.
func (t *Tenant) errorPage(w http.ResponseWriter, protocol, upn string, code int, msg string) {
	t.signin.record(SignIn{Time: t.wall.Now(), Protocol: protocol, UPN: upn, Error: fmt.Sprintf("AADSTS%d: %s", code, msg)})
	t.page(w, http.StatusBadRequest, "error", map[string]any{"Code": code, "Message": msg,
		"RequestID": t.ids.guid(), "Time": t.wall.Now().UTC().Format(time.RFC3339)})
}

func (t *Tenant) signedIn(w http.ResponseWriter, protocol string, u *object) {
	upn := u.str("userPrincipalName")
	t.signin.record(SignIn{Time: t.wall.Now(), Protocol: protocol, UPN: upn, UserID: u.id, OK: true})
	t.page(w, http.StatusOK, "signedin", map[string]any{"UPN": upn, "DisplayName": u.str("displayName"), "UserID": u.id, "Protocol": protocol})
}

// serveHomeRealm is /login: home-realm discovery on the username's domain.
// A federated domain is sent to its passiveSignInUri with a WS-Federation
// sign-in request or a SAML AuthnRequest; a managed one gets a password page.
func (t *Tenant) serveHomeRealm(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		t.servePasswordSignIn(w, r)
		return
	}
	upn := strings.TrimSpace(r.URL.Query().Get("username"))
	if upn == "" {
		t.page(w, http.StatusOK, "username", map[string]any{})
		return
	}
	_, dom, _ := strings.Cut(upn, "@")
	t.mu.RLock()
	d := t.dir.domain(dom)
	var fed *federation
	if d != nil && d.verified {
		fed = d.fed
	}
	t.mu.RUnlock()
	switch {
	case d == nil || !d.verified:
		t.errorPage(w, "hrd", upn, 50034, fmt.Sprintf("The user account %s does not exist in the %s directory. To sign into this application, the account must be added to the directory.", upn, t.tenantID))
	case fed == nil:
		t.page(w, http.StatusOK, "password", map[string]any{"UPN": upn})
	default:
		t.redirectToIdP(w, r, upn, fed)
	}
}

func (t *Tenant) redirectToIdP(w http.ResponseWriter, r *http.Request, upn string, fed *federation) {
	passive, _ := fed.props["passiveSignInUri"].(string)
	target, err := url.Parse(passive)
	if passive == "" || err != nil {
		t.errorPage(w, "hrd", upn, 50000, "There was an error issuing a token: the federation configuration has no valid passiveSignInUri.")
		return
	}
	ctx := t.ids.guid()
	t.signin.remember(ctx, pendingSignin{upn: upn, created: t.wall.Now()})
	q := target.Query()
	switch proto, _ := fed.props["preferredAuthenticationProtocol"].(string); proto {
	case "wsFed":
		q.Set("wa", "wsignin1.0")
		q.Set("wtrealm", msOnlineRealm)
		q.Set("wctx", ctx)
		q.Set("username", upn)
		target.RawQuery = q.Encode()
	case "saml":
		raw, err := t.samlRedirectQuery(r, fed, "_"+ctx, passive)
		if err != nil {
			t.errorPage(w, "hrd", upn, 50000, "There was an error issuing a token: "+err.Error())
			return
		}
		if target.RawQuery != "" {
			raw = target.RawQuery + "&" + raw
		}
		target.RawQuery = raw
	default:
		// graph.md §10.2: the protocol "must be configured explicitly for the
		// federation passive authentication flow to work".
		t.errorPage(w, "hrd", upn, 50000, "There was an error issuing a token: the domain's federation configuration has no preferredAuthenticationProtocol.")
		return
	}
	http.Redirect(w, r, target.String(), http.StatusFound)
}

// samlRedirectQuery builds SAMLRequest (HTTP-Redirect binding: deflated,
// base64) and RelayState, signed with the tenant key when the federation
// requires signed requests.
func (t *Tenant) samlRedirectQuery(r *http.Request, fed *federation, id, destination string) (string, error) {
	req := fmt.Sprintf(`<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="%s" Version="2.0" IssueInstant="%s" Destination="%s" AssertionConsumerServiceURL="%s" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"><saml:Issuer xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">%s</saml:Issuer><samlp:NameIDPolicy Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"/></samlp:AuthnRequest>`,
		id, t.wall.Now().UTC().Format("2006-01-02T15:04:05Z"), template.HTMLEscapeString(destination), baseURL(r)+"/login.srf", msOnlineRealm)
	var buf bytes.Buffer
	fw, err := flate.NewWriter(&buf, flate.DefaultCompression)
	if err != nil {
		return "", err
	}
	if _, err := fw.Write([]byte(req)); err != nil {
		return "", err
	}
	if err := fw.Close(); err != nil {
		return "", err
	}
	q := "SAMLRequest=" + url.QueryEscape(base64.StdEncoding.EncodeToString(buf.Bytes())) + "&RelayState=" + url.QueryEscape(strings.TrimPrefix(id, "_"))
	if signed, _ := fed.props["isSignedAuthenticationRequestRequired"].(bool); signed {
		q += "&SigAlg=" + url.QueryEscape("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256")
		sum := sha256.Sum256([]byte(q))
		sig, err := rsa.SignPKCS1v15(nil, t.signer.key, crypto.SHA256, sum[:])
		if err != nil {
			return "", fmt.Errorf("sign AuthnRequest: %w", err)
		}
		q += "&Signature=" + url.QueryEscape(base64.StdEncoding.EncodeToString(sig))
	}
	return q, nil
}

// servePasswordSignIn checks a managed-domain password against the
// passwordProfile the provisioner set.
func (t *Tenant) servePasswordSignIn(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		t.errorPage(w, "password", "", 900144, "The request body must contain the following parameter: 'username'.")
		return
	}
	upn, pw := r.PostForm.Get("username"), r.PostForm.Get("password")
	t.mu.RLock()
	u := t.dir.userByKey(upn)
	var ok, enabled, federated bool
	if u != nil {
		ok = u.password.Password != "" && u.password.Password == pw
		enabled = u.boolean("accountEnabled")
		federated = t.federatedUPN(u)
	}
	t.mu.RUnlock()
	switch {
	case u == nil:
		t.errorPage(w, "password", upn, 50034, fmt.Sprintf("The user account %s does not exist in the %s directory.", upn, t.tenantID))
	case federated:
		t.errorPage(w, "password", upn, 50126, "Error validating credentials due to invalid username or password.")
	case !ok:
		t.errorPage(w, "password", upn, 50126, "Error validating credentials due to invalid username or password.")
	case !enabled:
		t.errorPage(w, "password", upn, 50057, "The user account is disabled.")
	default:
		t.signedIn(w, "password", u)
	}
}
