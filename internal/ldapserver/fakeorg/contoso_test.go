package fakeorg

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/o365prov/o365prov/internal/ldapserver/ldif"
)

// TestContosoHasWhatTheDemoAndTestsNeed checks the shipped organisation
// against the promises of its header.
func TestContosoHasWhatTheDemoAndTestsNeed(t *testing.T) {
	f, err := os.Open(repoFile(t, "examples/contoso.ldif"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := ldif.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	byDN := map[string]*ldif.Record{}
	var people, groups []*ldif.Record
	for _, r := range recs {
		byDN[strings.ToLower(r.DN)] = r
		switch {
		case strings.HasSuffix(r.DN, ",ou=people,dc=contoso,dc=com"):
			people = append(people, r)
		case strings.HasSuffix(r.DN, ",ou=groups,dc=contoso,dc=com"):
			groups = append(groups, r)
		}
	}
	t.Run("it has 200 people and 20 groups", func(t *testing.T) {
		if len(people) != 200 || len(groups) != 20 {
			t.Errorf("%d people, %d groups", len(people), len(groups))
		}
	})
	t.Run("everyone but one CEO has a manager who exists", func(t *testing.T) {
		var top []string
		for _, p := range people {
			m := p.Values("manager")
			if len(m) == 0 {
				top = append(top, p.DN)
				continue
			}
			if byDN[strings.ToLower(m[0])] == nil {
				t.Errorf("%s: manager %s does not exist", p.DN, m[0])
			}
		}
		if len(top) != 1 {
			t.Errorf("people without a manager: %v, want exactly the CEO", top)
		}
	})
	t.Run("the org chart is at least four levels deep", func(t *testing.T) {
		deepest := 0
		for _, p := range people {
			depth := 1
			for m := p.Values("manager"); len(m) > 0; m = byDN[strings.ToLower(m[0])].Values("manager") {
				depth++
			}
			deepest = max(deepest, depth)
		}
		if deepest < 4 {
			t.Errorf("deepest chain of managers has %d levels", deepest)
		}
	})
	t.Run("a few accounts are disabled with nsAccountLock", func(t *testing.T) {
		n := 0
		for _, p := range people {
			if slices.Equal(p.Values("nsAccountLock"), []string{"true"}) {
				n++
			}
		}
		if n < 2 || n > 10 {
			t.Errorf("%d disabled accounts, want a few", n)
		}
	})
	t.Run("licences are E3 for most, E5 for some, none for a few", func(t *testing.T) {
		count := map[string]int{}
		for _, p := range people {
			skus := p.Values("o365Sku")
			if len(skus) == 0 {
				count["none"]++
			}
			for _, s := range skus {
				count[s]++
			}
		}
		if count["ENTERPRISEPACK"] < 100 || count["ENTERPRISEPREMIUM"] < 10 || count["none"] < 1 {
			t.Errorf("licence counts %v", count)
		}
	})
	t.Run("every person has a country code, a unique mail in contoso.com and the inetOrgPerson basics", func(t *testing.T) {
		country := regexp.MustCompile(`^[A-Z]{2}$`)
		mails := map[string]bool{}
		for _, p := range people {
			for _, attr := range []string{"uid", "cn", "givenName", "sn", "displayName", "title", "ou", "departmentNumber",
				"telephoneNumber", "mobile", "l", "st", "postalCode", "street", "preferredLanguage", "employeeNumber", "userPassword", "entryUUID"} {
				if len(p.Values(attr)) != 1 {
					t.Fatalf("%s: %s has %d values", p.DN, attr, len(p.Values(attr)))
				}
			}
			if c := p.Values("c"); len(c) != 1 || !country.MatchString(c[0]) {
				t.Errorf("%s: c = %v", p.DN, c)
			}
			mail := p.Values("mail")[0]
			if !strings.HasSuffix(mail, "@contoso.com") || mails[mail] {
				t.Errorf("%s: mail %s is not a unique contoso.com address", p.DN, mail)
			}
			mails[mail] = true
		}
	})
	t.Run("one group is nested and one is almost empty", func(t *testing.T) {
		nested, empty := 0, 0
		for _, g := range groups {
			members := g.Values("member")
			if slices.Equal(members, []string{""}) {
				empty++
			}
			for _, m := range members {
				if strings.HasSuffix(m, ",ou=groups,dc=contoso,dc=com") {
					nested++
					break
				}
			}
		}
		if nested != 1 || empty < 1 {
			t.Errorf("%d nested groups and %d almost empty ones", nested, empty)
		}
	})
	t.Run("the service account exists", func(t *testing.T) {
		if byDN["cn=o365prov,ou=services,dc=contoso,dc=com"] == nil {
			t.Error("no cn=o365prov,ou=services,dc=contoso,dc=com")
		}
	})
}
