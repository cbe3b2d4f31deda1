package directory

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/o365prov/o365prov/internal/config"
	"github.com/o365prov/o365prov/internal/directory/slapdtest"
	"github.com/o365prov/o365prov/internal/ldapserver"
)

// embedded starts the embedded server (internal/ldapserver) with ldif and
// returns it, its address and an OpenLDAP-like source for it.
func embedded(t *testing.T, ldif string, opts ldapserver.Options) (*ldapserver.Server, string, config.Source) {
	t.Helper()
	opts.BaseDN = "dc=example,dc=com"
	opts.AdminDN, opts.AdminPassword = "cn=admin,dc=example,dc=com", "secret"
	if opts.LDIFPath == "" {
		opts.LDIF = strings.NewReader(ldif)
	}
	srv, err := ldapserver.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	addr, err := srv.Start(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); srv.Close() })
	src := config.DefaultChannel(config.Generic).Source
	src.URL = "ldap://" + addr
	src.BindDN, src.Password = opts.AdminDN, config.NewSecret(opts.AdminPassword)
	src.BaseDN = opts.BaseDN
	src.Groups = &config.Location{Filter: "(objectClass=groupOfNames)"}
	return srv, addr, src
}

// The embedded server caps unpaged searches at 1,000 entries, as Active
// Directory does: a read of 5,100 succeeds only by paging.
func TestEmbeddedPagingOver5000(t *testing.T) {
	if testing.Short() {
		t.Skip("heavy end to end: skipped with -short, run once by make e2e")
	}
	t.Parallel()
	_, _, src := embedded(t, slapdtest.BaseLDIF("dc=example,dc=com")+slapdtest.UserLDIF("dc=example,dc=com", 5100), ldapserver.Options{SizeLimit: 1000})
	d := open(t, src)
	got, st := readAll(t, d, KindUser, []string{"uid", "mail"})
	if len(got) != 5100 || st.Pages != 11 {
		t.Fatalf("read %d users in %d pages", len(got), st.Pages)
	}
	for dn, e := range got {
		if !uuidRE.MatchString(e.GUID) || len(e.RawGUID) != 16 {
			t.Fatalf("%s: GUID %q", dn, e.GUID)
		}
	}
	if en := enumerate(t, d, KindUser); len(en) != 5100 {
		t.Fatalf("enumerate: %d", len(en))
	}
}

func TestEmbeddedChangeDetectionAndDeletes(t *testing.T) {
	t.Parallel()
	for _, alg := range []string{config.Timestamp, config.TimestampNoNegation, config.EntryCSN} {
		t.Run(alg, func(t *testing.T) {
			t.Parallel()
			srv, _, src := embedded(t, slapdtest.BaseLDIF("dc=example,dc=com")+slapdtest.UserLDIF("dc=example,dc=com", 10), ldapserver.Options{})
			src.ChangeDetection.Algorithm, src.ChangeDetection.Attribute = alg, ""
			d := open(t, src, WithClockSkew(0))
			time.Sleep(1100 * time.Millisecond)
			wm := watermark(t, d)
			dn := "uid=user00004,ou=people,dc=example,dc=com"
			if err := srv.Modify(dn, ldapserver.Replace("title", "Lead")); err != nil {
				t.Fatal(err)
			}
			cs, _ := changes(t, d, KindUser, wm)
			if len(cs) != 1 || !hasChange(cs, Updated, dn) || cs[0].Entry.First("title") != "Lead" {
				t.Fatalf("changes: %v", summary(cs))
			}
			// A deletion: absent from Enumerate.
			before := enumerate(t, d, KindUser)
			if err := srv.Delete(dn); err != nil {
				t.Fatal(err)
			}
			after := enumerate(t, d, KindUser)
			if len(after) != len(before)-1 {
				t.Fatalf("enumerate after a delete: %d, before %d", len(after), len(before))
			}
			for _, v := range after {
				if v == dn {
					t.Fatal("deleted entry enumerated")
				}
			}
		})
	}
}

// The demo organisation: nested groups, an empty group, a DN that needs
// escaping, nsAccountLock, passwords.
func TestEmbeddedContoso(t *testing.T) {
	t.Parallel()
	path := filepath.Join("..", "..", "examples", "contoso.ldif")
	if _, err := os.Stat(path); err != nil {
		t.Skip("examples/contoso.ldif is not there")
	}
	srv, err := ldapserver.New(ldapserver.Options{LDIFPath: path, AdminDN: "cn=admin,dc=contoso,dc=com", AdminPassword: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	addr, err := srv.Start(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); srv.Close() })
	src := config.DefaultChannel(config.Generic).Source
	src.URL = "ldap://" + addr
	// The service account of the file, not the admin.
	src.BindDN, src.Password = "cn=o365prov,ou=services,dc=contoso,dc=com", config.NewSecret("o365prov-Service-2026!")
	src.BaseDN = "dc=contoso,dc=com"
	src.Groups = &config.Location{Filter: "(objectClass=groupOfNames)"}
	src.AccountStatus = config.AccountStatus{Algorithm: config.StatusFlag, Attribute: "nsAccountLock", FlagValue: "true", FlagMeansDisabled: true, Default: "enabled"}
	d := open(t, src)
	users, _ := readAll(t, d, KindUser, []string{"uid", "mail", "manager"})
	groups, _ := readAll(t, d, KindGroup, []string{"cn"})
	disabled := 0
	for _, u := range users {
		if !u.Enabled {
			disabled++
		}
	}
	if len(users) < 100 || len(groups) < 10 || disabled == 0 {
		t.Fatalf("contoso: %d users (%d disabled), %d groups", len(users), disabled, len(groups))
	}
	var nested, sales string
	for dn, g := range groups {
		for _, m := range g.Members {
			if _, ok := groups[m]; ok {
				nested = dn
			}
		}
		if strings.Contains(dn, `Sales\, EMEA`) || strings.Contains(dn, `Sales\2C EMEA`) {
			sales = dn
		}
	}
	if nested == "" || sales == "" {
		t.Fatalf("no nested group (%q) or escaped DN (%q) among %v", nested, sales, keys(groups))
	}
	// Users scoped by the nested group, through its inner groups; and by
	// the group whose DN needs escaping in filters.
	for _, gdn := range []string{nested, sales} {
		s := src
		s.Users.GroupDN, s.Users.NestedSearch = gdn, true
		dg := open(t, s)
		in, _ := readAll(t, dg, KindUser, nil)
		if len(in) == 0 {
			t.Errorf("no users in %s", gdn)
		}
		t.Logf("%d users in %s (nested)", len(in), gdn)
	}
	// A user signs in with the file's password.
	var some Entry
	for _, u := range users {
		if u.Enabled && u.First("mail") != "" {
			some = u
			break
		}
	}
	if _, err := d.Authenticate(ctxT(t), "mail", some.First("mail"), "Contoso-Demo-2026!", nil); err != nil {
		t.Errorf("Authenticate %s: %v", some.First("mail"), err)
	}
	if _, err := d.Authenticate(ctxT(t), "mail", some.First("mail"), "wrong", nil); err != ErrInvalidCredentials {
		t.Errorf("wrong password: %v", err)
	}
	// The embedded server has no push: the engine polls.
	if err := d.Watch(ctxT(t), func(Event) {}); !isErr(err, ErrPushUnsupported) {
		t.Errorf("Watch on the embedded server: %v", err)
	}
}

// Reads survive the embedded server restarting on the same address.
func TestEmbeddedReconnectAfterRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	persist := filepath.Join(dir, "dir.ldif")
	ldif := slapdtest.BaseLDIF("dc=example,dc=com") + slapdtest.UserLDIF("dc=example,dc=com", 30)
	srv, addr, src := embedded(t, ldif, ldapserver.Options{PersistPath: persist})
	d := open(t, src)
	first := enumerate(t, d, KindUser)
	srv.Close()
	srv2, err := ldapserver.New(ldapserver.Options{BaseDN: "dc=example,dc=com", AdminDN: "cn=admin,dc=example,dc=com", AdminPassword: "secret", LDIFPath: persist, PersistPath: persist})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	defer srv2.Close()
	if _, err := srv2.Start(ctx, addr); err != nil {
		t.Fatal(err)
	}
	second := enumerate(t, d, KindUser)
	if fmt.Sprint(len(first)) != fmt.Sprint(len(second)) {
		t.Fatalf("before %d, after %d", len(first), len(second))
	}
	for g := range first {
		if _, ok := second[g]; !ok {
			t.Fatalf("GUID %s changed across the restart", g)
		}
	}
}
