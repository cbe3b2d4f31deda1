package faketenant

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/beevik/etree"
	"github.com/golang-jwt/jwt/v5"
)

// The OAuth grants that sign a user in with a federated token (RFC 7522 as
// Entra names them) or a password.
const (
	grantSAML11   = "urn:ietf:params:oauth:grant-type:saml1_1-bearer"
	grantSAML2    = "urn:ietf:params:oauth:grant-type:saml2-bearer"
	grantPassword = "password"
)

// isUserGrant reports whether a token request signs a user in (as opposed
// to client credentials, which serveToken answers).
func isUserGrant(r *http.Request) bool {
	if r.Method != http.MethodPost {
		return false
	}
	switch r.PostFormValue("grant_type") {
	case grantSAML11, grantSAML2, grantPassword:
		return true
	}
	return false
}

// serveUserToken is POST /{tenant}/oauth2/v2.0/token with a user grant: a
// SAML assertion the client got from the domain's WS-Trust endpoint, or a
// user name and password (for a federated user the tenant itself asks the
// identity provider). The assertion is verified as /login.srf verifies it.
func (t *Tenant) serveUserToken(w http.ResponseWriter, r *http.Request, tenantSeg string) {
	if !t.knowsTenant(tenantSeg) {
		t.aadError(w, r, http.StatusBadRequest, "invalid_request", 90002, fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.", tenantSeg))
		return
	}
	f := r.PostForm
	clientID := f.Get("client_id")
	if clientID == "" {
		t.aadError(w, r, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'client_id'.")
		return
	}
	app := t.apps[strings.ToLower(clientID)]
	if app == nil {
		t.aadError(w, r, http.StatusBadRequest, "unauthorized_client", 700016, fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'.", clientID, tenantSeg))
		return
	}
	if strings.TrimSpace(f.Get("scope")) == "" {
		t.aadError(w, r, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'scope'.")
		return
	}
	var u *object
	var err error
	protocol := "wstrust"
	switch gt := f.Get("grant_type"); gt {
	case grantSAML11, grantSAML2:
		u, err = t.userFromAssertion(gt, f.Get("assertion"))
	case grantPassword:
		protocol = "password"
		u, err = t.userFromPassword(r, f.Get("username"), f.Get("password"))
	}
	if err != nil {
		var se *signinError
		if !errors.As(err, &se) {
			se = sfail(50008, "SAML token is invalid. %v", err)
		}
		t.signin.record(SignIn{Time: t.wall.Now(), Protocol: protocol, UPN: f.Get("username"), Error: se.Error(), OK: false})
		t.aadError(w, r, http.StatusBadRequest, "invalid_grant", se.code, se.msg)
		return
	}
	t.signin.record(SignIn{Time: t.wall.Now(), Protocol: protocol, UPN: u.str("userPrincipalName"), UserID: u.id, OK: true})
	t.writeUserToken(w, r, app, u, f.Get("scope"))
}

// userFromAssertion verifies a base64 SAML assertion and finds its user.
func (t *Tenant) userFromAssertion(grantType, encoded string) (*object, error) {
	if encoded == "" {
		return nil, sfail(900144, "The request body must contain the following parameter: 'assertion'.")
	}
	raw, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		if raw, err = base64.RawURLEncoding.DecodeString(strings.TrimRight(encoded, "=")); err != nil {
			return nil, sfail(50008, "SAML token is invalid: the assertion is not base64.")
		}
	}
	var c *claimsIn
	if grantType == grantSAML11 {
		c, err = t.verifyWSFed(string(raw))
	} else {
		c, err = t.verifySAML2Assertion(raw)
	}
	if err != nil {
		return nil, err
	}
	return t.matchUser(c)
}

// verifySAML2Assertion reads a bare, signed SAML 2.0 assertion (the
// saml2-bearer grant): the claims a SAML 2.0 Response to /login.srf carries.
func (t *Tenant) verifySAML2Assertion(raw []byte) (*claimsIn, error) {
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil || doc.Root() == nil || doc.Root().Tag != "Assertion" || doc.Root().SelectAttrValue("Version", "") != "2.0" {
		return nil, sfail(50008, "SAML token is invalid: the assertion is not a SAML 2.0 assertion.")
	}
	issuer := elText(doc.Root(), "./Issuer")
	certs, ok := t.federationsFor(issuer)
	if !ok {
		return nil, sfail(50107, "The requested federation realm object '%s' does not exist.", issuer)
	}
	a, err := t.verifySignature(doc.Root(), certs, "ID")
	if err != nil {
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
	for _, attr := range a.FindElements("./AttributeStatement/Attribute") {
		if v := attr.FindElement("./AttributeValue"); v != nil && strings.EqualFold(attr.SelectAttrValue("Name", ""), "IDPEmail") {
			c.upn = strings.TrimSpace(v.Text())
		}
	}
	return c, nil
}

// userFromPassword is the password grant: a managed user's password is
// checked here; a federated user's goes to the domain's WS-Trust endpoint.
func (t *Tenant) userFromPassword(r *http.Request, upn, password string) (*object, error) {
	if upn == "" || password == "" {
		return nil, sfail(900144, "The request body must contain the following parameters: 'username' and 'password'.")
	}
	_, dom, _ := strings.Cut(upn, "@")
	t.mu.RLock()
	u := t.dir.userByKey(upn)
	federated, mex := false, ""
	if d := t.dir.domain(dom); d != nil && d.fed != nil {
		federated = true
		mex, _ = d.fed.props["metadataExchangeUri"].(string)
	}
	var ok, enabled bool
	if u != nil {
		ok = u.password.Password != "" && u.password.Password == password
		enabled = u.boolean("accountEnabled")
	}
	t.mu.RUnlock()
	if federated {
		res, err := t.askIdentityProvider(r.Context(), mex, upn, password)
		if err != nil {
			return nil, err
		}
		c, err := t.verifyWSFed(string(res))
		if err != nil {
			return nil, err
		}
		return t.matchUser(c)
	}
	switch {
	case u == nil:
		return nil, sfail(50034, "The user account %s does not exist in the %s directory.", upn, t.tenantID)
	case !ok:
		return nil, sfail(50126, "Error validating credentials due to invalid username or password.")
	case !enabled:
		return nil, sfail(50057, "The user account is disabled.")
	}
	return u, nil
}

// writeUserToken answers with a delegated access token, an ID token and
// client_info, the shape MSAL caches an account from.
func (t *Tenant) writeUserToken(w http.ResponseWriter, r *http.Request, app *registeredApp, u *object, scope string) {
	now := t.wall.Now()
	exp := now.Add(accessTokenLifetime)
	upn := u.str("userPrincipalName")
	var scp []string
	for _, s := range strings.Fields(scope) {
		switch s {
		case "openid", "profile", "offline_access":
		default:
			scp = append(scp, strings.TrimPrefix(s, graphAudience+"/"))
		}
	}
	iss := "https://sts.windows.net/" + t.tenantID + "/"
	access, err := t.signJWT(jwt.MapClaims{
		"aud": graphAudience, "iss": iss, "iat": now.Unix(), "nbf": now.Unix(), "exp": exp.Unix(),
		"amr": []string{"pwd"}, "appid": app.clientID, "idtyp": "user", "name": u.str("displayName"),
		"oid": u.id, "sub": u.id, "scp": strings.Join(scp, " "), "tid": t.tenantID, "unique_name": upn, "upn": upn,
		"uti": t.ids.guid(), "ver": "1.0",
	})
	var id string
	if err == nil {
		id, err = t.signJWT(jwt.MapClaims{
			"aud": app.clientID, "iss": baseURL(r) + "/" + t.tenantID + "/v2.0", "iat": now.Unix(), "nbf": now.Unix(), "exp": exp.Unix(),
			"name": u.str("displayName"), "oid": u.id, "preferred_username": upn, "sub": u.id, "tid": t.tenantID, "ver": "2.0",
		})
	}
	if err != nil {
		t.log.Error("issue user token", "err", err)
		t.aadError(w, r, http.StatusInternalServerError, "server_error", 50000, "There was an error issuing a token.")
		return
	}
	info, _ := marshalNoEscape(jsonObject{{"uid", u.id}, {"utid", t.tenantID}})
	secs := int(accessTokenLifetime.Seconds())
	writeLoginJSON(w, http.StatusOK, jsonObject{
		{"token_type", "Bearer"}, {"scope", strings.Join(strings.Fields(scope), " ")}, {"expires_in", secs}, {"ext_expires_in", secs},
		{"access_token", access}, {"id_token", id}, {"client_info", b64url(info)},
	})
}

func (t *Tenant) signJWT(claims jwt.MapClaims) (string, error) {
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = t.signer.kid
	s, err := tok.SignedString(t.signer.key)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return s, nil
}
