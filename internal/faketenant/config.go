package faketenant

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.yaml.in/yaml/v4"
)

// Config describes one fake tenant. The zero value is not usable; start from
// DemoConfig or LoadConfig.
type Config struct {
	Tenant     TenantConfig     `yaml:"tenant"`
	Domains    []DomainConfig   `yaml:"domains"`
	Apps       []AppConfig      `yaml:"apps"`
	SKUs       []SKUConfig      `yaml:"skus"`
	Throttling ThrottlingConfig `yaml:"throttling"`
	// TimeScale makes tenant time run this many times faster than the wall
	// clock (throttling windows, Retry-After, latency, replication lag,
	// deleted-item expiry). 0 means 1.
	TimeScale float64       `yaml:"timeScale"`
	Latency   LatencyConfig `yaml:"latency"`
	// ReplicationLag hides a new object from reads and references by id for
	// this long (tenant time), as Entra's replicas do (graph.md §7).
	ReplicationLag time.Duration `yaml:"replicationLag"`
	Faults         FaultConfig   `yaml:"faults"`
	// Seed seeds the random choices that shape behaviour (latency, faults,
	// batch response order), so a run is reproducible. 0 picks 1. Object ids
	// and request-ids are drawn from Rand instead, so that they never repeat
	// across runs or --state restarts.
	Seed uint64 `yaml:"seed"`
	// Rand seeds the id generator; nil means crypto/rand.
	Rand io.Reader `yaml:"-"`
	// StatePath, when set, persists the directory to this JSON file.
	StatePath string `yaml:"statePath"`

	// Clock is the wall clock; nil means the system clock.
	Clock Clock `yaml:"-"`
	// Logger receives operational messages; nil discards them. Secrets are
	// never logged.
	Logger *slog.Logger `yaml:"-"`
	// FederationClient is what the tenant fetches a federated domain's MEX
	// and posts WS-Trust with (the password grant); nil means
	// http.DefaultClient.
	FederationClient *http.Client `yaml:"-"`

	baseDir string
}

// TenantConfig names the tenant.
type TenantConfig struct {
	// ID is the tenant GUID.
	ID string `yaml:"id"`
	// Name gives the initial domain, <name>.onmicrosoft.com.
	Name        string `yaml:"name"`
	DisplayName string `yaml:"displayName"`
	// SizeClass picks the resource-unit quota of graph.md §6.2: S, M, L, or
	// auto (the default), which follows the number of users.
	SizeClass string `yaml:"sizeClass"`
}

// DomainConfig is one custom domain. The initial domain is always added.
type DomainConfig struct {
	Name string `yaml:"name"`
	// Verified defaults to true.
	Verified *bool `yaml:"verified"`
	Default  bool  `yaml:"default"`
	// Federation, when set, makes the domain federated from the start, as if
	// POST /domains/{id}/federationConfiguration had been called.
	Federation *FederationSpec `yaml:"federation"`
}

// FederationSpec mirrors internalDomainFederation (graph.md §10.2).
type FederationSpec struct {
	DisplayName         string `yaml:"displayName"`
	IssuerURI           string `yaml:"issuerUri"`
	MetadataExchangeURI string `yaml:"metadataExchangeUri"`
	PassiveSignInURI    string `yaml:"passiveSignInUri"`
	ActiveSignInURI     string `yaml:"activeSignInUri"`
	SignOutURI          string `yaml:"signOutUri"`
	// SigningCertificate is base64 DER (as Graph takes it) or PEM.
	SigningCertificate string `yaml:"signingCertificate"`
	// SigningCertificateFile is read when SigningCertificate is empty.
	SigningCertificateFile                string `yaml:"signingCertificateFile"`
	NextSigningCertificate                string `yaml:"nextSigningCertificate"`
	PreferredAuthenticationProtocol       string `yaml:"preferredAuthenticationProtocol"`
	PromptLoginBehavior                   string `yaml:"promptLoginBehavior"`
	FederatedIdpMfaBehavior               string `yaml:"federatedIdpMfaBehavior"`
	IsSignedAuthenticationRequestRequired bool   `yaml:"isSignedAuthenticationRequestRequired"`
}

// AppConfig is an app registration with its credentials and the application
// permissions an admin granted it.
type AppConfig struct {
	Name         string         `yaml:"name"`
	ClientID     string         `yaml:"clientId"`
	Secrets      []SecretConfig `yaml:"secrets"`
	Certificates []CertConfig   `yaml:"certificates"`
	Permissions  []string       `yaml:"permissions"`
}

// SecretConfig is a client secret. Exactly one of Value and ValueEnv is set.
type SecretConfig struct {
	Value    string `yaml:"value"`
	ValueEnv string `yaml:"valueEnv"`
	// Expires is when the secret stops working; zero means never.
	Expires time.Time `yaml:"expires"`
}

// CertConfig is a certificate credential (PEM), inline or from a file.
type CertConfig struct {
	PEM  string `yaml:"pem"`
	File string `yaml:"file"`
}

// SKUConfig is a subscription. A known SkuPartNumber fills SkuID and the
// service plans from the built-in catalogue of real identifiers.
type SKUConfig struct {
	SkuPartNumber string              `yaml:"skuPartNumber"`
	SkuID         string              `yaml:"skuId"`
	Units         int                 `yaml:"units"`
	Suspended     int                 `yaml:"suspended"`
	Warning       int                 `yaml:"warning"`
	ServicePlans  []ServicePlanConfig `yaml:"servicePlans"`
}

// ServicePlanConfig is one service plan of a SKU.
type ServicePlanConfig struct {
	ID   string `yaml:"id"`
	Name string `yaml:"name"`
}

// ThrottlingConfig selects the throttling profile: "entra" (the documented
// numbers, default), "off", or "custom" (entra numbers overridden by Limits).
type ThrottlingConfig struct {
	Profile string `yaml:"profile"`
	Limits  Limits `yaml:"limits"`
}

// Limits are the token-bucket sizes of graph.md §6.2. Zero fields keep the
// entra value when the profile is custom.
type Limits struct {
	AppTenantRUSmall     int           `yaml:"appTenantRUSmall"`
	AppTenantRUMedium    int           `yaml:"appTenantRUMedium"`
	AppTenantRULarge     int           `yaml:"appTenantRULarge"`
	AppTenantRUWindow    time.Duration `yaml:"appTenantRUWindow"`
	AppTenantWrites      int           `yaml:"appTenantWrites"`
	AppTenantWriteWindow time.Duration `yaml:"appTenantWriteWindow"`
	AppRU                int           `yaml:"appRU"`
	AppRUWindow          time.Duration `yaml:"appRUWindow"`
	AppWrites            int           `yaml:"appWrites"`
	AppWriteWindow       time.Duration `yaml:"appWriteWindow"`
	TenantWrites         int           `yaml:"tenantWrites"`
	TenantWriteWindow    time.Duration `yaml:"tenantWriteWindow"`
}

// EntraLimits returns the current documented Entra ID limits (graph.md §6.2).
func EntraLimits() Limits {
	return Limits{
		AppTenantRUSmall: 3500, AppTenantRUMedium: 5000, AppTenantRULarge: 8000,
		AppTenantRUWindow: 10 * time.Second,
		AppTenantWrites:   3000, AppTenantWriteWindow: 150 * time.Second,
		AppRU: 150000, AppRUWindow: 20 * time.Second,
		AppWrites: 35000, AppWriteWindow: 5 * time.Minute,
		TenantWrites: 18000, TenantWriteWindow: 5 * time.Minute,
	}
}

// LatencyConfig adds a per-request delay (tenant time) drawn from a
// distribution: "" or "none", "fixed" (Mean), "uniform" (Min..Max),
// "normal" (Mean, StdDev; never below 0) or "lognormal" (Median, Sigma).
type LatencyConfig struct {
	Distribution string        `yaml:"distribution"`
	Mean         time.Duration `yaml:"mean"`
	Min          time.Duration `yaml:"min"`
	Max          time.Duration `yaml:"max"`
	StdDev       time.Duration `yaml:"stdDev"`
	Median       time.Duration `yaml:"median"`
	Sigma        float64       `yaml:"sigma"`
}

// FaultConfig injects transient failures into Graph requests.
type FaultConfig struct {
	// ServiceUnavailableRate is the fraction of requests answered 503.
	ServiceUnavailableRate float64 `yaml:"serviceUnavailableRate"`
	// GatewayTimeoutRate is the fraction answered 504.
	GatewayTimeoutRate float64 `yaml:"gatewayTimeoutRate"`
	// GatewayTimeoutAppliedRate is the fraction of 504s whose write was
	// nevertheless applied, as happens when a gateway gives up on a request
	// the directory completed.
	GatewayTimeoutAppliedRate float64 `yaml:"gatewayTimeoutAppliedRate"`
	// RetryAfter is sent with 503s (tenant time); 0 sends none.
	RetryAfter time.Duration `yaml:"retryAfter"`
}

// Demo tenant identifiers. They are fixed so that docs and tests can name
// them; it is a fake, so a published secret is harmless.
const (
	DemoTenantID     = "6f1c2b7a-3d4e-4f50-8a61-72b83c94d0e5"
	DemoClientID     = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
	DemoClientSecret = "fake-tenant-demo-secret~DoNotUseInProduction"
)

// DemoConfig returns the ready-made demo tenant: contoso.com (verified,
// default) plus contoso.onmicrosoft.com, one app with DemoClientSecret and the
// permissions a provisioner needs, and Office 365 E3 and E5 with free units.
func DemoConfig() Config {
	return Config{
		Tenant:  TenantConfig{ID: DemoTenantID, Name: "contoso", DisplayName: "Contoso (fake tenant)", SizeClass: "auto"},
		Domains: []DomainConfig{{Name: "contoso.com", Default: true}},
		Apps: []AppConfig{{
			Name:     "o365prov demo",
			ClientID: DemoClientID,
			Secrets:  []SecretConfig{{Value: DemoClientSecret}},
			Permissions: []string{
				"User.ReadWrite.All", "Group.ReadWrite.All", "GroupMember.ReadWrite.All",
				"Directory.ReadWrite.All", "Organization.Read.All", "LicenseAssignment.ReadWrite.All",
				"Domain.ReadWrite.All", "Domain-InternalFederation.ReadWrite.All",
			},
		}},
		SKUs: []SKUConfig{
			{SkuPartNumber: "ENTERPRISEPACK", Units: 250},
			{SkuPartNumber: "ENTERPRISEPREMIUM", Units: 50},
		},
		Throttling: ThrottlingConfig{Profile: "entra"},
		TimeScale:  1,
		Seed:       1,
	}
}

// LoadConfig reads a YAML tenant config. Unknown fields are errors, so a typo
// does not silently fall back to a default.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read tenant config: %w", err)
	}
	cfg, err := parseConfig(data)
	if err != nil {
		return Config{}, fmt.Errorf("tenant config %s: %w", path, err)
	}
	cfg.baseDir = filepath.Dir(path)
	return cfg, nil
}

func parseConfig(data []byte) (Config, error) {
	var cfg Config
	if len(bytes.TrimSpace(data)) == 0 {
		return cfg, errors.New("empty file")
	}
	if err := yaml.Load(data, &cfg, yaml.WithKnownFields()); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// knownPermissions are the application permissions the fake understands
// (graph.md §9.4, plus the read variants and User-PasswordProfile).
func knownPermissions() map[string]bool {
	return map[string]bool{
		"User.Read.All": true, "User.ReadWrite.All": true, "User-PasswordProfile.ReadWrite.All": true,
		"Group.Read.All": true, "Group.ReadWrite.All": true, "Group.Create": true,
		"GroupMember.Read.All": true, "GroupMember.ReadWrite.All": true,
		"Directory.Read.All": true, "Directory.ReadWrite.All": true,
		"Organization.Read.All": true, "Organization.ReadWrite.All": true,
		"LicenseAssignment.ReadWrite.All": true,
		"Domain.Read.All":                 true, "Domain.ReadWrite.All": true,
		"Domain-InternalFederation.ReadWrite.All": true,
		"Application.Read.All":                    true, "Application.ReadWrite.OwnedBy": true, "Application.ReadWrite.All": true,
	}
}

// validate checks what New cannot repair and fills defaults.
func (c *Config) validate() error {
	if c.TimeScale == 0 {
		c.TimeScale = 1
	}
	if c.TimeScale < 0 {
		return fmt.Errorf("timeScale %v: must be positive", c.TimeScale)
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	if !isGUID(c.Tenant.ID) {
		return fmt.Errorf("tenant.id %q: must be a GUID", c.Tenant.ID)
	}
	if c.Tenant.Name == "" || strings.ContainsAny(c.Tenant.Name, ". @/") {
		return fmt.Errorf("tenant.name %q: must be a single DNS label (the initial domain is <name>.onmicrosoft.com)", c.Tenant.Name)
	}
	switch strings.ToUpper(c.Tenant.SizeClass) {
	case "", "AUTO", "S", "M", "L":
	default:
		return fmt.Errorf("tenant.sizeClass %q: want auto, S, M or L", c.Tenant.SizeClass)
	}
	if err := c.validateApps(); err != nil {
		return err
	}
	if err := c.validateThrottling(); err != nil {
		return err
	}
	if err := c.Latency.validate(); err != nil {
		return err
	}
	return c.Faults.validate()
}

func (c *Config) validateApps() error {
	known := knownPermissions()
	seen := map[string]bool{}
	for i, a := range c.Apps {
		if !isGUID(a.ClientID) {
			return fmt.Errorf("apps[%d].clientId %q: must be a GUID", i, a.ClientID)
		}
		if seen[strings.ToLower(a.ClientID)] {
			return fmt.Errorf("apps[%d].clientId %s: duplicate", i, a.ClientID)
		}
		seen[strings.ToLower(a.ClientID)] = true
		for _, p := range a.Permissions {
			if !known[p] {
				return fmt.Errorf("apps[%d].permissions: unknown application permission %q", i, p)
			}
		}
		for j, s := range a.Secrets {
			if (s.Value == "") == (s.ValueEnv == "") {
				return fmt.Errorf("apps[%d].secrets[%d]: set exactly one of value and valueEnv", i, j)
			}
		}
		for j, cc := range a.Certificates {
			if (cc.PEM == "") == (cc.File == "") {
				return fmt.Errorf("apps[%d].certificates[%d]: set exactly one of pem and file", i, j)
			}
		}
	}
	return nil
}

func (c *Config) validateThrottling() error {
	switch strings.ToLower(c.Throttling.Profile) {
	case "", "entra", "off":
		return nil
	case "custom":
		l := c.Throttling.Limits
		for _, v := range []int{l.AppTenantRUSmall, l.AppTenantRUMedium, l.AppTenantRULarge, l.AppTenantWrites, l.AppRU, l.AppWrites, l.TenantWrites} {
			if v < 0 {
				return errors.New("throttling.limits: quotas must not be negative")
			}
		}
		return nil
	default:
		return fmt.Errorf("throttling.profile %q: want entra, off or custom", c.Throttling.Profile)
	}
}

// effectiveLimits resolves the profile into concrete limits; ok is false when
// throttling is off.
func (c *Config) effectiveLimits() (Limits, bool) {
	switch strings.ToLower(c.Throttling.Profile) {
	case "off":
		return Limits{}, false
	case "custom":
		return mergeLimits(EntraLimits(), c.Throttling.Limits), true
	default:
		return EntraLimits(), true
	}
}

func mergeLimits(base, over Limits) Limits {
	pickI := func(b, o int) int {
		if o != 0 {
			return o
		}
		return b
	}
	pickD := func(b, o time.Duration) time.Duration {
		if o != 0 {
			return o
		}
		return b
	}
	return Limits{
		AppTenantRUSmall:     pickI(base.AppTenantRUSmall, over.AppTenantRUSmall),
		AppTenantRUMedium:    pickI(base.AppTenantRUMedium, over.AppTenantRUMedium),
		AppTenantRULarge:     pickI(base.AppTenantRULarge, over.AppTenantRULarge),
		AppTenantRUWindow:    pickD(base.AppTenantRUWindow, over.AppTenantRUWindow),
		AppTenantWrites:      pickI(base.AppTenantWrites, over.AppTenantWrites),
		AppTenantWriteWindow: pickD(base.AppTenantWriteWindow, over.AppTenantWriteWindow),
		AppRU:                pickI(base.AppRU, over.AppRU),
		AppRUWindow:          pickD(base.AppRUWindow, over.AppRUWindow),
		AppWrites:            pickI(base.AppWrites, over.AppWrites),
		AppWriteWindow:       pickD(base.AppWriteWindow, over.AppWriteWindow),
		TenantWrites:         pickI(base.TenantWrites, over.TenantWrites),
		TenantWriteWindow:    pickD(base.TenantWriteWindow, over.TenantWriteWindow),
	}
}

func (l LatencyConfig) validate() error {
	switch strings.ToLower(l.Distribution) {
	case "", "none":
	case "fixed":
		if l.Mean <= 0 {
			return errors.New("latency: fixed needs mean > 0")
		}
	case "uniform":
		if l.Min < 0 || l.Max < l.Min || l.Max == 0 {
			return errors.New("latency: uniform needs 0 <= min <= max, max > 0")
		}
	case "normal":
		if l.Mean <= 0 || l.StdDev < 0 {
			return errors.New("latency: normal needs mean > 0 and stdDev >= 0")
		}
	case "lognormal":
		if l.Median <= 0 || l.Sigma < 0 {
			return errors.New("latency: lognormal needs median > 0 and sigma >= 0")
		}
	default:
		return fmt.Errorf("latency.distribution %q: want none, fixed, uniform, normal or lognormal", l.Distribution)
	}
	return nil
}

func (f FaultConfig) validate() error {
	for name, v := range map[string]float64{
		"serviceUnavailableRate": f.ServiceUnavailableRate, "gatewayTimeoutRate": f.GatewayTimeoutRate,
		"gatewayTimeoutAppliedRate": f.GatewayTimeoutAppliedRate,
	} {
		if v < 0 || v > 1 {
			return fmt.Errorf("faults.%s %v: must be within 0..1", name, v)
		}
	}
	if f.ServiceUnavailableRate+f.GatewayTimeoutRate > 1 {
		return errors.New("faults: serviceUnavailableRate + gatewayTimeoutRate must not exceed 1")
	}
	return nil
}

// resolvePath makes a config-relative path absolute.
func (c *Config) resolvePath(p string) string {
	if p == "" || filepath.IsAbs(p) || c.baseDir == "" {
		return p
	}
	return filepath.Join(c.baseDir, p)
}
