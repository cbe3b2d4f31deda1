package provision

import (
	"context"
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/o365prov/o365prov/internal/console"
	"github.com/o365prov/o365prov/internal/sso"
	"github.com/o365prov/o365prov/internal/state"
)

// SignInMetrics counts the identity provider's sign-ins by result and
// follows its signing certificates' expiry (the console's monitor does).
// result is one of success, bad_password, locked, disabled,
// password_expired, not_provisioned, error.
type SignInMetrics interface {
	SignIn(result string)
	CertificateExpiry(use string, notAfter time.Time)
}

// recentSignIns is how many sign-in attempts the console shows.
const recentSignIns = 50

// signInDetail is a sign-in's audit detail, "LOGIN from ADDR by PROTOCOL"
// and ": REASON" on a failure. A login with a space, a quote or a control
// character is quoted, so that what a person types cannot pass for the
// address or protocol when parseSignInDetail reads it back.
func signInDetail(e sso.Event) string {
	login := e.Login
	if login == "" || strings.ContainsFunc(login, func(r rune) bool { return unicode.IsSpace(r) || r == '"' || !unicode.IsPrint(r) }) {
		login = strconv.Quote(login)
	}
	detail := fmt.Sprintf("%s from %s by %s", login, e.From, e.Protocol)
	if e.Reason != "" {
		detail += ": " + e.Reason
	}
	return detail
}

// parseSignInDetail reads signInDetail back; ok is false for a detail it
// did not write.
func parseSignInDetail(detail string) (login, from, protocol, reason string, ok bool) {
	rest := detail
	if strings.HasPrefix(rest, `"`) {
		q, err := strconv.QuotedPrefix(rest)
		if err != nil {
			return "", "", "", "", false
		}
		login, _ = strconv.Unquote(q)
		rest = rest[len(q):]
	} else {
		i := strings.IndexByte(rest, ' ')
		if i < 0 {
			return "", "", "", "", false
		}
		login, rest = rest[:i], rest[i:]
	}
	rest, found := strings.CutPrefix(rest, " from ")
	if !found {
		return "", "", "", "", false
	}
	from, rest, found = strings.Cut(rest, " by ")
	if !found || strings.Contains(from, " ") {
		return "", "", "", "", false
	}
	protocol, reason, _ = strings.Cut(rest, ": ")
	return login, from, protocol, reason, true
}

// signInResult is a sign-in's result for the metrics: a bounded set.
func signInResult(e sso.Event) string {
	if e.Result == "ok" {
		return "success"
	}
	for _, r := range []struct {
		text, result string
	}{
		{sso.ErrInvalidCredentials.Error(), "bad_password"},
		{"locked out by o365prov", "locked"},
		{sso.ErrAccountLocked.Error(), "locked"},
		{sso.ErrAccountDisabled.Error(), "disabled"},
		{sso.ErrPasswordExpired.Error(), "password_expired"},
		{sso.ErrNotProvisioned.Error(), "not_provisioned"},
	} {
		if strings.HasPrefix(e.Reason, r.text) || strings.HasSuffix(e.Reason, r.text) {
			return r.result
		}
	}
	return "error"
}

// reportCertificates tells m when the signing certificates expire.
func reportCertificates(m SignInMetrics, keys sso.Keys) {
	if m == nil {
		return
	}
	if keys.Current.Cert != nil {
		m.CertificateExpiry("current", keys.Current.Cert.NotAfter)
	}
	if keys.Next != nil && keys.Next.Cert != nil {
		m.CertificateExpiry("next", keys.Next.Cert.NotAfter)
	}
}

// ConsoleSignIns is the console's Sign-in page, read from the audit log,
// the signing keys and the tenant; nil when the configuration has no sso
// section.
func (s *System) ConsoleSignIns(clock func() time.Time) console.SignIns {
	if s.Config.SSO == nil {
		return nil
	}
	if clock == nil {
		clock = time.Now
	}
	return signInPage{s: s, clock: clock}
}

type signInPage struct {
	s     *System
	clock func() time.Time
}

func (p signInPage) SignInSummary(ctx context.Context) (console.SignInSummary, error) {
	var sum console.SignInSummary
	entries, err := p.s.Store.QueryAudit(ctx, state.AuditQuery{Operation: "signIn", Limit: recentSignIns})
	if err != nil {
		return sum, fmt.Errorf("read sign-ins from the audit log: %w", err)
	}
	sum.Recent = make([]console.SignIn, 0, len(entries))
	for _, e := range entries {
		si := console.SignIn{Time: e.Time, DN: e.DN, Result: e.Result}
		var ok bool
		if si.User, si.From, si.Protocol, si.Reason, ok = parseSignInDetail(e.Detail); !ok {
			si.User, si.Reason = e.DN, e.Detail
		}
		sum.Recent = append(sum.Recent, si)
	}
	keys, err := SSOKeys(ctx, p.s.Config, p.s.Store)
	if err != nil {
		return sum, fmt.Errorf("sso signing keys: %w", err)
	}
	reportCertificates(p.s.signInMetrics, keys)
	now := p.clock()
	sum.Certificates = append(sum.Certificates, consoleCertificate("current", keys.Current.Cert, now))
	if keys.Next != nil {
		sum.Certificates = append(sum.Certificates, consoleCertificate("next", keys.Next.Cert, now))
	}
	for _, d := range p.s.Config.SSO.Domains {
		sum.Domains = append(sum.Domains, p.federation(ctx, keys, d))
	}
	return sum, nil
}

func consoleCertificate(use string, c *x509.Certificate, now time.Time) console.Certificate {
	if c == nil {
		return console.Certificate{Use: use}
	}
	return console.Certificate{Use: use, Subject: c.Subject.String(), Thumbprint: thumbprint(c.Raw),
		NotAfter: c.NotAfter, DaysLeft: console.DaysLeft(now, c.NotAfter)}
}

// federation compares the domain's federation in the tenant with ours, as
// `o365prov federate --show` does. A domain the tenant cannot be asked
// about says why rather than failing the page.
func (p signInPage) federation(ctx context.Context, keys sso.Keys, domain string) console.Federation {
	f := console.Federation{Domain: domain}
	cur, err := p.s.Graph.GetFederation(ctx, domain)
	if err != nil {
		f.Error = fmt.Sprintf("read the tenant's federation of %s: %v", domain, err)
		return f
	}
	protocol := "wsFed"
	if cur != nil && cur.PreferredAuthenticationProtocol == "saml" {
		protocol = "saml"
	}
	ours, err := DesiredFederation(p.s.Config, keys, domain, protocol)
	if err != nil {
		f.Error = err.Error()
		return f
	}
	f.Federated = cur != nil
	for _, fld := range CompareFederation(cur, ours) {
		f.Settings = append(f.Settings, console.FederationSetting{Name: fld.Name,
			Tenant: ShowFederationValue(fld.Name, fld.Tenant), Ours: ShowFederationValue(fld.Name, fld.Ours), Differs: fld.Differs()})
		if fld.Differs() {
			f.Differing++
		}
	}
	return f
}

// ShowFederationValue shows a federation setting to a person:
// certificates by SHA-1 thumbprint and expiry, the way administrators
// compare them; "-" for none.
func ShowFederationValue(name, v string) string {
	if v == "" {
		return "-"
	}
	if !strings.HasSuffix(name, "Certificate") {
		return v
	}
	der, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return "(not base64)"
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return "(not a certificate)"
	}
	return fmt.Sprintf("%s (until %s)", thumbprint(der), c.NotAfter.Format("2006-01-02"))
}

// thumbprint is a certificate's SHA-1 thumbprint, as Windows and Entra
// show it.
func thumbprint(der []byte) string {
	sum := sha1.Sum(der)
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}
