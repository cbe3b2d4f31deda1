package provision_test

import (
	"encoding/base64"
	"fmt"
	"strings"
)

// orgLDIF is a small company: user0 is the CEO, users 1–2 report to the
// CEO, the rest to user1. Everyone has an E3 licence and lives in GB.
func orgLDIF(n int) string {
	var b strings.Builder
	b.WriteString(`dn: dc=contoso,dc=com
objectClass: dcObject
objectClass: organization
dc: contoso
o: Contoso

dn: ou=people,dc=contoso,dc=com
objectClass: organizationalUnit
ou: people

dn: ou=groups,dc=contoso,dc=com
objectClass: organizationalUnit
ou: groups

`)
	for i := 0; i < n; i++ {
		b.WriteString(userLDIF(i, managerOf(i)))
	}
	return b.String()
}

func managerOf(i int) int {
	switch {
	case i == 0:
		return -1
	case i <= 2:
		return 0
	default:
		return 1
	}
}

func userDN(i int) string  { return fmt.Sprintf("uid=user%d,ou=people,dc=contoso,dc=com", i) }
func userUPN(i int) string { return fmt.Sprintf("user%d@contoso.com", i) }

func userLDIF(i, manager int) string {
	s := fmt.Sprintf(`dn: %s
objectClass: inetOrgPerson
uid: user%d
cn: User %d
sn: Number%d
givenName: User
displayName: User %d
mail: %s
title: Engineer
c: GB
o365Sku: ENTERPRISEPACK
`, userDN(i), i, i, i, i, userUPN(i))
	if manager >= 0 {
		s += "manager: " + userDN(manager) + "\n"
	}
	return s + "\n"
}

func base64Lines(b []byte) string {
	s := base64.StdEncoding.EncodeToString(b)
	var out strings.Builder
	for len(s) > 64 {
		out.WriteString(s[:64] + "\n")
		s = s[64:]
	}
	out.WriteString(s + "\n")
	return out.String()
}
