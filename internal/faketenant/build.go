package faketenant

import (
	"fmt"
	"os"
	"strings"
)

// buildDirectory creates the empty directory the config describes: domains
// (the initial one always), federation settings and subscriptions.
func (t *Tenant) buildDirectory() (*directory, error) {
	d := newDirectory()
	d.domains = append(d.domains, &domain{name: t.initial, verified: true, isInitial: true})
	hasDefault := false
	for i, dc := range t.cfg.Domains {
		name := strings.ToLower(strings.TrimSpace(dc.Name))
		if name == "" || !strings.Contains(name, ".") {
			return nil, fmt.Errorf("domains[%d].name %q: not a domain name", i, dc.Name)
		}
		dm := d.domain(name)
		if dm == nil {
			dm = &domain{name: name, verified: true}
			d.domains = append(d.domains, dm)
		}
		if dc.Verified != nil {
			dm.verified = *dc.Verified
		}
		if dc.Default {
			if hasDefault {
				return nil, fmt.Errorf("domains[%d]: only one domain can be the default", i)
			}
			if !dm.verified {
				return nil, fmt.Errorf("domains[%d]: an unverified domain cannot be the default", i)
			}
			dm.isDefault, hasDefault = true, true
		}
		if dc.Federation != nil {
			fed, err := t.federationFromSpec(dc.Federation)
			if err != nil {
				return nil, fmt.Errorf("domains[%d].federation: %w", i, err)
			}
			dm.fed = fed
		}
	}
	if !hasDefault {
		d.domains[0].isDefault = true
	}
	skus, err := buildSKUs(t.cfg.SKUs)
	if err != nil {
		return nil, err
	}
	d.skus = skus
	return d, nil
}

func buildSKUs(cfgs []SKUConfig) ([]*sku, error) {
	var out []*sku
	for i, sc := range cfgs {
		s := &sku{part: sc.SkuPartNumber, skuID: strings.ToLower(sc.SkuID), plans: sc.ServicePlans,
			enabled: sc.Units, suspended: sc.Suspended, warning: sc.Warning}
		if c, ok := lookupCatalog(sc.SkuPartNumber); ok {
			s.part = c.partNumber
			if s.skuID == "" {
				s.skuID = c.skuID
			}
			if len(s.plans) == 0 {
				s.plans = c.plans
			}
		}
		if s.part == "" || !isGUID(s.skuID) {
			return nil, fmt.Errorf("skus[%d]: %q is not in the built-in catalogue; give skuPartNumber and skuId", i, sc.SkuPartNumber)
		}
		if sc.Units < 0 {
			return nil, fmt.Errorf("skus[%d].units: must not be negative", i)
		}
		for _, o := range out {
			if o.skuID == s.skuID {
				return nil, fmt.Errorf("skus[%d]: duplicate skuId %s", i, s.skuID)
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// federationFromSpec turns a config federation block into the stored
// internalDomainFederation.
func (t *Tenant) federationFromSpec(fs *FederationSpec) (*federation, error) {
	cert := fs.SigningCertificate
	if cert == "" && fs.SigningCertificateFile != "" {
		data, err := os.ReadFile(t.cfg.resolvePath(fs.SigningCertificateFile))
		if err != nil {
			return nil, fmt.Errorf("signingCertificateFile: %w", err)
		}
		cert = string(data)
	}
	body := map[string]any{
		"displayName": fs.DisplayName, "issuerUri": fs.IssuerURI, "metadataExchangeUri": fs.MetadataExchangeURI,
		"passiveSignInUri": fs.PassiveSignInURI, "activeSignInUri": fs.ActiveSignInURI, "signOutUri": fs.SignOutURI,
		"preferredAuthenticationProtocol": fs.PreferredAuthenticationProtocol, "promptLoginBehavior": fs.PromptLoginBehavior,
		"federatedIdpMfaBehavior": fs.FederatedIdpMfaBehavior, "isSignedAuthenticationRequestRequired": fs.IsSignedAuthenticationRequestRequired,
	}
	if cert != "" {
		c, err := parseCertificate([]byte(cert))
		if err != nil {
			return nil, fmt.Errorf("signingCertificate: %w", err)
		}
		body["signingCertificate"] = derBase64(c)
	}
	if fs.NextSigningCertificate != "" {
		c, err := parseCertificate([]byte(fs.NextSigningCertificate))
		if err != nil {
			return nil, fmt.Errorf("nextSigningCertificate: %w", err)
		}
		body["nextSigningCertificate"] = derBase64(c)
	}
	for k, v := range body {
		if s, ok := v.(string); ok && s == "" {
			delete(body, k)
		}
	}
	if cert == "" {
		return nil, fmt.Errorf("signingCertificate or signingCertificateFile is required to verify sign-ins")
	}
	fed := &federation{id: t.ids.guid(), props: map[string]any{}}
	if msg := applyFederation(fed, body, true); msg != "" {
		return nil, fmt.Errorf("%s", msg)
	}
	return fed, nil
}
