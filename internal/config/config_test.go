package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v4"
)

// testEnv is the environment the tests load configurations with.
func testEnv(kv map[string]string) Option {
	return WithEnv(func(k string) (string, bool) { v, ok := kv[k]; return v, ok })
}

var templateSecrets = map[string]string{
	"O365PROV_CLIENT_SECRET": "client-secret-value-Zq81",
	"O365PROV_LDAP_PASSWORD": "ldap-password-value-Kw27",
}

// minimal is a valid configuration that cases below break one field at a time.
const minimal = `
state:
  driver: sqlite
target:
  tenant: contoso.onmicrosoft.com
  clientId: 6f1c2f1e-8b1a-4a57-9d0a-3c1b7e2a9f10
  clientSecret: ${env:O365PROV_CLIENT_SECRET}
channels:
  - name: staff
    source:
      type: openldap
      url: ldap://127.0.0.1:389
      bindDN: cn=admin,dc=contoso,dc=com
      password: ${env:O365PROV_LDAP_PASSWORD}
      baseDN: dc=contoso,dc=com
`

func TestTemplatesAreValidForEveryDirectoryType(t *testing.T) {
	for _, typ := range Types() {
		t.Run(typ+" template passes its own check once its clientId is filled in", func(t *testing.T) {
			b, err := WriteTemplate(typ)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Parse(typ+".yaml", b, testEnv(templateSecrets))
			var ps *Problems
			if !errors.As(err, &ps) || len(ps.List) != 1 || ps.List[0].Path != "target.clientId" || !strings.Contains(ps.List[0].Message, "placeholder") {
				t.Fatalf("as written, the template must fail on its placeholder clientId only, got:\n%v", err)
			}
			b = []byte(strings.Replace(string(b), PlaceholderClientID, "6f1c2f1e-8b1a-4a57-9d0a-3c1b7e2a9f10", 1))
			cfg, err := Parse(typ+".yaml", b, testEnv(templateSecrets))
			if err != nil {
				t.Fatalf("template for %s does not load:\n%v", typ, err)
			}
			if got := cfg.Channels[0].Source.Type; got != typ {
				t.Errorf("source.type = %q, want %q", got, typ)
			}
			if want := DefaultChannel(typ); cfg.Channels[0].Source.ChangeDetection != want.Source.ChangeDetection {
				t.Errorf("changeDetection = %+v, want the template default %+v", cfg.Channels[0].Source.ChangeDetection, want.Source.ChangeDetection)
			}
		})
	}
	t.Run("an unknown type is refused", func(t *testing.T) {
		if _, err := WriteTemplate("novell"); err == nil {
			t.Fatal("want an error for type novell")
		}
	})
}

func TestDefaultsFollowPingFederateTemplates(t *testing.T) {
	tests := []struct {
		typ                     string
		guid                    string
		binary                  bool
		algorithm, attribute    string
		status, statusAttribute string
		groupClass, memberAttr  string
		userObjectClass         string
	}{
		{ActiveDirectory, "objectGUID", true, ADUSN, "uSNChanged", StatusAD, "userAccountControl", "group", "member", "user"},
		{OpenLDAP, "entryUUID", false, EntryCSN, "entryCSN", StatusNone, "", "groupOfNames", "member", "inetOrgPerson"},
		{PingDirectory, "entryUUID", false, TimestampNoNegation, "modifyTimestamp", StatusFlag, "nsaccountlock", "groupOfUniqueNames", "uniqueMember", "inetOrgPerson"},
		{Generic, "entryUUID", false, Timestamp, "modifyTimestamp", StatusNone, "", "groupOfNames", "member", "inetOrgPerson"},
	}
	for _, tt := range tests {
		t.Run(tt.typ+" gets its template's source settings", func(t *testing.T) {
			s := DefaultChannel(tt.typ).Source
			got := []any{s.GUIDAttribute, s.GUIDBinary, s.ChangeDetection.Algorithm, s.ChangeDetection.Attribute, s.AccountStatus.Algorithm, s.AccountStatus.Attribute, s.GroupObjectClass, s.MemberAttribute, s.UserObjectClass}
			want := []any{tt.guid, tt.binary, tt.algorithm, tt.attribute, tt.status, tt.statusAttribute, tt.groupClass, tt.memberAttr, tt.userObjectClass}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("got %v\nwant %v", got, want)
			}
		})
	}
	t.Run("options default to PingFederate's, plus a delete threshold", func(t *testing.T) {
		o := DefaultChannel(ActiveDirectory).Options
		if !o.UserCreate || !o.UserUpdate || !o.UserDisableDelete || !o.ProvisionDisabledUsers || o.RemoveUserAction != RemoveDisable || o.RemoveLicensesWhenSkuEmpty || !o.Base64ImmutableID {
			t.Errorf("options = %+v", o)
		}
		if o.DeleteThreshold != (DeleteThreshold{Count: 500, Percent: 10}) {
			t.Errorf("deleteThreshold = %+v, want 500 or 10%%", o.DeleteThreshold)
		}
	})
}

func TestFileValuesOverrideDefaults(t *testing.T) {
	doc := minimal + `
    interval: 5m
    options:
      removeUserAction: delete
      provisionDisabledUsers: false
    source_extra: ignored
`
	doc = strings.Replace(doc, "    source_extra: ignored\n", "", 1)
	doc = strings.Replace(doc, "      baseDN: dc=contoso,dc=com\n", "      baseDN: dc=contoso,dc=com\n      changeDetection: {algorithm: TIMESTAMP}\n", 1)
	cfg, err := Parse("c.yaml", []byte(doc), testEnv(templateSecrets))
	if err != nil {
		t.Fatal(err)
	}
	ch := cfg.Channels[0]
	t.Run("a set option replaces its default and leaves the others", func(t *testing.T) {
		if ch.Options.RemoveUserAction != RemoveDelete || ch.Options.ProvisionDisabledUsers || !ch.Options.UserCreate {
			t.Errorf("options = %+v", ch.Options)
		}
		if ch.Interval.String() != "5m0s" || ch.Timeout != DefaultTimeout {
			t.Errorf("interval %v timeout %v", ch.Interval, ch.Timeout)
		}
	})
	t.Run("an algorithm set without attribute gets the attribute it reads", func(t *testing.T) {
		if cd := ch.Source.ChangeDetection; cd.Algorithm != Timestamp || cd.Attribute != "modifyTimestamp" {
			t.Errorf("changeDetection = %+v", cd)
		}
	})
	t.Run("target defaults are Graph's documented endpoints and limits", func(t *testing.T) {
		if cfg.Target.GraphURL != DefaultGraphURL || cfg.Target.WriteRate != 20 || cfg.Target.ResourceUnits != 3500 {
			t.Errorf("target = %+v", cfg.Target)
		}
	})
}

func TestMappingMergesWithDefaults(t *testing.T) {
	doc := minimal + `    mapping:
      user:
        usageLocation: GB
        skuId: {value: ENTERPRISEPACK}
        mobilePhone: ""
        manager: ~
`
	cfg, err := Parse("c.yaml", []byte(doc), testEnv(templateSecrets))
	if err != nil {
		t.Fatal(err)
	}
	m := cfg.Channels[0].Mapping.User
	tests := []struct {
		name  string
		field string
		want  FieldMapping
		gone  bool
	}{
		{"a literal replaces the default", "usageLocation", Template("GB"), false},
		{"the long form adds a field", "skuId", Template("ENTERPRISEPACK"), false},
		{"an empty string unmaps a default", "mobilePhone", FieldMapping{}, true},
		{"null unmaps a default", "manager", FieldMapping{}, true},
		{"an unmentioned default stays", "userPrincipalName", Template("${mail}"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := m[tt.field]
			if tt.gone {
				if ok {
					t.Fatalf("%s still mapped to %+v", tt.field, got)
				}
				return
			}
			if got != tt.want {
				t.Errorf("%s = %+v, want %+v", tt.field, got, tt.want)
			}
		})
	}
}

// TestValidationRules breaks one rule per case and checks the message names
// the field and what is allowed.
func TestValidationRules(t *testing.T) {
	tests := []struct {
		name    string
		replace [2]string // in minimal
		append  string    // to the channel
		top     string    // appended at top level
		path    string
		message string
	}{
		{name: "an unknown state driver is refused", replace: [2]string{"driver: sqlite", "driver: mysql"}, path: "state.driver", message: "(sqlite or postgres)"},
		{name: "postgres needs a dsn", replace: [2]string{"driver: sqlite", "driver: postgres"}, path: "state.dsn", message: "required for postgres"},
		{name: "a failover grace under 3s is refused", replace: [2]string{"driver: sqlite", "driver: sqlite\n  failoverGrace: 1s"}, path: "state.failoverGrace", message: "1s is out of range (3s to 10m)"},
		{name: "a failover grace over 10m is refused", replace: [2]string{"driver: sqlite", "driver: sqlite\n  failoverGrace: 1h"}, path: "state.failoverGrace", message: "1h0m0s is out of range (3s to 10m)"},
		{name: "a tenant is required", replace: [2]string{"tenant: contoso.onmicrosoft.com", "tenant: \"\""}, path: "target.tenant", message: "required"},
		{name: "a tenant must be a domain or GUID", replace: [2]string{"tenant: contoso.onmicrosoft.com", "tenant: not a tenant"}, path: "target.tenant", message: "neither a domain nor a GUID"},
		{name: "the placeholder client id init writes must be replaced", replace: [2]string{"clientId: 6f1c2f1e-8b1a-4a57-9d0a-3c1b7e2a9f10", "clientId: 00000000-0000-0000-0000-000000000000"}, path: "target.clientId", message: "placeholder `o365prov init` writes: replace it"},
		{name: "the client id must be a GUID", replace: [2]string{"clientId: 6f1c2f1e-8b1a-4a57-9d0a-3c1b7e2a9f10", "clientId: my-app"}, path: "target.clientId", message: "not a GUID"},
		{name: "a credential is required", replace: [2]string{"  clientSecret: ${env:O365PROV_CLIENT_SECRET}\n", ""}, path: "target.clientSecret", message: "required (or clientCertificate and clientKey)"},
		{name: "a secret and a certificate together are refused", replace: [2]string{"  clientSecret:", "  clientCertificate: /x.pem\n  clientKey: /x.key\n  clientSecret:"}, path: "target.clientSecret", message: "not both"},
		{name: "a missing certificate file is reported", replace: [2]string{"  clientSecret: ${env:O365PROV_CLIENT_SECRET}", "  clientCertificate: /nonexistent/app.pem\n  clientKey: /nonexistent/app.key"}, path: "target.clientCertificate", message: "cannot read /nonexistent/app.pem"},
		{name: "a certificate needs its key", replace: [2]string{"  clientSecret: ${env:O365PROV_CLIENT_SECRET}", "  clientCertificate: /nonexistent/app.pem"}, path: "target.clientKey", message: "required with clientCertificate"},
		{name: "graphURL must be absolute", top: "", replace: [2]string{"  clientId:", "  graphURL: graph.microsoft.com\n  clientId:"}, path: "target.graphURL", message: "not an absolute URL"},
		{name: "graphURL over http is refused beyond this machine", replace: [2]string{"  clientId:", "  graphURL: http://graph.example.com\n  clientId:"}, path: "target.graphURL", message: "https is required"},
		{name: "loginURL must be https", replace: [2]string{"  clientId:", "  loginURL: http://127.0.0.1:8650\n  clientId:"}, path: "target.loginURL", message: "not https"},
		{name: "writeRate must be positive", replace: [2]string{"  clientId:", "  writeRate: 0\n  clientId:"}, path: "target.writeRate", message: "above 0"},
		{name: "timeScale is refused against Microsoft Graph", replace: [2]string{"  clientId:", "  timeScale: 10\n  clientId:"}, path: "target.timeScale", message: "is Microsoft Graph, which runs on real time"},
		{name: "timeScale is refused against a national cloud", replace: [2]string{"  clientId:", "  graphURL: https://graph.microsoft.us\n  timeScale: 10\n  clientId:"}, path: "target.timeScale", message: "is Microsoft Graph"},
		{name: "timeScale below real time is refused", replace: [2]string{"  clientId:", "  graphURL: https://127.0.0.1:8650\n  timeScale: 0.5\n  clientId:"}, path: "target.timeScale", message: "out of range (1 to 1000"},
		{name: "a proxy must be a URL", replace: [2]string{"  clientId:", "  proxy: proxy:3128\n  clientId:"}, path: "target.proxy", message: "not a proxy URL"},
		{name: "a channel needs a name", replace: [2]string{"- name: staff", "- name: \"\""}, path: "channels[0].name", message: "required"},
		{name: "a channel name is restricted", replace: [2]string{"- name: staff", "- name: staff members"}, path: "channels[0].name", message: "not a channel name"},
		{name: "the interval must be at least a second", append: "    interval: 10ms\n", path: "channels[0].interval", message: "at least 1s"},
		{name: "full sync must not be more frequent than incremental", append: "    interval: 10m\n    fullSyncInterval: 1m\n", path: "channels[0].fullSyncInterval", message: "shorter than interval"},
		{name: "maxThreads is bounded", append: "    maxThreads: 0\n", path: "channels[0].maxThreads", message: "1 to 64"},
		{name: "an unknown directory type is refused", replace: [2]string{"type: openldap", "type: novell"}, path: "channels[0].source.type", message: "activeDirectory, openldap, pingdirectory, generic"},
		{name: "the source url must be LDAP", replace: [2]string{"url: ldap://127.0.0.1:389", "url: http://127.0.0.1"}, path: "channels[0].source.url", message: "not an LDAP URL"},
		{name: "startTLS over ldaps is refused", replace: [2]string{"url: ldap://127.0.0.1:389", "url: ldaps://127.0.0.1\n      startTLS: true"}, path: "channels[0].source.startTLS", message: "ldaps:// is TLS already"},
		{name: "a bind DN needs a password", replace: [2]string{"      password: ${env:O365PROV_LDAP_PASSWORD}\n", ""}, path: "channels[0].source.password", message: "binds anonymously"},
		{name: "a bad base DN is reported", replace: [2]string{"baseDN: dc=contoso,dc=com", "baseDN: contoso.com"}, path: "channels[0].source.baseDN", message: "not a distinguished name"},
		{name: "a bad filter is reported", replace: [2]string{"baseDN: dc=contoso,dc=com", "baseDN: dc=contoso,dc=com\n      users: {filter: \"(&(objectClass=user)\"}"}, path: "channels[0].source.users.filter", message: "not an LDAP filter"},
		{name: "nested search needs a group", replace: [2]string{"baseDN: dc=contoso,dc=com", "baseDN: dc=contoso,dc=com\n      users: {nestedSearch: true}"}, path: "channels[0].source.users.nestedSearch", message: "without groupDN"},
		{name: "AD change detection needs Active Directory", replace: [2]string{"baseDN: dc=contoso,dc=com", "baseDN: dc=contoso,dc=com\n      changeDetection: {algorithm: ACTIVE_DIRECTORY_USN}"}, path: "channels[0].source.changeDetection.algorithm", message: "needs type activeDirectory"},
		{name: "an unknown change algorithm is refused", replace: [2]string{"baseDN: dc=contoso,dc=com", "baseDN: dc=contoso,dc=com\n      changeDetection: {algorithm: DELTA}"}, path: "channels[0].source.changeDetection.algorithm", message: "ACTIVE_DIRECTORY_USN, TIMESTAMP"},
		{name: "FLAG status needs a value", replace: [2]string{"baseDN: dc=contoso,dc=com", "baseDN: dc=contoso,dc=com\n      accountStatus: {algorithm: FLAG, attribute: nsaccountlock}"}, path: "channels[0].source.accountStatus.flagValue", message: "required with algorithm FLAG"},
		{name: "the status default is enabled or disabled", replace: [2]string{"baseDN: dc=contoso,dc=com", "baseDN: dc=contoso,dc=com\n      accountStatus: {default: maybe}"}, path: "channels[0].source.accountStatus.default", message: "enabled or disabled"},
		{name: "the page size is bounded", replace: [2]string{"baseDN: dc=contoso,dc=com", "baseDN: dc=contoso,dc=com\n      pageSize: 0"}, path: "channels[0].source.pageSize", message: "1 to 10000"},
		{name: "an unknown remove action is refused", append: "    options: {removeUserAction: purge}\n", path: "channels[0].options.removeUserAction", message: "disable or delete"},
		{name: "an unknown group type is refused", append: "    options: {groupType: distribution}\n", path: "channels[0].options.groupType", message: "security or microsoft365"},
		{name: "adoption matches on a group property", append: "    options: {adoptExistingGroups: objectId}\n", path: "channels[0].options.adoptExistingGroups", message: "displayName or mailNickname"},
		{name: "a threshold percent is a percentage", append: "    options: {deleteThreshold: {percent: 150}}\n", path: "channels[0].options.deleteThreshold.percent", message: "0 to 100"},
		{name: "a weak default password is refused without being shown", append: "    options: {globalDefaultPassword: password}\n", path: "channels[0].options.globalDefaultPassword", message: "too simple"},
		{name: "an unknown target field is refused", append: "    mapping: {user: {nickname: '${uid}'}}\n", path: "channels[0].mapping.user.nickname", message: "unknown user field (allowed: accountEnabled"},
		{name: "a field cannot have both value and expr", append: "    mapping: {user: {mail: {value: x, expr: y}}}\n", path: "channels[0].mapping.user.mail", message: "both value and expr"},
		{name: "flags need a value", append: "    mapping: {user: {mail: {createOnly: true}}}\n", path: "channels[0].mapping.user.mail", message: "without a value or expr"},
		{name: "Graph's required user fields must be mapped", append: "    mapping: {user: {mailNickname: \"\"}}\n", path: "channels[0].mapping.user.mailNickname", message: "must be mapped"},
		{name: "an unknown field is refused with the allowed ones", append: "    intervall: 5m\n", path: "channels[0].intervall", message: "unknown field (allowed: name, active, interval"},
		{name: "a wrong type is reported", append: "    maxThreads: many\n", path: "channels[0].maxThreads", message: "not a whole number"},
		{name: "a bad duration is reported", append: "    timeout: 60\n", path: "channels[0].timeout", message: "not a duration"},
		{name: "a list where a value is expected is reported", append: "    name: [a, b]\n", path: "channels[0].name", message: "want a single string value"},
		{name: "channel names are unique", top: "  - name: staff\n    source: {type: generic, url: ldap://h, baseDN: dc=x}\n", path: "channels[1].name", message: "already the name of channels[0]"},
		{name: "an unset environment variable is reported", replace: [2]string{"${env:O365PROV_CLIENT_SECRET}", "${env:O365PROV_NOT_SET}"}, path: "target.clientSecret", message: "environment variable O365PROV_NOT_SET is not set"},
		{name: "a malformed reference is reported, not used as a password", replace: [2]string{"${env:O365PROV_CLIENT_SECRET}", "${ENV O365PROV_CLIENT_SECRET}"}, path: "target.clientSecret", message: "not a valid one"},
		{name: "a missing secret file is reported", replace: [2]string{"${env:O365PROV_CLIENT_SECRET}", "${file:/nonexistent/secret}"}, path: "target.clientSecret", message: "read /nonexistent/secret: no such file or directory"},
		{name: "sso needs a login source that is a channel", top: "sso: {baseURL: https://sso.contoso.com, loginSource: nobody}\n", path: "sso.loginSource", message: `"nobody" names no channel (channels: staff)`},
		{name: "sso protocols are wsfed or saml2", top: "sso: {baseURL: https://sso.contoso.com, loginSource: staff, protocols: [oidc]}\n", path: "sso.protocols[0]", message: "wsfed or saml2"},
		{name: "sso needs TLS beyond loopback", top: "sso: {listen: 0.0.0.0:9031, baseURL: https://sso.contoso.com, loginSource: staff, keyEncryptionKey: 0123456789abcdefXYZ}\n", path: "sso.tls", message: "behindProxy"},
		{name: "sso needs a key encryption key for a generated key", top: "sso: {baseURL: https://sso.contoso.com, loginSource: staff}\n", path: "sso.keyEncryptionKey", message: "required when signingKey is not set"},
		{name: "sso PKCS#12 key carries its own certificate", top: "sso: {baseURL: https://sso.contoso.com, loginSource: staff, signingKey: /k.p12, signingCertificate: /c.pem}\n", path: "sso.signingCertificate", message: "not used with a PKCS#12"},
		{name: "sso signing key and certificate go together", top: "sso: {baseURL: https://sso.contoso.com, loginSource: staff, signingKey: /k.pem}\n", path: "sso.signingKey", message: "go together"},
		{name: "sso corporate networks are CIDR ranges", top: "sso: {baseURL: https://sso.contoso.com, loginSource: staff, keyEncryptionKey: 0123456789abcdefXYZ, corporateNetworks: [10.0.0.0/8, 10.0.0.1]}\n", path: "sso.corporateNetworks[1]", message: "not an address range"},
		{name: "the console needs TLS beyond loopback", top: "console: {listen: 0.0.0.0:9090, adminToken: 0123456789abcdef0123}\n", path: "console.tls", message: "required when listening"},
		{name: "the console address must have a port", top: "console: {listen: localhost, adminToken: 0123456789abcdef0123}\n", path: "console.listen", message: "host:port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := minimal
			if tt.replace[0] != "" {
				if !strings.Contains(doc, tt.replace[0]) {
					t.Fatalf("test broken: %q not in the base document", tt.replace[0])
				}
				doc = strings.Replace(doc, tt.replace[0], tt.replace[1], 1)
			}
			doc += tt.append
			if strings.HasPrefix(tt.top, "  - ") {
				doc += tt.top
			} else {
				doc += tt.top
			}
			_, err := Parse("c.yaml", []byte(doc), testEnv(templateSecrets))
			var ps *Problems
			if !errors.As(err, &ps) {
				t.Fatalf("want *Problems, got %v", err)
			}
			for _, p := range ps.List {
				if p.Path == tt.path && strings.Contains(p.Message, tt.message) {
					if p.Line == 0 {
						t.Errorf("problem has no line: %v", p)
					}
					return
				}
			}
			t.Fatalf("want a problem at %s containing %q, got:\n%v", tt.path, tt.message, err)
		})
	}
}

func TestABadFileReportsEveryProblemWithItsLine(t *testing.T) {
	doc := strings.Join([]string{
		"state:",                    // 1
		"  driver: mysql",           // 2
		"target:",                   // 3
		"  tenant: contoso.com",     // 4
		"  clientId: nope",          // 5
		"  clientSecret: s3cr3t-XY", // 6
		"  colour: blue",            // 7
		"channels:",                 // 8
		"  - name: staff",           // 9
		"    maxThreads: 100",       // 10
		"    source:",               // 11
		"      type: openldap",      // 12
		"      url: ftp://x",        // 13
		"      baseDN: dc=x",        // 14
	}, "\n")
	_, err := Parse("bad.yaml", []byte(doc))
	var ps *Problems
	if !errors.As(err, &ps) {
		t.Fatalf("want *Problems, got %v", err)
	}
	want := []string{
		"bad.yaml:2: state.driver: ",
		"bad.yaml:5: target.clientId: ",
		"bad.yaml:7: target.colour: unknown field",
		"bad.yaml:10: channels[0].maxThreads: ",
		"bad.yaml:13: channels[0].source.url: ",
	}
	got := err.Error()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("missing %q in:\n%s", w, got)
		}
	}
	t.Run("problems come in file order", func(t *testing.T) {
		for i := 1; i < len(ps.List); i++ {
			if ps.List[i].Line < ps.List[i-1].Line {
				t.Fatalf("out of order:\n%s", got)
			}
		}
	})
	t.Run("a literal secret is not echoed", func(t *testing.T) {
		if strings.Contains(got, "s3cr3t-XY") {
			t.Fatalf("secret in errors:\n%s", got)
		}
	})
}

func TestSyntaxErrorsNameTheFileAndLine(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{"an unclosed list is placed where the parser gave up", "state:\n  driver: [sqlite\n", "broken.yaml:3: not valid YAML: "},
		{"a key out of line is placed at its line", "state:\n  driver: sqlite\n target: x\n", "broken.yaml:3: not valid YAML: column 2: "},
		{"a second colon is placed at its line", "state:\n  driver: a: b\n", "broken.yaml:2: not valid YAML: column 12: mapping values are not allowed"},
		{"a tab is named as the cause", "state:\n\tdriver: sqlite\n", "broken.yaml:2: not valid YAML: column 1: found character that cannot start any token: a tab (YAML is indented with spaces only)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("broken.yaml", []byte(tt.doc))
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("got %v\nwant it to start with %q", err, tt.want)
			}
		})
	}
}

// TestSecretsNeverShow loads a configuration whose secrets come from the
// environment and a file, then looks for them everywhere they could leak.
func TestSecretsNeverShow(t *testing.T) {
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "ldap-password")
	const clientSecret, ldapPassword, token = "cs-Value-4f9e2a71", "lp-Value-8d3b5c02", "tok-Value-1a2b3c4d5e6f"
	if err := os.WriteFile(pwFile, []byte(ldapPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	doc := strings.Replace(minimal, "${env:O365PROV_LDAP_PASSWORD}", "${file:"+pwFile+"}", 1) +
		"console: {listen: 127.0.0.1:9090, adminToken: '${env:TOKEN}'}\n"
	path := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path, testEnv(map[string]string{"O365PROV_CLIENT_SECRET": clientSecret, "TOKEN": token}))
	if err != nil {
		t.Fatal(err)
	}
	t.Run("the values are there for the code that needs them", func(t *testing.T) {
		if cfg.Target.ClientSecret.Value() != clientSecret || cfg.Channels[0].Source.Password.Value() != ldapPassword || cfg.Console.AdminToken.Value() != token {
			t.Fatal("secrets not loaded (a file's trailing newline must be dropped)")
		}
	})
	var logs strings.Builder
	slog.New(slog.NewTextHandler(&logs, nil)).Info("loaded", "target", cfg.Target, "secret", cfg.Target.ClientSecret, "source", cfg.Channels[0].Source)
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("loaded", "secret", cfg.Target.ClientSecret, "console", cfg.Console)
	js, _ := json.Marshal(cfg)
	y, _ := yaml.Marshal(cfg)
	outputs := map[string]string{
		"fmt %v":    fmt.Sprintf("%v", cfg),
		"fmt %+v":   fmt.Sprintf("%+v %+v %+v", *cfg, cfg.Target, cfg.Channels),
		"fmt %#v":   fmt.Sprintf("%#v", *cfg),
		"slog":      logs.String(),
		"json":      string(js),
		"yaml":      string(y),
		"a problem": fmt.Sprint(cfg.Problem("target.clientSecret", "rejected by Entra")),
	}
	for name, out := range outputs {
		t.Run("no secret in "+name, func(t *testing.T) {
			for _, s := range []string{clientSecret, ldapPassword, token} {
				if strings.Contains(out, s) {
					t.Fatalf("%s leaks a secret:\n%s", name, out)
				}
			}
		})
	}
}

func TestProblemsAfterLoadingUseTheFileLines(t *testing.T) {
	cfg, err := Parse("c.yaml", []byte(minimal), testEnv(templateSecrets))
	if err != nil {
		t.Fatal(err)
	}
	p := cfg.Problem("channels[0].mapping.user.mail", "does not compile")
	if p.Line != 9 {
		t.Errorf("a path absent from the file takes the nearest ancestor's line: got %d, want 9 (channels[0])", p.Line)
	}
	if got := cfg.Problem("channels[0].source.baseDN", "x").Line; got != 15 {
		t.Errorf("baseDN line = %d, want 15", got)
	}
}

func TestWarningsDoNotFailTheFile(t *testing.T) {
	doc := minimal + "    options: {removeUserAction: delete, deleteThreshold: {count: 0, percent: 0}}\n"
	cfg, err := Parse("c.yaml", []byte(doc), testEnv(templateSecrets))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Warnings) != 2 {
		t.Fatalf("want 2 warnings (provisionDisabledUsers with delete, no threshold), got %v", cfg.Warnings)
	}
}

func TestTimeScaleIsAcceptedForTheFakeTenant(t *testing.T) {
	doc := strings.Replace(minimal, "  clientId:", "  graphURL: https://127.0.0.1:8650\n  loginURL: https://127.0.0.1:8650\n  timeScale: 10\n  clientId:", 1)
	cfg, err := Parse("c.yaml", []byte(doc), testEnv(templateSecrets))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Target.TimeScale != 10 {
		t.Errorf("timeScale = %v, want 10", cfg.Target.TimeScale)
	}
}

func TestAConsoleWithoutATokenIsValidAndWarnedOfBeyondLoopback(t *testing.T) {
	for _, tt := range []struct {
		name, listen string
		warnings     int
	}{
		{"on loopback it is quiet", "127.0.0.1:9090", 0},
		{"on every address it says it keeps to loopback", "0.0.0.0:9090", 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("c.yaml", []byte(minimal+"console: {listen: '"+tt.listen+"'}\n"), testEnv(templateSecrets))
			if err != nil {
				t.Fatal(err)
			}
			if len(cfg.Warnings) != tt.warnings || (tt.warnings == 1 && !strings.Contains(cfg.Warnings[0].Message, "loopback only")) {
				t.Fatalf("warnings %v", cfg.Warnings)
			}
		})
	}
}
