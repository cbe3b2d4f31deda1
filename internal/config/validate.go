package config

import (
	"net"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"
)

// validate reports every rule the decoded configuration breaks, and records
// advice that does not stop it from running as warnings.
func validate(c *Config, ps *problemSet) {
	validateState(&c.State, ps)
	validateTarget(&c.Target, ps)
	if len(c.Channels) == 0 && c.SSO == nil {
		ps.add("channels", "no channel (add at least one, or an sso section)")
	}
	ws := newProblemSet(c.File)
	ws.lines = ps.lines
	names := map[string]int{}
	for i := range c.Channels {
		path := index("channels", i)
		ch := &c.Channels[i]
		if j, dup := names[ch.Name]; dup && ch.Name != "" {
			ps.add(join(path, "name"), "%q is already the name of channels[%d] (names must be unique)", ch.Name, j)
		}
		names[ch.Name] = i
		validateChannel(ch, path, ps)
		channelWarnings(ch, path, ws)
	}
	if c.SSO != nil {
		validateSSO(c, ps)
	}
	if c.Console != nil {
		validateConsole(c.Console, ps, ws)
	}
	c.Warnings = ws.list
}

func validateState(s *State, ps *problemSet) {
	switch s.Driver {
	case "sqlite":
	case "postgres":
		if !s.DSN.IsSet() {
			ps.add("state.dsn", "required for postgres (a connection string, e.g. postgres://o365prov@db/o365prov)")
		}
	default:
		ps.add("state.driver", "%q is not a state driver (sqlite or postgres)", s.Driver)
	}
	// Under 3 s, renewals (every sixth of it) would load the database and
	// a slow query would cost a node its channels; over 10 min, a dead
	// node's channels would wait too long.
	if s.FailoverGrace < 3*time.Second || s.FailoverGrace > 10*time.Minute {
		ps.add("state.failoverGrace", "%v is out of range (3s to 10m)", s.FailoverGrace)
	}
}

func validateTarget(t *Target, ps *problemSet) {
	switch {
	case t.Tenant == "":
		ps.add("target.tenant", "required (the tenant's domain, e.g. contoso.onmicrosoft.com, or its GUID)")
	case !isGUID(t.Tenant) && !isDomain(t.Tenant):
		ps.add("target.tenant", "%q is neither a domain nor a GUID", t.Tenant)
	}
	switch {
	case t.ClientID == "":
		ps.add("target.clientId", "required (the app registration's Application (client) ID, a GUID)")
	case !isGUID(t.ClientID):
		ps.add("target.clientId", "%q is not a GUID (use the Application (client) ID, not the secret's ID)", t.ClientID)
	case t.ClientID == PlaceholderClientID:
		ps.add("target.clientId", "is the placeholder `o365prov init` writes: replace it with the app registration's Application (client) ID (Entra admin center > App registrations)")
	}
	hasCert := t.ClientCertificate != "" || t.ClientKey != ""
	switch {
	case t.ClientSecret.IsSet() && hasCert:
		ps.add("target.clientSecret", "set together with clientCertificate (give a secret or a certificate, not both)")
	case !t.ClientSecret.IsSet() && !hasCert:
		ps.add("target.clientSecret", "required (or clientCertificate and clientKey)")
	case hasCert && t.ClientCertificate == "":
		ps.add("target.clientCertificate", "required with clientKey (a PEM file)")
	case hasCert && t.ClientKey == "":
		ps.add("target.clientKey", "required with clientCertificate (a PEM file)")
	}
	checkFile(ps, "target.clientCertificate", t.ClientCertificate)
	checkFile(ps, "target.clientKey", t.ClientKey)
	checkFile(ps, "target.caFile", t.CAFile)
	checkURL(ps, "target.graphURL", t.GraphURL, true)
	checkURL(ps, "target.loginURL", t.LoginURL, false)
	if t.WriteRate <= 0 {
		ps.add("target.writeRate", "%v is not a rate (writes per second above 0; Graph allows 20)", t.WriteRate)
	}
	if t.ResourceUnits <= 0 {
		ps.add("target.resourceUnits", "%d is not a budget (resource units per 10 s above 0; Graph allows 3500 to 8000)", t.ResourceUnits)
	}
	checkTimeScale(ps, t)
	if t.Proxy != "" {
		u, err := url.Parse(t.Proxy)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "socks5") {
			ps.add("target.proxy", "%q is not a proxy URL (http://, https:// or socks5://host:port)", redactURL(t.Proxy))
		}
	}
}

// PlaceholderClientID is the clientId `o365prov init` writes, to be
// replaced: the nil GUID, which no app registration has.
const PlaceholderClientID = "00000000-0000-0000-0000-000000000000"

var (
	guidRE   = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	domainRE = regexp.MustCompile(`^(?i)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
	nameRE   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$`)
	attrRE   = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]*$`)
)

func isGUID(s string) bool   { return guidRE.MatchString(s) }
func isDomain(s string) bool { return domainRE.MatchString(s) }

// checkURL requires an absolute https URL; plain http is allowed only where
// allowHTTP says so and only for this machine (the fake tenant in a test).
func checkURL(ps *problemSet, path, raw string, allowHTTP bool) {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" {
		ps.add(path, "%q is not an absolute URL (https://host[:port])", raw)
		return
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && allowHTTP && isLoopback(u.Hostname()):
	case u.Scheme == "http" && allowHTTP:
		ps.add(path, "%q uses http (https is required beyond this machine)", raw)
	default:
		ps.add(path, "%q is not https (https is required)", raw)
	}
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkHostPort requires host:port with a numeric port.
func checkHostPort(ps *problemSet, path, addr string) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" || strings.Trim(port, "0123456789") != "" {
		ps.add(path, "%q is not an address to listen on (host:port, e.g. 127.0.0.1:9090 or :9090)", addr)
		return
	}
	_ = host
}

// checkFile requires a named file to exist and be readable.
func checkFile(ps *problemSet, path, name string) {
	if name == "" {
		return
	}
	f, err := os.Open(name)
	if err != nil {
		ps.add(path, "cannot read %s: %v", name, unwrapPathError(err))
		return
	}
	f.Close()
}

// redactURL drops a password from a URL before it is printed.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	return u.Redacted()
}

func oneOf(v string, allowed ...string) bool {
	for _, a := range allowed {
		if v == a {
			return true
		}
	}
	return false
}
