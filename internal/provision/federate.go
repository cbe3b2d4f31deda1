package provision

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/beevik/etree"
	"github.com/o365prov/o365prov/internal/config"
	"github.com/o365prov/o365prov/internal/graph"
	"github.com/o365prov/o365prov/internal/sso"
)

// DesiredFederation is the internalDomainFederation a domain needs to sign
// in through o365prov's identity provider (docs/graph.md §10.2).
func DesiredFederation(cfg *config.Config, keys sso.Keys, domain, protocol string) (graph.FederationConfig, error) {
	s := cfg.SSO
	base := strings.TrimSuffix(s.BaseURL, "/")
	f := graph.FederationConfig{
		DisplayName: s.Organisation, IssuerURI: s.Issuer, SigningCertificate: keys.Current.CertBase64(),
		PreferredAuthenticationProtocol: protocol,
		// o365prov asks for a password only: Entra does its own MFA.
		FederatedIdpMfaBehavior: "rejectMfaByFederatedIdp",
		PromptLoginBehavior:     "nativeSupport",
	}
	if f.DisplayName == "" {
		f.DisplayName = domain
	}
	if keys.Next != nil {
		f.NextSigningCertificate = keys.Next.CertBase64()
	}
	switch protocol {
	case "wsFed":
		f.PassiveSignInURI, f.SignOutURI = base+"/idp/prp.wsf", base+"/idp/prp.wsf"
		// Rich clients (MSAL's password grant) and Entra itself find the
		// WS-Trust endpoint through MEX (docs/sso.md, "Rich clients").
		f.ActiveSignInURI, f.MetadataExchangeURI = base+sso.ActivePath, base+sso.MEXPath
	case "saml":
		f.PassiveSignInURI, f.SignOutURI = base+"/idp/SSO.saml2", base+"/idp/SLO.saml2"
	default:
		return graph.FederationConfig{}, fmt.Errorf("--protocol %q: want wsFed or saml", protocol)
	}
	return f, nil
}

// FederationField is one setting, as the tenant has it and as o365prov
// wants it.
type FederationField struct {
	Name, Tenant, Ours string
}

// Differs reports whether the tenant must change.
func (f FederationField) Differs() bool { return f.Tenant != f.Ours }

// CompareFederation lists every setting o365prov manages.
func CompareFederation(tenant *graph.FederationConfig, ours graph.FederationConfig) []FederationField {
	var t graph.FederationConfig
	if tenant != nil {
		t = *tenant
	}
	return []FederationField{
		{"issuerUri", t.IssuerURI, ours.IssuerURI},
		{"passiveSignInUri", t.PassiveSignInURI, ours.PassiveSignInURI},
		{"signOutUri", t.SignOutURI, ours.SignOutURI},
		{"activeSignInUri", t.ActiveSignInURI, ours.ActiveSignInURI},
		{"metadataExchangeUri", t.MetadataExchangeURI, ours.MetadataExchangeURI},
		{"signingCertificate", t.SigningCertificate, ours.SigningCertificate},
		{"nextSigningCertificate", t.NextSigningCertificate, ours.NextSigningCertificate},
		{"preferredAuthenticationProtocol", t.PreferredAuthenticationProtocol, ours.PreferredAuthenticationProtocol},
		{"federatedIdpMfaBehavior", t.FederatedIdpMfaBehavior, ours.FederatedIdpMfaBehavior},
		{"promptLoginBehavior", t.PromptLoginBehavior, ours.PromptLoginBehavior},
		{"displayName", t.DisplayName, ours.DisplayName},
	}
}

// ApplyFederation creates the domain's federation, or patches the
// settings that differ. It returns the fields it changed.
func ApplyFederation(ctx context.Context, g *graph.Client, domain string, ours graph.FederationConfig) ([]FederationField, error) {
	cur, err := g.GetFederation(ctx, domain)
	if err != nil {
		return nil, err
	}
	var changed []FederationField
	for _, f := range CompareFederation(cur, ours) {
		if f.Differs() {
			changed = append(changed, f)
		}
	}
	if cur == nil {
		if _, err := g.CreateFederation(ctx, domain, ours); err != nil {
			return nil, err
		}
		return changed, nil
	}
	if len(changed) == 0 {
		return nil, nil
	}
	props := graph.Properties{}
	for _, f := range changed {
		if f.Ours == "" && (f.Name == "nextSigningCertificate" || strings.HasSuffix(f.Name, "Uri")) {
			props[f.Name] = nil
			continue
		}
		props[f.Name] = f.Ours
	}
	if _, err := g.UpdateFederation(ctx, domain, cur.ID, props); err != nil {
		return nil, err
	}
	return changed, nil
}

// RemoveFederation returns a domain to managed sign-in.
func RemoveFederation(ctx context.Context, g *graph.Client, domain string) (bool, error) {
	cur, err := g.GetFederation(ctx, domain)
	if err != nil || cur == nil {
		return false, err
	}
	return true, g.DeleteFederation(ctx, domain, cur.ID)
}

// ErrIdPUnreachable says the identity provider does not answer at its
// baseURL with the certificate a federation would name: federating now
// would stop the domain's users signing in.
var ErrIdPUnreachable = errors.New("the identity provider is not reachable at sso.baseURL")

// CheckIdP fetches the SAML metadata at baseURL and requires it to publish
// the current signing certificate.
func CheckIdP(ctx context.Context, client *http.Client, baseURL string, keys sso.Keys) error {
	u := strings.TrimSuffix(baseURL, "/") + "/idp/metadata.xml"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrIdPUnreachable, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%w: GET %s: %v", ErrIdPUnreachable, u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil || resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%w: GET %s answered %s", ErrIdPUnreachable, u, resp.Status)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(body); err != nil {
		return fmt.Errorf("%w: %s is not metadata", ErrIdPUnreachable, u)
	}
	for _, c := range doc.FindElements("//X509Certificate") {
		der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(c.Text()), ""))
		if err != nil {
			continue
		}
		if cert, err := x509.ParseCertificate(der); err == nil && cert.Equal(keys.Current.Cert) {
			return nil
		}
	}
	return fmt.Errorf("%w: %s does not publish the signing certificate this configuration uses (is another instance or an old key serving?)", ErrIdPUnreachable, u)
}
