package graph

import (
	"encoding/json"
	"fmt"
	"time"
)

// Properties is a bag of Graph properties to write (create or PATCH),
// named as Graph names them: "displayName", "usageLocation",
// "onPremisesExtensionAttributes", "manager@odata.bind"… The engine builds
// it from its mapping, so any property Graph accepts can be written.
type Properties map[string]any

// raw keeps an object's JSON as Graph sent it, for properties the typed
// fields do not cover.
type raw struct {
	Raw json.RawMessage `json:"-"`
}

// Property decodes one property of the raw object into v; false if Graph
// did not send it.
func (r raw) Property(name string, v any) (bool, error) {
	if len(r.Raw) == 0 {
		return false, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(r.Raw, &m); err != nil {
		return false, err
	}
	p, ok := m[name]
	if !ok {
		return false, nil
	}
	if err := json.Unmarshal(p, v); err != nil {
		return true, fmt.Errorf("property %s: %w", name, err)
	}
	return true, nil
}

// User is a Graph user. Only properties Graph returned are set: ask for
// more with $select (graph.md §1.2).
type User struct {
	ID                    string            `json:"id"`
	UserPrincipalName     string            `json:"userPrincipalName"`
	DisplayName           string            `json:"displayName"`
	GivenName             string            `json:"givenName"`
	Surname               string            `json:"surname"`
	Mail                  string            `json:"mail"`
	MailNickname          string            `json:"mailNickname"`
	AccountEnabled        *bool             `json:"accountEnabled"`
	OnPremisesImmutableID string            `json:"onPremisesImmutableId"`
	UsageLocation         string            `json:"usageLocation"`
	EmployeeID            string            `json:"employeeId"`
	JobTitle              string            `json:"jobTitle"`
	Department            string            `json:"department"`
	ProxyAddresses        []string          `json:"proxyAddresses"`
	AssignedLicenses      []AssignedLicense `json:"assignedLicenses"`
	DeletedDateTime       *time.Time        `json:"deletedDateTime"`
	raw
}

// UnmarshalJSON keeps the raw object besides the typed fields.
func (u *User) UnmarshalJSON(b []byte) error {
	type plain User
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*u = User(p)
	u.Raw = append(json.RawMessage(nil), b...)
	return nil
}

// Group is a Graph group.
type Group struct {
	ID              string     `json:"id"`
	DisplayName     string     `json:"displayName"`
	Description     string     `json:"description"`
	MailNickname    string     `json:"mailNickname"`
	Mail            string     `json:"mail"`
	MailEnabled     bool       `json:"mailEnabled"`
	SecurityEnabled bool       `json:"securityEnabled"`
	GroupTypes      []string   `json:"groupTypes"`
	Visibility      string     `json:"visibility"`
	DeletedDateTime *time.Time `json:"deletedDateTime"`
	raw
}

// UnmarshalJSON keeps the raw object besides the typed fields.
func (g *Group) UnmarshalJSON(b []byte) error {
	type plain Group
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*g = Group(p)
	g.Raw = append(json.RawMessage(nil), b...)
	return nil
}

// DirectoryObject is a member, a manager or a restored object: whatever
// type it is ("#microsoft.graph.user", "#microsoft.graph.group", …).
type DirectoryObject struct {
	Type              string `json:"@odata.type"`
	ID                string `json:"id"`
	DisplayName       string `json:"displayName"`
	UserPrincipalName string `json:"userPrincipalName"`
	Mail              string `json:"mail"`
	raw
}

// UnmarshalJSON keeps the raw object besides the typed fields.
func (o *DirectoryObject) UnmarshalJSON(b []byte) error {
	type plain DirectoryObject
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*o = DirectoryObject(p)
	o.Raw = append(json.RawMessage(nil), b...)
	return nil
}

// DeletedItem is a soft-deleted user or group in /directory/deletedItems.
type DeletedItem struct {
	Type                  string     `json:"@odata.type"`
	ID                    string     `json:"id"`
	DisplayName           string     `json:"displayName"`
	UserPrincipalName     string     `json:"userPrincipalName"`
	Mail                  string     `json:"mail"`
	MailNickname          string     `json:"mailNickname"`
	OnPremisesImmutableID string     `json:"onPremisesImmutableId"`
	DeletedDateTime       *time.Time `json:"deletedDateTime"`
	raw
}

// UnmarshalJSON keeps the raw object besides the typed fields.
func (d *DeletedItem) UnmarshalJSON(b []byte) error {
	type plain DeletedItem
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*d = DeletedItem(p)
	d.Raw = append(json.RawMessage(nil), b...)
	return nil
}

// AssignedLicense is one licence of a user: a SKU minus disabled plans.
type AssignedLicense struct {
	SkuID         string   `json:"skuId"`
	DisabledPlans []string `json:"disabledPlans"`
}

// SubscribedSku is one subscription of the tenant (graph.md §3.2).
type SubscribedSku struct {
	ID               string        `json:"id"`
	SkuID            string        `json:"skuId"`
	SkuPartNumber    string        `json:"skuPartNumber"`
	CapabilityStatus string        `json:"capabilityStatus"`
	ConsumedUnits    int           `json:"consumedUnits"`
	PrepaidUnits     PrepaidUnits  `json:"prepaidUnits"`
	ServicePlans     []ServicePlan `json:"servicePlans"`
	AppliesTo        string        `json:"appliesTo"`
}

// Available is how many more users the SKU can be assigned to.
func (s SubscribedSku) Available() int { return s.PrepaidUnits.Enabled - s.ConsumedUnits }

// PrepaidUnits is licenseUnitsDetail.
type PrepaidUnits struct {
	Enabled   int `json:"enabled"`
	Suspended int `json:"suspended"`
	Warning   int `json:"warning"`
	LockedOut int `json:"lockedOut"`
}

// ServicePlan is one service plan of a SKU.
type ServicePlan struct {
	ServicePlanID      string `json:"servicePlanId"`
	ServicePlanName    string `json:"servicePlanName"`
	ProvisioningStatus string `json:"provisioningStatus"`
	AppliesTo          string `json:"appliesTo"`
}

// Domain is a domain of the tenant (graph.md §10.1).
type Domain struct {
	ID                 string   `json:"id"`
	AuthenticationType string   `json:"authenticationType"`
	IsVerified         bool     `json:"isVerified"`
	IsDefault          bool     `json:"isDefault"`
	IsInitial          bool     `json:"isInitial"`
	IsRoot             bool     `json:"isRoot"`
	IsAdminManaged     bool     `json:"isAdminManaged"`
	SupportedServices  []string `json:"supportedServices"`
}

// FederationConfig is internalDomainFederation (graph.md §10.2). On create,
// empty fields are left out.
type FederationConfig struct {
	ID                                    string `json:"id,omitempty"`
	DisplayName                           string `json:"displayName,omitempty"`
	IssuerURI                             string `json:"issuerUri,omitempty"`
	MetadataExchangeURI                   string `json:"metadataExchangeUri,omitempty"`
	PassiveSignInURI                      string `json:"passiveSignInUri,omitempty"`
	ActiveSignInURI                       string `json:"activeSignInUri,omitempty"`
	SignOutURI                            string `json:"signOutUri,omitempty"`
	SigningCertificate                    string `json:"signingCertificate,omitempty"`
	NextSigningCertificate                string `json:"nextSigningCertificate,omitempty"`
	PreferredAuthenticationProtocol       string `json:"preferredAuthenticationProtocol,omitempty"`
	PromptLoginBehavior                   string `json:"promptLoginBehavior,omitempty"`
	FederatedIdpMfaBehavior               string `json:"federatedIdpMfaBehavior,omitempty"`
	IsSignedAuthenticationRequestRequired bool   `json:"isSignedAuthenticationRequestRequired"`
}
