package config

import (
	"fmt"
	"sort"

	"go.yaml.in/yaml/v4"
)

// FieldMapping is how one target field is computed from a source entry.
//
// In YAML it is either a string, a template where ${attr} stands for a
// source attribute and everything else is literal ("${givenName} ${sn}",
// "US"), or a mapping:
//
//	mailNickname: {expr: 'userFromEmail(attr("mail"))', createOnly: true}
//	displayName:  {value: "${cn}", required: true}
//
// expr is an expression (github.com/expr-lang/expr) over the entry, with the
// helper functions of package mapping.
type FieldMapping struct {
	Value      string `yaml:"value,omitempty"`
	Expr       string `yaml:"expr,omitempty"`
	CreateOnly bool   `yaml:"createOnly,omitempty"`
	Required   bool   `yaml:"required,omitempty"`
}

// Template returns a FieldMapping for a template string.
func Template(v string) FieldMapping { return FieldMapping{Value: v} }

// Expression returns a FieldMapping for an expression.
func Expression(e string) FieldMapping { return FieldMapping{Expr: e} }

// IsZero reports whether the field is unmapped.
func (f FieldMapping) IsZero() bool { return f.Value == "" && f.Expr == "" }

// UnmarshalYAML accepts the short (string) and the long (mapping) form.
func (f *FieldMapping) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*f = FieldMapping{}
		if n.Tag == "!!null" {
			return nil
		}
		f.Value = n.Value
		return nil
	}
	type plain FieldMapping
	var p plain
	if err := n.Decode(&p); err != nil {
		return err
	}
	*f = FieldMapping(p)
	return nil
}

// MarshalYAML writes the short form when there are no flags.
func (f FieldMapping) MarshalYAML() (any, error) {
	if f.Expr == "" && !f.CreateOnly && !f.Required {
		return f.Value, nil
	}
	type plain FieldMapping
	return plain(f), nil
}

// Field kinds.
const (
	KindString = "string"
	KindList   = "list"
	KindBool   = "bool"
)

// userFields are the target fields a user mapping may name: the Graph user
// properties o365prov writes, and the provisioner's own fields.
var userFields = map[string]string{
	"accountEnabled":        KindBool,
	"userPrincipalName":     KindString,
	"displayName":           KindString,
	"givenName":             KindString,
	"surname":               KindString,
	"mailNickname":          KindString,
	"mail":                  KindString,
	"otherMails":            KindList,
	"proxyAddresses":        KindList,
	"jobTitle":              KindString,
	"department":            KindString,
	"officeLocation":        KindString,
	"businessPhones":        KindList,
	"mobilePhone":           KindString,
	"faxNumber":             KindString,
	"streetAddress":         KindString,
	"city":                  KindString,
	"state":                 KindString,
	"postalCode":            KindString,
	"country":               KindString,
	"usageLocation":         KindString,
	"preferredLanguage":     KindString,
	"employeeId":            KindString,
	"employeeType":          KindString,
	"companyName":           KindString,
	"userType":              KindString,
	"onPremisesImmutableId": KindString,
	// Provisioner fields, not Graph properties.
	"skuId":         KindList,
	"disabledPlans": KindList,
	"manager":       KindString,
	"pingSourceDN":  KindString,
	"password":      KindString,
}

// groupFields are the target fields a group mapping may name.
var groupFields = map[string]string{
	"displayName":  KindString,
	"description":  KindString,
	"mailNickname": KindString,
}

// requiredUserFields must be mapped: Graph refuses a user without them.
var requiredUserFields = []string{"userPrincipalName", "displayName", "mailNickname"}

// requiredGroupFields must be mapped when groups are provisioned.
var requiredGroupFields = []string{"displayName", "mailNickname"}

// UserFieldKind returns the kind (KindString, KindList or KindBool) of a user
// target field, and whether the field exists.
func UserFieldKind(name string) (string, bool) { k, ok := userFields[name]; return k, ok }

// GroupFieldKind is UserFieldKind for groups.
func GroupFieldKind(name string) (string, bool) { k, ok := groupFields[name]; return k, ok }

func fieldNames(m map[string]string) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

func (f FieldMapping) validate() error {
	if f.Value != "" && f.Expr != "" {
		return fmt.Errorf("has both value and expr (give one)")
	}
	return nil
}
