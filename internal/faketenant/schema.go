package faketenant

import (
	"fmt"
	"strings"
	"time"
)

type propType uint8

const (
	tString propType = iota
	tBool
	tStrings
	tDateTime
	tObject
)

func (t propType) edm() string {
	switch t {
	case tBool:
		return "Edm.Boolean"
	case tStrings:
		return "Collection(Edm.String)"
	case tDateTime:
		return "Edm.DateTimeOffset"
	case tObject:
		return "Edm.ComplexType"
	default:
		return "Edm.String"
	}
}

// filterOps is the set of $filter operators a property accepts.
type filterOps uint16

const (
	opEq filterOps = 1 << iota
	opNe
	opIn
	opStartsWith
	opEndsWith
	opRange // ge, le, gt, lt
	opAny   // collection lambda: prop/any(x:x eq …)
	opNull  // eq null / ne null
)

const opsText = opEq | opIn | opStartsWith | opRange

// propDef describes one property of a directory resource.
type propDef struct {
	name     string
	typ      propType
	dflt     bool // returned without $select
	writable bool // settable by POST and PATCH
	maxLen   int
	basic    filterOps // without advanced query headers (graph.md §1.3)
	adv      filterOps // with ConsistencyLevel: eventual and $count=true
	noList   bool      // cannot be $selected on a collection (graph.md §1.2: 501)
	index    bool      // served from an index for eq/in
	owner    string    // "user" or "group"
}

// schema is the property table of a resource type.
type schema struct {
	odataType string // microsoft.graph.user
	resource  string // User
	entitySet string // users
	props     []propDef
	byName    map[string]*propDef
	ext       *extensionRegistry // directory extensions registered at run time
}

func newSchema(odataType, resource, entitySet string, props []propDef) *schema {
	s := &schema{odataType: odataType, resource: resource, entitySet: entitySet, props: props, byName: map[string]*propDef{}}
	for i := range s.props {
		s.props[i].owner = strings.ToLower(resource)
		s.byName[strings.ToLower(s.props[i].name)] = &s.props[i]
	}
	return s
}

// lookup finds a property case-insensitively, as Graph does.
func (s *schema) lookup(name string) (*propDef, bool) {
	p, ok := s.byName[strings.ToLower(name)]
	if !ok {
		return s.ext.lookup(s.resource, name)
	}
	return p, ok
}

// userSchema follows the v1.0 user resource. Basic filter operators are the
// ones graph.md §1.3 lists as working by default; the fake allows the other
// text properties only as advanced queries, the conservative reading.
func userSchema() *schema {
	advText := opsText | opEndsWith | opNe | opNull
	return newSchema("microsoft.graph.user", "User", "users", []propDef{
		{name: "businessPhones", typ: tStrings, dflt: true, writable: true, adv: opAny},
		{name: "displayName", typ: tString, dflt: true, writable: true, maxLen: 256, basic: opsText, adv: advText},
		{name: "givenName", typ: tString, dflt: true, writable: true, maxLen: 64, adv: advText},
		{name: "jobTitle", typ: tString, dflt: true, writable: true, maxLen: 128, adv: advText},
		{name: "mail", typ: tString, dflt: true, writable: true, basic: opsText, adv: advText, index: true},
		{name: "mobilePhone", typ: tString, dflt: true, writable: true, adv: advText},
		{name: "officeLocation", typ: tString, dflt: true, writable: true, adv: advText},
		{name: "preferredLanguage", typ: tString, dflt: true, writable: true, adv: advText},
		{name: "surname", typ: tString, dflt: true, writable: true, maxLen: 64, adv: advText},
		{name: "userPrincipalName", typ: tString, dflt: true, writable: true, basic: opsText, adv: advText, index: true},
		{name: "id", typ: tString, dflt: true, basic: opEq | opIn, adv: opEq | opIn | opNe, index: true},
		{name: "accountEnabled", typ: tBool, writable: true, basic: opEq | opIn, adv: opEq | opIn | opNe | opNull},
		{name: "ageGroup", typ: tString, writable: true, adv: opEq | opIn | opNe | opNull},
		{name: "assignedLicenses", typ: tObject, basic: opAny, adv: opAny},
		{name: "assignedPlans", typ: tObject, adv: opAny},
		{name: "city", typ: tString, writable: true, maxLen: 128, adv: advText},
		{name: "companyName", typ: tString, writable: true, maxLen: 64, adv: advText},
		{name: "country", typ: tString, writable: true, maxLen: 128, adv: advText},
		{name: "createdDateTime", typ: tDateTime, adv: opRange | opEq | opIn | opNull},
		{name: "creationType", typ: tString, adv: opEq | opIn | opNe | opNull},
		{name: "deletedDateTime", typ: tDateTime},
		{name: "department", typ: tString, writable: true, maxLen: 64, adv: advText},
		{name: "employeeHireDate", typ: tDateTime, writable: true, adv: opRange | opEq | opIn | opNull},
		{name: "employeeId", typ: tString, writable: true, maxLen: 16, basic: opsText, adv: advText},
		{name: "employeeType", typ: tString, writable: true, adv: advText},
		{name: "faxNumber", typ: tString, writable: true, adv: advText},
		{name: "mailNickname", typ: tString, writable: true, maxLen: 64, basic: opsText, adv: advText},
		{name: "onPremisesExtensionAttributes", typ: tObject, writable: true},
		{name: "onPremisesImmutableId", typ: tString, writable: true, basic: opsText, adv: advText | opNull, index: true},
		{name: "onPremisesSyncEnabled", typ: tBool, adv: opEq | opNe | opNull},
		{name: "otherMails", typ: tStrings, writable: true, adv: opAny},
		{name: "passwordPolicies", typ: tString, writable: true, adv: opEq | opNe | opNull},
		{name: "postalCode", typ: tString, writable: true, maxLen: 40, adv: advText},
		{name: "proxyAddresses", typ: tStrings, basic: opAny, adv: opAny},
		{name: "showInAddressList", typ: tBool, writable: true},
		{name: "state", typ: tString, writable: true, maxLen: 128, adv: advText},
		{name: "streetAddress", typ: tString, writable: true, maxLen: 1024, adv: advText},
		{name: "usageLocation", typ: tString, writable: true, basic: opsText, adv: advText},
		{name: "userType", typ: tString, writable: true, adv: opEq | opIn | opNe | opNull},
		{name: "manager", typ: tObject},
		// Properties a collection cannot return and an app cannot set
		// (graph.md §1.2, §1.4).
		{name: "aboutMe", typ: tString, noList: true},
		{name: "birthday", typ: tDateTime, noList: true},
		{name: "hireDate", typ: tDateTime, noList: true},
		{name: "interests", typ: tStrings, noList: true},
		{name: "mySite", typ: tString, noList: true},
		{name: "pastProjects", typ: tStrings, noList: true},
		{name: "preferredName", typ: tString, noList: true},
		{name: "responsibilities", typ: tStrings, noList: true},
		{name: "schools", typ: tStrings, noList: true},
		{name: "skills", typ: tStrings, noList: true},
		{name: "mailboxSettings", typ: tObject, noList: true},
	})
}

// groupSchema follows the v1.0 group resource; the default set is the one
// graph.md §4.1 lists for the create response.
func groupSchema() *schema {
	advText := opsText | opEndsWith | opNe | opNull
	return newSchema("microsoft.graph.group", "Group", "groups", []propDef{
		{name: "id", typ: tString, dflt: true, basic: opEq | opIn, adv: opEq | opIn | opNe, index: true},
		{name: "deletedDateTime", typ: tDateTime, dflt: true},
		{name: "classification", typ: tString, dflt: true, writable: true, adv: opEq | opNe | opNull},
		{name: "createdDateTime", typ: tDateTime, dflt: true, adv: opRange | opEq | opIn},
		{name: "creationOptions", typ: tStrings, dflt: true, adv: opAny},
		{name: "description", typ: tString, dflt: true, writable: true, maxLen: 1024, adv: advText},
		{name: "displayName", typ: tString, dflt: true, writable: true, maxLen: 256, basic: opsText, adv: advText},
		{name: "expirationDateTime", typ: tDateTime, dflt: true},
		{name: "groupTypes", typ: tStrings, dflt: true, writable: true, basic: opAny, adv: opAny},
		{name: "isAssignableToRole", typ: tBool, dflt: true, writable: true, adv: opEq | opNe | opNull},
		{name: "mail", typ: tString, dflt: true, basic: opsText, adv: advText, index: true},
		{name: "mailEnabled", typ: tBool, dflt: true, writable: true, basic: opEq, adv: opEq | opNe | opNull},
		{name: "mailNickname", typ: tString, dflt: true, writable: true, maxLen: 64, basic: opsText, adv: advText},
		{name: "membershipRule", typ: tString, dflt: true, writable: true, adv: opEq | opNe | opNull},
		{name: "membershipRuleProcessingState", typ: tString, dflt: true, writable: true, adv: opEq | opNe},
		{name: "onPremisesDomainName", typ: tString, dflt: true},
		{name: "onPremisesLastSyncDateTime", typ: tDateTime, dflt: true},
		{name: "onPremisesNetBiosName", typ: tString, dflt: true},
		{name: "onPremisesSamAccountName", typ: tString, dflt: true},
		{name: "onPremisesSecurityIdentifier", typ: tString, dflt: true},
		{name: "onPremisesSyncEnabled", typ: tBool, dflt: true, basic: opEq, adv: opEq | opNe | opNull},
		{name: "preferredDataLocation", typ: tString, dflt: true},
		{name: "preferredLanguage", typ: tString, dflt: true, writable: true},
		{name: "proxyAddresses", typ: tStrings, dflt: true, basic: opAny, adv: opAny},
		{name: "renewedDateTime", typ: tDateTime, dflt: true},
		{name: "resourceBehaviorOptions", typ: tStrings, dflt: true, writable: true},
		{name: "resourceProvisioningOptions", typ: tStrings, dflt: true},
		{name: "securityEnabled", typ: tBool, dflt: true, writable: true, basic: opEq, adv: opEq | opNe | opNull},
		{name: "securityIdentifier", typ: tString, dflt: true},
		{name: "theme", typ: tString, dflt: true, writable: true},
		{name: "visibility", typ: tString, dflt: true, writable: true, adv: opEq | opNe},
		{name: "onPremisesProvisioningErrors", typ: tObject, dflt: true},
	})
}

// coerce converts a decoded JSON value to the stored form of p, or explains
// in Graph's words why it cannot (msg is empty on success).
func coerce(p *propDef, v any) (val any, msg string) {
	if v == nil {
		if p.typ == tStrings {
			return []string{}, ""
		}
		return nil, ""
	}
	bad := fmt.Sprintf("Cannot convert a primitive value to the expected type '%s'. See the inner exception for more details.", p.typ.edm())
	switch p.typ {
	case tString:
		s, ok := v.(string)
		if !ok {
			return nil, bad
		}
		return s, ""
	case tBool:
		b, ok := v.(bool)
		if !ok {
			return nil, bad
		}
		return b, ""
	case tStrings:
		if ss, ok := v.([]string); ok { // seeded from Go
			return append([]string{}, ss...), ""
		}
		arr, ok := v.([]any)
		if !ok {
			return nil, bad
		}
		out := make([]string, 0, len(arr))
		for _, e := range arr {
			s, ok := e.(string)
			if !ok {
				return nil, bad
			}
			out = append(out, s)
		}
		return out, ""
	case tDateTime:
		if tm, ok := v.(time.Time); ok { // seeded from Go
			return formatTime(tm), ""
		}
		s, ok := v.(string)
		if !ok {
			return nil, bad
		}
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return nil, fmt.Sprintf("Cannot convert the literal '%s' to the expected type 'Edm.DateTimeOffset'.", s)
		}
		return formatTime(t), ""
	case tObject:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, bad
		}
		return m, ""
	}
	return nil, bad
}

// formatTime renders a timestamp as Graph does: UTC, second precision, Z.
func formatTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }
