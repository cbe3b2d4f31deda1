package provision_test

import (
	"crypto/rand"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/o365prov/o365prov/internal/directory/sambatest"
	"github.com/o365prov/o365prov/internal/engine"
)

// sourceBlock is the world's source section, replaced to read Samba AD.
var sourceBlock = regexp.MustCompile(`(?s)    source:\n.*?\n    mapping:\n      user:\n        skuId: '\$\{o365Sku\}'\n`)

// TestSambaManagersAndMembersWithAwkwardDNs provisions, from a real Samba
// AD, users whose DNs hold an escaped comma, an escaped plus sign and UTF-8,
// managers and members named with another case: every manager and member
// reaches the tenant.
func TestSambaManagersAndMembersWithAwkwardDNs(t *testing.T) {
	s := sambatest.Shared(t)
	c := s.Conn(t)
	var b [3]byte
	rand.Read(b[:])
	tag := fmt.Sprintf("%x", b)
	ou := s.AddOU(t, c, "dn-"+tag, "")
	add := func(rdn, sam string, attrs map[string][]string) string {
		t.Helper()
		dn := rdn + "," + ou
		req := ldap.NewAddRequest(dn, nil)
		req.Attribute("objectClass", []string{"top", "person", "organizationalPerson", "user"})
		req.Attribute("sAMAccountName", []string{sam})
		req.Attribute("userPrincipalName", []string{sam + "@contoso.com"})
		req.Attribute("givenName", []string{sam})
		req.Attribute("sn", []string{"Test"})
		req.Attribute("unicodePwd", []string{sambatest.UnicodePwd("Secr3t!Secr3t")})
		req.Attribute("userAccountControl", []string{"512"})
		for k, v := range attrs {
			req.Attribute(k, v)
		}
		if err := c.Add(req); err != nil {
			t.Fatalf("add %s: %v", dn, err)
		}
		return dn
	}
	lower := strings.ToLower(ou)
	boss := add(`CN=Smith\, John `+tag, "sjohn-"+tag, nil)
	lead := add(`CN=R\+D Lead `+tag, "rdlead-"+tag, map[string][]string{"manager": {`cn=smith\2c john ` + tag + "," + lower}})
	emil := add(`CN=Émilie Ångström `+tag, "emilie-"+tag, map[string][]string{"manager": {strings.ToLower(`CN=R\+D Lead `+tag) + "," + lower}})
	s.AddGroup(t, c, ou, "Crew-"+tag, strings.ToUpper(boss[:3])+boss[3:], lead, strings.ToLower(emil[:20])+emil[20:])

	w := newWorld(t)
	src := fmt.Sprintf(`    source:
      type: activeDirectory
      url: %s
      insecureSkipVerify: true # Samba's own certificate names its host only in the Common Name (docs/directories.md)
      bindDN: '%s'
      password: '%s'
      baseDN: '%s'
      users: {filter: "(objectClass=user)"}
      groups: {filter: "(objectClass=group)"}
      changeDetection: {push: "off"}
    mapping:
      user:
        jobTitle: '${title}'
`, s.URL, s.AdminDN, s.AdminPassword, ou)
	if !sourceBlock.MatchString(w.yaml) {
		t.Fatal("the world's source section changed: update sourceBlock")
	}
	w.yaml = sourceBlock.ReplaceAllString(w.yaml, src)
	w.open()
	res := w.sync(engine.Full)
	if len(res.Plan.Problems) > 0 || res.Failed > 0 {
		t.Errorf("problems %+v failures %+v", res.Plan.Problems, res.Failures)
	}
	bossU, leadU, emilU := w.mustUser("sjohn-"+tag+"@contoso.com"), w.mustUser("rdlead-"+tag+"@contoso.com"), w.mustUser("emilie-"+tag+"@contoso.com")
	if leadU.Manager != bossU.ID {
		t.Errorf("the manager named cn=smith\\2c john … was not set on R+D Lead")
	}
	if emilU.Manager != leadU.ID {
		t.Errorf("the manager named cn=r\\+d lead … was not set on Émilie")
	}
	g := w.mustGroup("Crew-" + tag)
	got := w.memberUPNs(g)
	want := []string{bossU.UserPrincipalName, leadU.UserPrincipalName, emilU.UserPrincipalName}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("members %v, want %v", got, want)
	}
}
