package config_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/o365prov/o365prov/internal/config"
	"github.com/o365prov/o365prov/internal/mapping"
)

// A file with structural problems and a mapping expression that does not
// compile reports them all in one run, in file order: an administrator
// must not fix the file twice to learn of the expression.
func TestMappingErrorsComeWithTheStructuralOnes(t *testing.T) {
	doc := strings.Join([]string{
		"state:",                    // 1
		"  driver: mysql",           // 2
		"target:",                   // 3
		"  tenant: contoso.com",     // 4
		"  clientId: nope",          // 5
		"  clientSecret: s3cr3t-XY", // 6
		"channels:",                 // 7
		"  - name: staff",           // 8
		"    source:",               // 9
		"      type: openldap",      // 10
		"      url: ldap://x",       // 11
		"      baseDN: dc=x",        // 12
		"    mapping:",              // 13
		"      user:",               // 14
		"        mail: {expr: 'lower(attr(\"mail\")'}", // 15
		"      group:",           // 16
		"        nosuchField: x", // 17
	}, "\n")
	_, err := config.Parse("bad.yaml", []byte(doc), config.WithMappingCheck(mapping.Check))
	var ps *config.Problems
	if !errors.As(err, &ps) {
		t.Fatalf("want *config.Problems, got %v", err)
	}
	got := err.Error()
	for _, want := range []string{
		"bad.yaml:2: state.driver: ",
		"bad.yaml:5: target.clientId: ",
		"bad.yaml:15: channels[0].mapping.user.mail: expression",
		"bad.yaml:17: channels[0].mapping.group.nosuchField: ",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	for i := 1; i < len(ps.List); i++ {
		if ps.List[i].Line < ps.List[i-1].Line {
			t.Fatalf("problems out of file order:\n%s", got)
		}
	}
}

// Without the check, Parse leaves mappings alone (the packages that map
// compile them again when they start).
func TestMappingsAreCheckedOnlyWhenAsked(t *testing.T) {
	doc := `
state: {driver: sqlite}
target:
  tenant: contoso.onmicrosoft.com
  clientId: 6f1c2f1e-8b1a-4a57-9d0a-3c1b7e2a9f10
  clientSecret: s3cr3t
channels:
  - name: staff
    source: {type: openldap, url: "ldap://x", baseDN: "dc=x"}
    mapping: {user: {mail: {expr: "lower("}}}
`
	if _, err := config.Parse("c.yaml", []byte(doc)); err != nil {
		t.Fatalf("without a check: %v", err)
	}
	_, err := config.Parse("c.yaml", []byte(doc), config.WithMappingCheck(mapping.Check))
	if err == nil || !strings.Contains(err.Error(), "c.yaml:10: channels[0].mapping.user.mail: ") {
		t.Fatalf("with the check: %v", err)
	}
}
