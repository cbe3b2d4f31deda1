package config

import (
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

func validateSSO(c *Config, ps *problemSet) {
	s := c.SSO
	checkHostPort(ps, "sso.listen", s.Listen)
	if s.BaseURL == "" {
		ps.add("sso.baseURL", "required (the public https URL Microsoft sends users to, e.g. https://sso.contoso.com)")
	} else {
		checkURL(ps, "sso.baseURL", s.BaseURL, true)
	}
	if s.Issuer != "" {
		if u, err := url.Parse(s.Issuer); err != nil || u.Scheme == "" {
			ps.add("sso.issuer", "%q is not a URI (e.g. https://sso.contoso.com or urn:contoso:sso)", s.Issuer)
		}
	}
	switch {
	case IsPKCS12(s.SigningKey):
		checkFile(ps, "sso.signingKey", s.SigningKey)
		if s.SigningCertificate != "" {
			ps.add("sso.signingCertificate", "not used with a PKCS#12 signingKey (the certificate is in the file)")
		}
	case (s.SigningKey == "") != (s.SigningCertificate == ""):
		ps.add("sso.signingKey", "signingKey and signingCertificate go together (set both, or neither to have a key generated)")
	default:
		checkFile(ps, "sso.signingKey", s.SigningKey)
		checkFile(ps, "sso.signingCertificate", s.SigningCertificate)
	}
	for i, p := range s.Protocols {
		if !oneOf(p, "wsfed", "saml2") {
			ps.add(index("sso.protocols", i), "%q is not a protocol (wsfed or saml2)", p)
		}
	}
	switch {
	case s.LoginSource == "":
		ps.add("sso.loginSource", "required (the name of the channel whose directory checks passwords)")
	default:
		if _, ok := c.Channel(s.LoginSource); !ok {
			ps.add("sso.loginSource", "%q names no channel (channels: %s)", s.LoginSource, strings.Join(channelNames(c), ", "))
		}
	}
	for i, r := range s.ReplyURLs {
		if u, err := url.Parse(r); err != nil || u.Scheme != "https" || u.Host == "" {
			ps.add(index("sso.replyURLs", i), "%q is not an https URL", r)
		}
	}
	for i, d := range s.Domains {
		if !isDomain(d) {
			ps.add(index("sso.domains", i), "%q is not a domain name", d)
		}
	}
	if s.SessionLifetime < time.Minute {
		ps.add("sso.sessionLifetime", "%v is too short (at least 1m)", s.SessionLifetime)
	}
	checkTLS(ps, "sso.tls", s.TLS)
	if s.SigningKey == "" && !s.KeyEncryptionKey.IsSet() {
		ps.add("sso.keyEncryptionKey", "required when signingKey is not set (a secret of at least 16 characters that seals the generated signing key, e.g. ${file:/etc/o365prov/sso-key-secret})")
	} else if s.KeyEncryptionKey.IsSet() && len(s.KeyEncryptionKey.Value()) < 16 {
		ps.add("sso.keyEncryptionKey", "too short (at least 16 characters)")
	}
	if s.TLS == nil && !s.BehindProxy {
		if host, _, err := net.SplitHostPort(s.Listen); err == nil && !isLoopback(host) {
			ps.add("sso.tls", "required when listening on %q (passwords must travel over TLS); or set behindProxy: true when a TLS-terminating proxy is in front", s.Listen)
		}
	}
	for i, n := range s.CorporateNetworks {
		if _, err := netip.ParsePrefix(n); err != nil {
			ps.add(index("sso.corporateNetworks", i), "%q is not an address range (CIDR, e.g. 10.0.0.0/8 or 2001:db8::/32)", n)
		}
	}
	for i, r := range s.RelayStates {
		if u, err := url.Parse(r); err != nil || u.Scheme != "https" || u.Host == "" {
			ps.add(index("sso.relayStates", i), "%q is not an https URL", r)
		}
	}
}

func validateConsole(c *Console, ps, ws *problemSet) {
	checkHostPort(ps, "console.listen", c.Listen)
	host, _, err := net.SplitHostPort(c.Listen)
	switch {
	case !c.AdminToken.IsSet():
		// Without a token the console has no sign-in, so it listens on
		// loopback only, whatever the address says.
		if err == nil && !isLoopback(host) {
			ws.add("console.adminToken", "not set: the console listens on loopback only, without sign-in, whatever console.listen says (set a random string of at least 16 characters, e.g. ${env:O365PROV_ADMIN_TOKEN})")
		}
		checkTLS(ps, "console.tls", c.TLS)
		return
	case len(c.AdminToken.Value()) < 16:
		ps.add("console.adminToken", "too short (at least 16 characters)")
	}
	checkTLS(ps, "console.tls", c.TLS)
	if c.TLS == nil && err == nil && !isLoopback(host) {
		ps.add("console.tls", "required when listening on %q (beyond this machine the admin token must travel over TLS)", c.Listen)
	}
}

func checkTLS(ps *problemSet, path string, t *TLS) {
	if t == nil {
		return
	}
	if t.Certificate == "" {
		ps.add(join(path, "certificate"), "required (a PEM file)")
	}
	if t.Key == "" {
		ps.add(join(path, "key"), "required (a PEM file)")
	}
	checkFile(ps, join(path, "certificate"), t.Certificate)
	checkFile(ps, join(path, "key"), t.Key)
}

func channelNames(c *Config) []string {
	names := make([]string, len(c.Channels))
	for i, ch := range c.Channels {
		names[i] = ch.Name
	}
	return names
}

// IsPKCS12 reports whether a signing key file is PKCS#12 (by its name).
func IsPKCS12(path string) bool {
	p := strings.ToLower(path)
	return strings.HasSuffix(p, ".p12") || strings.HasSuffix(p, ".pfx")
}
