// Package config is o365prov's configuration: the YAML schema, the defaults
// for each kind of directory (PingFederate's "quick connection template"),
// secret references and validation that reports every problem at once with
// its file, line and field.
//
// Nothing here talks to a directory or to Microsoft; the packages that do take
// the parts of Config they need.
package config

import "time"

// Config is the whole configuration file. An example:
//
//	state:
//	  driver: sqlite                   # sqlite (one file) or postgres (clustered)
//	  dsn: /var/lib/o365prov/state.db
//	target:
//	  tenant: contoso.onmicrosoft.com  # tenant domain or GUID
//	  clientId: 6f1c2f1e-8b1a-4a57-9d0a-3c1b7e2a9f10
//	  clientSecret: ${env:O365PROV_CLIENT_SECRET}
//	channels:
//	  - name: staff
//	    source:
//	      type: activeDirectory
//	      url: ldaps://dc1.corp.contoso.com
//	      bindDN: CN=o365prov,OU=Service,DC=corp,DC=contoso,DC=com
//	      password: ${file:/etc/o365prov/ldap-password}
//	      baseDN: DC=corp,DC=contoso,DC=com
//	      users:
//	        groupDN: CN=Office 365 Users,OU=Groups,DC=corp,DC=contoso,DC=com
//	        nestedSearch: true
//	    options:
//	      removeUserAction: disable
//	    mapping:
//	      user:
//	        usageLocation: GB
//	        skuId: ENTERPRISEPACK
//	sso:
//	  listen: 0.0.0.0:9031
//	  baseURL: https://sso.contoso.com
//	  loginSource: staff
//	  domains: [contoso.com]
//	console:
//	  listen: 127.0.0.1:9090
//	  adminToken: ${env:O365PROV_ADMIN_TOKEN}
//
// Every option, its default and what it does are in the file `o365prov init`
// writes, and in docs/configuration.md.
type Config struct {
	State    State     `yaml:"state"`
	Target   Target    `yaml:"target"`
	Channels []Channel `yaml:"channels"`
	SSO      *SSO      `yaml:"sso,omitempty"`
	Console  *Console  `yaml:"console,omitempty"`

	// File is the path the configuration was loaded from, for messages.
	File string `yaml:"-"`
	// Warnings is advice about settings that work but are probably not
	// what was meant; `o365prov check` prints them.
	Warnings []Problem `yaml:"-"`
	// positions maps field paths to their lines in File.
	positions map[string]int
}

// Problem places a problem found after loading (an expression that does not
// compile, say) at the line of its field, so every check reports alike.
func (c *Config) Problem(path, format string, args ...any) Problem {
	ps := newProblemSet(c.File)
	ps.lines = c.positions
	ps.add(path, format, args...)
	return ps.list[0]
}

// State is where o365prov keeps what it has applied.
type State struct {
	Driver string `yaml:"driver"` // sqlite | postgres
	DSN    Secret `yaml:"dsn"`    // a file path for sqlite, a connection string for postgres (it may hold a password)
	// FailoverGrace is how soon another node takes a channel over after its
	// node died (postgres): leases last two thirds of it.
	FailoverGrace time.Duration `yaml:"failoverGrace"`
}

// Target is the Microsoft 365 tenant and the app registration o365prov uses.
type Target struct {
	Tenant            string  `yaml:"tenant"`
	ClientID          string  `yaml:"clientId"`
	ClientSecret      Secret  `yaml:"clientSecret"`
	ClientCertificate string  `yaml:"clientCertificate"` // PEM file with the app's certificate
	ClientKey         string  `yaml:"clientKey"`         // PEM file with its private key
	GraphURL          string  `yaml:"graphURL"`
	LoginURL          string  `yaml:"loginURL"`
	WriteRate         float64 `yaml:"writeRate"`     // writes per second for this app and tenant
	ResourceUnits     int     `yaml:"resourceUnits"` // read budget, resource units per 10 s
	Proxy             string  `yaml:"proxy"`
	CAFile            string  `yaml:"caFile"` // extra CA to trust for graphURL/loginURL (a private proxy, the fake tenant)
	// TimeScale tells the client that the tenant's clock runs this many
	// times faster than the wall's (the fake tenant's --time-scale), so
	// Graph's windows and backoffs shrink with it. Trials only: refused
	// against Microsoft's own Graph endpoints. 0 or 1: real time.
	TimeScale float64 `yaml:"timeScale"`
}

// Channel is one source directory provisioned to the target, PingFederate's
// channel.
type Channel struct {
	Name             string        `yaml:"name"`
	Active           bool          `yaml:"active"`
	Interval         time.Duration `yaml:"interval"`
	FullSyncInterval time.Duration `yaml:"fullSyncInterval"`
	MaxThreads       int           `yaml:"maxThreads"`
	Timeout          time.Duration `yaml:"timeout"`
	Source           Source        `yaml:"source"`
	Options          Options       `yaml:"options"`
	Mapping          Mapping       `yaml:"mapping"`
}

// Directory types.
const (
	ActiveDirectory = "activeDirectory"
	OpenLDAP        = "openldap"
	PingDirectory   = "pingdirectory"
	Generic         = "generic"
)

// Source is the LDAP directory a channel reads.
type Source struct {
	Type               string          `yaml:"type"`
	URL                string          `yaml:"url"`
	StartTLS           bool            `yaml:"startTLS"`
	CAFile             string          `yaml:"caFile"`
	InsecureSkipVerify bool            `yaml:"insecureSkipVerify"`
	BindDN             string          `yaml:"bindDN"`
	Password           Secret          `yaml:"password"`
	BaseDN             string          `yaml:"baseDN"`
	Users              Location        `yaml:"users"`
	Groups             *Location       `yaml:"groups,omitempty"`
	GUIDAttribute      string          `yaml:"guidAttribute"`
	GUIDBinary         bool            `yaml:"guidBinary"`
	UserObjectClass    string          `yaml:"userObjectClass"`
	GroupObjectClass   string          `yaml:"groupObjectClass"`
	MemberAttribute    string          `yaml:"memberAttribute"`
	MemberOfAttribute  string          `yaml:"memberOfAttribute"`
	ChangeDetection    ChangeDetection `yaml:"changeDetection"`
	AccountStatus      AccountStatus   `yaml:"accountStatus"`
	PageSize           int             `yaml:"pageSize"`
	Timeout            time.Duration   `yaml:"timeout"`
}

// Location says which entries of the directory a channel provisions: the
// members of GroupDN, the entries under the base DN matching Filter, or the
// members of GroupDN that also match Filter.
type Location struct {
	GroupDN      string `yaml:"groupDN"`
	NestedSearch bool   `yaml:"nestedSearch"`
	Filter       string `yaml:"filter"`
}

// Change detection algorithms.
const (
	ADUSN               = "ACTIVE_DIRECTORY_USN"
	Timestamp           = "TIMESTAMP"
	TimestampNoNegation = "TIMESTAMP_NO_NEGATION"
	EntryCSN            = "ENTRY_CSN"
)

// Push modes.
const (
	PushAuto = "auto"
	PushOff  = "off"
)

// ChangeDetection is how a channel finds what changed since its last cycle.
type ChangeDetection struct {
	Algorithm string `yaml:"algorithm"`
	Attribute string `yaml:"attribute"`
	// Push: auto uses syncrepl (OpenLDAP) or DirSync/change notification
	// (Active Directory) when the server offers it; off polls on interval.
	Push string `yaml:"push"`
}

// Account status algorithms.
const (
	StatusAD   = "AD"
	StatusFlag = "FLAG"
	StatusNone = "NONE"
)

// AccountStatus is how a channel tells an enabled account from a disabled one.
type AccountStatus struct {
	Algorithm         string `yaml:"algorithm"`
	Attribute         string `yaml:"attribute"`
	FlagValue         string `yaml:"flagValue"`
	FlagMeansDisabled bool   `yaml:"flagMeansDisabled"`
	Default           string `yaml:"default"` // enabled | disabled, when the attribute is absent
}

// Remove user actions.
const (
	RemoveDisable = "disable"
	RemoveDelete  = "delete"
)

// Group types.
const (
	GroupSecurity     = "security"
	GroupMicrosoft365 = "microsoft365"
)

// Options are the workflow switches of a channel (PingFederate's provisioning
// options, and what PingFederate lacks).
type Options struct {
	UserCreate                 bool            `yaml:"userCreate"`
	UserUpdate                 bool            `yaml:"userUpdate"`
	UserDisableDelete          bool            `yaml:"userDisableDelete"`
	ProvisionDisabledUsers     bool            `yaml:"provisionDisabledUsers"`
	RemoveUserAction           string          `yaml:"removeUserAction"`
	RemoveLicensesWhenSkuEmpty bool            `yaml:"removeLicensesWhenSkuEmpty"`
	Base64ImmutableID          bool            `yaml:"base64ImmutableId"`
	GroupCreate                bool            `yaml:"groupCreate"`
	GroupUpdate                bool            `yaml:"groupUpdate"`
	GroupDelete                bool            `yaml:"groupDelete"`
	GroupType                  string          `yaml:"groupType"`
	FlattenNested              bool            `yaml:"flattenNested"`
	AdoptExistingGroups        string          `yaml:"adoptExistingGroups"` // "" (never) or the group property to match on: displayName | mailNickname
	DeleteThreshold            DeleteThreshold `yaml:"deleteThreshold"`
	RestoreDeletedUsers        bool            `yaml:"restoreDeletedUsers"`
	GlobalDefaultPassword      Secret          `yaml:"globalDefaultPassword"`
}

// DeleteThreshold holds a plan whose disables and deletes exceed Count
// objects or Percent of the channel's objects. Zero turns a limit off.
type DeleteThreshold struct {
	Count   int     `yaml:"count"`
	Percent float64 `yaml:"percent"`
}

// Mapping maps target fields (Graph property names, plus skuId,
// disabledPlans, manager, pingSourceDN and password for users) to
// expressions over the source entry.
type Mapping struct {
	User  map[string]FieldMapping `yaml:"user"`
	Group map[string]FieldMapping `yaml:"group"`
}

// SSO is the identity provider o365prov runs for the federated domains.
type SSO struct {
	Listen             string        `yaml:"listen"`
	BaseURL            string        `yaml:"baseURL"`
	Issuer             string        `yaml:"issuer"`
	SigningKey         string        `yaml:"signingKey"`         // PEM or PKCS#12 (.p12, .pfx) file; empty: generated and kept in state
	SigningCertificate string        `yaml:"signingCertificate"` // PEM file
	Protocols          []string      `yaml:"protocols"`          // wsfed, saml2
	LoginSource        string        `yaml:"loginSource"`        // a channel whose directory checks passwords
	ReplyURLs          []string      `yaml:"replyURLs"`
	Domains            []string      `yaml:"domains"`
	SessionLifetime    time.Duration `yaml:"sessionLifetime"`
	TLS                *TLS          `yaml:"tls,omitempty"`
	// SigningKeyPassword opens a PKCS#12 signingKey.
	SigningKeyPassword Secret `yaml:"signingKeyPassword"`
	// KeyEncryptionKey seals the generated signing keys kept in the state
	// store; required when signingKey is not set.
	KeyEncryptionKey Secret `yaml:"keyEncryptionKey"`
	// BehindProxy states that a TLS-terminating proxy is in front, so plain
	// HTTP may be served beyond loopback (and X-Forwarded-For is trusted).
	BehindProxy bool `yaml:"behindProxy"`
	// LoginAttribute is the directory attribute people sign in with
	// (default userPrincipalName for activeDirectory, mail otherwise).
	LoginAttribute string `yaml:"loginAttribute"`
	// RelayStates are the targets an IdP-initiated sign-in may name.
	RelayStates []string `yaml:"relayStates"`
	// SignResponse signs SAML 2.0 Responses as well as their assertions.
	SignResponse bool `yaml:"signResponse"`
	// Organisation is the name shown on the login page.
	Organisation string `yaml:"organisation"`
	// CorporateNetworks are the client address ranges (CIDR) whose
	// sign-ins carry insidecorporatenetwork=true.
	CorporateNetworks []string `yaml:"corporateNetworks"`
}

// Console is the web console, admin API and /metrics.
type Console struct {
	Listen     string `yaml:"listen"`
	AdminToken Secret `yaml:"adminToken"`
	TLS        *TLS   `yaml:"tls,omitempty"`
}

// TLS names a certificate and key (PEM files) to serve with.
type TLS struct {
	Certificate string `yaml:"certificate"`
	Key         string `yaml:"key"`
}

// Channel returns the channel with the given name.
func (c *Config) Channel(name string) (*Channel, bool) {
	for i := range c.Channels {
		if c.Channels[i].Name == name {
			return &c.Channels[i], true
		}
	}
	return nil, false
}
