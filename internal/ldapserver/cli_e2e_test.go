package ldapserver_test

import (
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/o365prov/o365prov/internal/ldapserver"
)

// The OpenLDAP command-line tools are an independent client: what they
// can do against the server does not depend on go-ldap's reading of the
// protocol.

func ldapTool(t *testing.T, e *env, stdin string, name string, args ...string) string {
	t.Helper()
	bin := needTool(t, name)
	full := append([]string{"-x", "-H", "ldap://" + e.addr, "-D", adminDN, "-w", adminPW}, args...)
	cmd := exec.Command(bin, full...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", name, err, strings.ReplaceAll(string(out), adminPW, "***"))
	}
	return string(out)
}

func TestLdapsearchPagesThroughTheServer(t *testing.T) {
	e := start(t, org(t, 1000, 0), ldapserver.Options{SizeLimit: 500})
	out := ldapTool(t, e, "", "ldapsearch", "-LLL", "-b", contosoPeople, "-s", "one",
		"-E", "pr=100/noprompt", "(objectClass=inetOrgPerson)", "uid")
	if n := strings.Count(out, "\ndn: ") + boolInt(strings.HasPrefix(out, "dn: ")); n != 1000 {
		t.Errorf("ldapsearch paged through %d entries, want 1000", n)
	}
	uids := regexp.MustCompile(`(?m)^uid: (.+)$`).FindAllStringSubmatch(out, -1)
	seen := map[string]bool{}
	for _, m := range uids {
		if seen[m[1]] {
			t.Fatalf("uid %s twice", m[1])
		}
		seen[m[1]] = true
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestLdapmodifyAppliesAChangeFile(t *testing.T) {
	e := start(t, smallLDIF, ldapserver.Options{})
	changes := `dn: uid=alice,ou=people,dc=example,dc=com
changetype: modify
replace: title
title: Principal Engineer
-
add: mail
mail: a.smith@example.com
-
delete: jpegPhoto

dn: uid=dora,ou=people,dc=example,dc=com
changetype: add
objectClass: inetOrgPerson
uid: dora
cn:: RG9yYSDDmG1hbg==
sn: Oman

dn: uid=bob,ou=people,dc=example,dc=com
changetype: modrdn
newrdn: uid=robert
deleteoldrdn: 1

dn: uid=locked,ou=people,dc=example,dc=com
changetype: delete
`
	ldapTool(t, e, changes, "ldapmodify")
	alice, err := e.srv.Get(aliceDN)
	if err != nil {
		t.Fatal(err)
	}
	if alice.Value("title") != "Principal Engineer" || len(alice.Values("mail")) != 2 || alice.Value("jpegPhoto") != "" {
		t.Errorf("alice after ldapmodify: %+v", alice)
	}
	dora, err := e.srv.Get("uid=dora,ou=people,dc=example,dc=com")
	if err != nil || dora.Value("cn") != "Dora Øman" {
		t.Errorf("dora: %+v %v", dora, err)
	}
	if manager := mustGetEntry(t, e, "uid=robert,ou=people,dc=example,dc=com").Value("manager"); manager != aliceDN {
		t.Errorf("renamed bob's manager %q", manager)
	}
	if _, err := e.srv.Get(lockedDN); err == nil {
		t.Error("the deleted entry is still there")
	}
	out := ldapTool(t, e, "", "ldapsearch", "-LLL", "-b", base, "(|(cn=dora*)(uid=robert))", "1.1")
	got := regexp.MustCompile(`(?m)^dn: (.+)$`).FindAllStringSubmatch(out, -1)
	var names []string
	for _, m := range got {
		names = append(names, m[1])
	}
	if !slices.Equal(names, []string{"uid=robert,ou=people,dc=example,dc=com", "uid=dora,ou=people,dc=example,dc=com"}) {
		t.Errorf("ldapsearch found %v", names)
	}
}

func mustGetEntry(t *testing.T, e *env, dn string) ldapserver.Entry {
	t.Helper()
	en, err := e.srv.Get(dn)
	if err != nil {
		t.Fatal(err)
	}
	return en
}
