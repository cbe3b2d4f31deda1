package config

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"text/template"
	"time"
)

// WriteTemplate writes the configuration `o365prov init --type T` offers: every
// option with its default and a line on what it does. It is valid once its
// placeholder clientId (PlaceholderClientID) is replaced and the two secrets
// it names (O365PROV_CLIENT_SECRET and O365PROV_LDAP_PASSWORD) are in the
// environment.
func WriteTemplate(sourceType string) ([]byte, error) {
	if !oneOf(sourceType, Types()...) {
		return nil, fmt.Errorf("unknown directory type %q (%s)", sourceType, strings.Join(Types(), ", "))
	}
	ch := DefaultChannel(sourceType)
	ch.Name = "staff"
	ex := examples[sourceType]
	ch.Source.URL, ch.Source.BindDN, ch.Source.BaseDN, ch.Source.StartTLS = ex.url, ex.bindDN, ex.baseDN, ex.startTLS
	data := struct {
		Type    string
		Channel Channel
		Target  Target
		Example example
		User    []mappingLine
		Group   []mappingLine
	}{sourceType, ch, templateTarget(), ex, mappingLines(ch.Mapping.User, userFieldOrder), mappingLines(ch.Mapping.Group, []string{"displayName", "description", "mailNickname"})}
	var buf bytes.Buffer
	if err := configTemplate.Execute(&buf, data); err != nil {
		return nil, fmt.Errorf("write template: %w", err)
	}
	return buf.Bytes(), nil
}

// templateTarget is the default target with the placeholder clientId.
func templateTarget() Target {
	t := defaultTarget()
	t.ClientID = PlaceholderClientID
	return t
}

type example struct {
	url, bindDN, baseDN, groupDN string
	startTLS                     bool
}

func (e example) URL() string     { return e.url }
func (e example) BindDN() string  { return e.bindDN }
func (e example) BaseDN() string  { return e.baseDN }
func (e example) GroupDN() string { return e.groupDN }

var examples = map[string]example{
	ActiveDirectory: {"ldaps://dc1.corp.contoso.com:636", "CN=o365prov,OU=Service Accounts,DC=corp,DC=contoso,DC=com", "DC=corp,DC=contoso,DC=com", "CN=Office 365 Groups,OU=Groups,DC=corp,DC=contoso,DC=com", false},
	OpenLDAP:        {"ldap://ldap.contoso.com:389", "cn=o365prov,ou=services,dc=contoso,dc=com", "dc=contoso,dc=com", "cn=office365,ou=groups,dc=contoso,dc=com", true},
	PingDirectory:   {"ldaps://pd.contoso.com:636", "cn=o365prov,ou=services,dc=contoso,dc=com", "dc=contoso,dc=com", "cn=office365,ou=groups,dc=contoso,dc=com", false},
	Generic:         {"ldaps://ldap.contoso.com:636", "cn=o365prov,ou=services,dc=contoso,dc=com", "dc=contoso,dc=com", "cn=office365,ou=groups,dc=contoso,dc=com", false},
}

// userFieldOrder is the order the template lists user fields in: identity
// first, then profile, then the provisioner's own fields.
var userFieldOrder = []string{
	"userPrincipalName", "displayName", "givenName", "surname", "mailNickname", "mail",
	"jobTitle", "department", "officeLocation", "businessPhones", "mobilePhone",
	"streetAddress", "city", "state", "postalCode", "country", "usageLocation",
	"preferredLanguage", "employeeId", "companyName", "onPremisesImmutableId",
	"accountEnabled", "pingSourceDN", "manager", "skuId", "disabledPlans", "password",
}

type mappingLine struct{ Name, YAML string }

func mappingLines(m map[string]FieldMapping, order []string) []mappingLine {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	pos := map[string]int{}
	for i, n := range order {
		pos[n] = i + 1
	}
	sort.Slice(names, func(i, j int) bool {
		pi, pj := pos[names[i]], pos[names[j]]
		if pi == 0 || pj == 0 {
			return pi != 0 || (pj == 0 && names[i] < names[j])
		}
		return pi < pj
	})
	lines := make([]mappingLine, 0, len(names))
	for _, n := range names {
		lines = append(lines, mappingLine{n, fieldYAML(m[n])})
	}
	return lines
}

func fieldYAML(f FieldMapping) string {
	if f.Expr == "" && !f.CreateOnly && !f.Required {
		return yamlString(f.Value)
	}
	var parts []string
	if f.Expr != "" {
		parts = append(parts, "expr: "+yamlString(f.Expr))
	} else {
		parts = append(parts, "value: "+yamlString(f.Value))
	}
	if f.CreateOnly {
		parts = append(parts, "createOnly: true")
	}
	if f.Required {
		parts = append(parts, "required: true")
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// yamlString quotes a value so YAML reads it back as the same string.
func yamlString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// duration writes 1h rather than Go's 1h0m0s.
func duration(d time.Duration) string {
	switch {
	case d == 0:
		return "0s"
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	default:
		return d.String()
	}
}

var configTemplate = template.Must(template.New("config").Funcs(template.FuncMap{
	"duration": duration,
	"quote":    yamlString,
}).Parse(configTemplateText))
