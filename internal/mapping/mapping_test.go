package mapping

import (
	"reflect"
	"strings"
	"testing"

	"github.com/o365prov/o365prov/internal/config"
)

// ada is an Active Directory entry; her objectGUID bytes render as
// 3f2504e0-4f89-11d3-9a0c-0305e82c3301 in AD's byte order.
var ada = Entry{
	DN:      "CN=Ada Lovelace,OU=Staff,DC=corp,DC=contoso,DC=com",
	GUID:    "3f2504e0-4f89-11d3-9a0c-0305e82c3301",
	RawGUID: []byte{0xe0, 0x04, 0x25, 0x3f, 0x89, 0x4f, 0xd3, 0x11, 0x9a, 0x0c, 0x03, 0x05, 0xe8, 0x2c, 0x33, 0x01},
	Enabled: true,
	Attributes: map[string][]string{
		"givenName":         {"Ada"},
		"sn":                {"Lovelace"},
		"mail":              {"ada@contoso.com"},
		"userPrincipalName": {"ada@contoso.com"},
		"telephoneNumber":   {"+44 20 7946 0001", "+44 20 7946 0002"},
		"sAMAccountName":    {"ada"},
		"o365Sku":           {"ENTERPRISEPACK", "AAD_PREMIUM"},
		"empty":             {""},
	},
}

func mapOne(t *testing.T, kind Kind, fm config.FieldMapping, field string, e Entry, opts Options) (any, error) {
	t.Helper()
	m, errs := Compile(kind, map[string]config.FieldMapping{field: fm}, opts)
	if len(errs) > 0 {
		t.Fatalf("compile: %v", errs)
	}
	o, err := m.Map(e)
	return o.Fields[field], err
}

func TestFieldsMapAsTheirKindSays(t *testing.T) {
	tests := []struct {
		name  string
		field string
		fm    config.FieldMapping
		opts  Options
		want  any
	}{
		{"a whole-value reference takes the attribute", "givenName", config.Template("${givenName}"), Options{}, "Ada"},
		{"attribute names are case-insensitive", "surname", config.Template("${SN}"), Options{}, "Lovelace"},
		{"a list field keeps every value", "businessPhones", config.Template("${telephoneNumber}"), Options{}, []string{"+44 20 7946 0001", "+44 20 7946 0002"}},
		{"a single field takes the first value", "mobilePhone", config.Template("${telephoneNumber}"), Options{}, "+44 20 7946 0001"},
		{"text around references is kept", "displayName", config.Template("${givenName} ${sn} (Staff)"), Options{}, "Ada Lovelace (Staff)"},
		{"a literal is a literal", "usageLocation", config.Template("GB"), Options{}, "GB"},
		{"$${ writes a literal ${", "jobTitle", config.Template("$${not} ${sn}"), Options{}, "${not} Lovelace"},
		{"a licence list comes from a multi-valued attribute", "skuId", config.Template("${o365Sku}"), Options{}, []string{"ENTERPRISEPACK", "AAD_PREMIUM"}},
		{"a missing attribute is absent", "department", config.Template("${department}"), Options{}, nil},
		{"an empty value is absent", "department", config.Template("${empty}"), Options{}, nil},
		{"a template of only missing references is absent", "displayName", config.Template("${cn} ${x}"), Options{}, nil},
		{"expressions call helpers", "mailNickname", config.Expression(`userFromEmail(lower(attr("mail")))`), Options{}, "ada"},
		{"default takes the first non-empty", "displayName", config.Expression(`default(attr("displayName"), attr("cn"), cnFromDN(dn))`), Options{}, "Ada Lovelace"},
		{"immutableId is base64 of the GUID bytes by default", "onPremisesImmutableId", config.Expression("immutableId"), Options{Base64ImmutableID: true}, "4AQlP4lP0xGaDAMF6CwzAQ=="},
		{"immutableId is the GUID text when base64 is off", "onPremisesImmutableId", config.Expression("immutableId"), Options{}, "3f2504e0-4f89-11d3-9a0c-0305e82c3301"},
		{"guid() is the entry's GUID", "employeeId", config.Expression("guid()"), Options{}, "3f2504e0-4f89-11d3-9a0c-0305e82c3301"},
		{"enabled is a boolean", "accountEnabled", config.Expression("enabled"), Options{}, true},
		{"a boolean field parses text", "accountEnabled", config.Template("false"), Options{}, false},
		{"nickname strips what Graph refuses", "mailNickname", config.Expression(`nickname("Sales & Ops (EMEA).Team")`), Options{}, "Sales-Ops-EMEA-Team"},
		{"join and split work on lists", "jobTitle", config.Expression(`join(attrs("o365Sku"), "+")`), Options{}, "ENTERPRISEPACK+AAD_PREMIUM"},
		{"replace is available", "city", config.Expression(`replace("St-Ives", "-", " ")`), Options{}, "St Ives"},
		{"hex renders bytes", "employeeType", config.Expression(`hex("AB")`), Options{}, "4142"},
		{"pingSourceDN is the DN", "pingSourceDN", config.Expression("dn"), Options{}, ada.DN},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := mapOne(t, User, tt.fm, tt.field, ada, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%s = %#v, want %#v", tt.field, got, tt.want)
			}
		})
	}
}

func TestCompileReportsEveryBadFieldWithPosition(t *testing.T) {
	m := map[string]config.FieldMapping{
		"mail":         config.Expression(`lower(attr("mail")`),
		"displayName":  config.Expression(`attr(1)`),
		"givenName":    config.Template("${given name}"),
		"surname":      config.Template("${sn"),
		"jobTitle":     config.Expression(`now()`),
		"mailNickname": config.Template("${uid}"),
	}
	_, errs := Compile(User, m, Options{})
	got := map[string]string{}
	for _, e := range errs {
		got[e.Field] = e.Err.Error()
	}
	want := map[string]string{
		"mail":        "expression: unexpected token EOF",
		"displayName": "cannot use int as argument",
		"givenName":   `"given name" at column 3 is not an attribute name`,
		"surname":     "at column 1 is not closed",
		"jobTitle":    "unknown name now",
	}
	for f, w := range want {
		if !strings.Contains(got[f], w) {
			t.Errorf("%s: got %q, want it to contain %q", f, got[f], w)
		}
	}
	if _, bad := got["mailNickname"]; bad {
		t.Errorf("a good field was reported: %v", got["mailNickname"])
	}
	t.Run("expression errors carry their position", func(t *testing.T) {
		if !strings.Contains(got["mail"], "(1:") {
			t.Errorf("no line:column in %q", got["mail"])
		}
	})
}

func TestRequiredAndCreateOnly(t *testing.T) {
	m, errs := Compile(User, map[string]config.FieldMapping{
		"department":            {Value: "${department}", Required: true},
		"onPremisesImmutableId": {Expr: "immutableId", CreateOnly: true},
	}, Options{Base64ImmutableID: true})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	t.Run("an empty required field fails the entry and names it", func(t *testing.T) {
		_, err := m.Map(ada)
		if err == nil || !strings.Contains(err.Error(), "department") || !strings.Contains(err.Error(), ada.DN) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("createOnly fields are marked", func(t *testing.T) {
		e := ada
		e.Attributes = map[string][]string{"department": {"Analytics"}}
		o, err := m.Map(e)
		if err != nil {
			t.Fatal(err)
		}
		if !o.CreateOnly["onPremisesImmutableId"] || o.CreateOnly["department"] {
			t.Errorf("createOnly = %v", o.CreateOnly)
		}
	})
}

func TestAttributesListsWhatToRead(t *testing.T) {
	m, errs := Compile(User, map[string]config.FieldMapping{
		"displayName":       config.Expression(`default(attr("displayName"), attr("CN"))`),
		"businessPhones":    config.Template("${telephoneNumber}"),
		"userPrincipalName": config.Template("${mail}"),
	}, Options{})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if got, want := m.Attributes(), []string{"cn", "displayname", "mail", "telephonenumber"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Attributes() = %v, want %v", got, want)
	}
	if m.AllAttributes() {
		t.Error("constant attribute names need no wildcard")
	}
	dyn, _ := Compile(User, map[string]config.FieldMapping{"mail": config.Expression(`attr(lower("MAIL"))`)}, Options{})
	if !dyn.AllAttributes() {
		t.Error("a computed attribute name needs every attribute")
	}
}

func TestDefaultMappingsCompileForEveryType(t *testing.T) {
	for _, typ := range config.Types() {
		t.Run(typ, func(t *testing.T) {
			ch := config.DefaultChannel(typ)
			if _, errs := Compile(User, ch.Mapping.User, Options{}); len(errs) > 0 {
				t.Errorf("user: %v", errs)
			}
			if _, errs := Compile(Group, ch.Mapping.Group, Options{}); len(errs) > 0 {
				t.Errorf("group: %v", errs)
			}
		})
	}
}

func TestGUIDRendering(t *testing.T) {
	if got := adGUID(ada.RawGUID); got != ada.GUID {
		t.Errorf("adGUID = %s, want %s", got, ada.GUID)
	}
	if got := cnFromDN(`CN=Lovelace\, Ada,OU=Staff,DC=x`); got != "Lovelace, Ada" {
		t.Errorf("cnFromDN with an escaped comma = %q", got)
	}
}
