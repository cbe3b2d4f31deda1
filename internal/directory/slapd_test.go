package directory

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/o365prov/o365prov/internal/config"
	"github.com/o365prov/o365prov/internal/directory/slapdtest"
)

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func TestSlapdPagingOver5000(t *testing.T) {
	if testing.Short() {
		t.Skip("heavy end to end: skipped with -short, run once by make e2e")
	}
	t.Parallel()
	const n = 5100
	srv := slapdtest.Start(t, slapdtest.Options{LDIF: slapdtest.UserLDIF("dc=example,dc=com", n) + `dn: uid=multi,ou=people,dc=example,dc=com
objectClass: inetOrgPerson
uid: multi
cn: Multi Valued
sn: Valued
mail: one@example.com
mail: two@example.com
mail: three@example.com

`})
	d := open(t, srv.Source())
	got, st := readAll(t, d, KindUser, []string{"uid", "MAIL", "cn"})
	if len(got) != n+1 {
		t.Fatalf("read %d users, want %d", len(got), n+1)
	}
	if want := (n + 1 + 499) / 500; st.Pages != want {
		t.Errorf("read %d pages, want %d (page size 500)", st.Pages, want)
	}
	if st.Entries != n+1 || st.Skipped != 0 {
		t.Errorf("stats %+v", st)
	}
	guids := map[string]bool{}
	for dn, e := range got {
		if !uuidRE.MatchString(e.GUID) {
			t.Fatalf("%s: GUID %q is not a lower-case UUID", dn, e.GUID)
		}
		if len(e.RawGUID) != 16 || fmt.Sprintf("%x", e.RawGUID) != strings.ReplaceAll(e.GUID, "-", "") {
			t.Fatalf("%s: RawGUID %x does not match %s", dn, e.RawGUID, e.GUID)
		}
		if guids[e.GUID] {
			t.Fatalf("GUID %s twice", e.GUID)
		}
		guids[e.GUID] = true
		if !e.Enabled {
			t.Fatalf("%s disabled with algorithm NONE", dn)
		}
	}
	m := got["uid=multi,ou=people,dc=example,dc=com"]
	if mails := m.Attr("mail"); len(mails) != 3 {
		t.Errorf("multi-valued mail: %q", mails)
	}
	if _, ok := m.Attributes["MAIL"]; !ok {
		t.Errorf("attributes are not keyed by the requested spelling: %v", keys(m.Attributes))
	}
	if m.First("CN") != "Multi Valued" || m.First("nope") != "" {
		t.Errorf("First: %q %q", m.First("CN"), m.First("nope"))
	}
	if base64.StdEncoding.EncodeToString(m.RawGUID) == "" {
		t.Error("no immutable id")
	}
	// Enumerate lists the same GUIDs.
	en := enumerate(t, d, KindUser)
	if len(en) != n+1 {
		t.Fatalf("enumerate: %d, want %d", len(en), n+1)
	}
	for g := range guids {
		if _, ok := en[g]; !ok {
			t.Fatalf("enumerate misses %s", g)
		}
	}
	// A deleted entry is absent from the next enumeration, and only it.
	gone := got[srv.UserDN("user00042")].GUID
	srv.Delete(t, srv.UserDN("user00042"))
	en = enumerate(t, d, KindUser)
	if _, ok := en[gone]; ok || len(en) != n {
		t.Fatalf("after a delete: %d entries, deleted one present: %v", len(en), ok)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestSlapdSizeLimitFailsTheRead(t *testing.T) {
	t.Parallel()
	srv := slapdtest.Start(t, slapdtest.Options{
		LDIF: slapdtest.UserLDIF("dc=example,dc=com", 1200) + `dn: cn=reader,dc=example,dc=com
objectClass: person
cn: reader
sn: reader
userPassword: readerpw

`,
		GlobalConfig: "sizelimit 1000",
	})
	src := srv.Source()
	src.BindDN, src.Password = "cn=reader,dc=example,dc=com", config.NewSecret("readerpw")
	d := open(t, src)
	n := 0
	_, err := d.Users(ctxT(t), []string{"uid"}, func(Entry) error { n++; return nil })
	if err == nil {
		t.Fatalf("read of 1,200 entries under a size limit of 1,000 succeeded with %d entries", n)
	}
	if !strings.Contains(err.Error(), "size limit") {
		t.Errorf("error does not name the size limit: %v", err)
	}
	if err := d.Enumerate(ctxT(t), KindUser, func(string, string) error { return nil }); err == nil {
		t.Fatal("enumerate under a size limit succeeded")
	}
	t.Logf("size limit: %v (after %d entries)", err, n)
}

// A connection cut in the middle of a read must fail the read, never end
// it early as if complete.
func TestSlapdCutConnectionFailsTheRead(t *testing.T) {
	t.Parallel()
	srv := slapdtest.Start(t, slapdtest.Options{LDIF: slapdtest.UserLDIF("dc=example,dc=com", 3000)})
	p := newFaultProxy(t, strings.TrimPrefix(srv.URL, "ldap://"))
	// Each connection is cut after 200 KB from the server: the bind and the
	// root DSE pass, the read does not.
	p.cutAt.Store(200_000)
	d := open(t, srv.Source(), WithDialer(p.dial), WithReconnect(2, 10*time.Millisecond, 20*time.Millisecond))
	n := 0
	_, err := d.Users(ctxT(t), nil, func(Entry) error { n++; return nil })
	if err == nil {
		t.Fatalf("a read cut after %d entries returned no error", n)
	}
	if n == 0 || n >= 3000 {
		t.Fatalf("the cut came at %d entries; the test wants it mid-read", n)
	}
	err = d.Enumerate(ctxT(t), KindUser, func(string, string) error { return nil })
	if err == nil {
		t.Fatal("a cut enumeration returned no error")
	}
	t.Logf("cut after %d entries: %v", n, err)
}

// A server that stops answering mid-read fails the read after the
// source's timeout.
func TestSlapdStalledServerTimesOut(t *testing.T) {
	t.Parallel()
	srv := slapdtest.Start(t, slapdtest.Options{LDIF: slapdtest.UserLDIF("dc=example,dc=com", 3000)})
	p := newFaultProxy(t, strings.TrimPrefix(srv.URL, "ldap://"))
	src := srv.Source()
	src.Timeout = time.Second
	d := open(t, src, WithDialer(p.dial), WithReconnect(1, 10*time.Millisecond, 20*time.Millisecond))
	p.stallAt.Store(150_000)
	start := time.Now()
	n := 0
	_, err := d.Users(ctxT(t), nil, func(Entry) error { n++; return nil })
	if err == nil {
		t.Fatalf("a stalled read returned no error after %d entries", n)
	}
	if el := time.Since(start); el > 10*time.Second {
		t.Errorf("the stalled read took %v to fail with a 1s timeout", el)
	}
	t.Logf("stalled after %d entries: %v (%v)", n, err, time.Since(start).Round(time.Millisecond))
}

// Searches survive the server restarting between calls: the pooled
// connections are dead, the next call dials again.
func TestSlapdReconnectAfterRestart(t *testing.T) {
	t.Parallel()
	srv := slapdtest.Start(t, slapdtest.Options{LDIF: slapdtest.UserLDIF("dc=example,dc=com", 700)})
	d := open(t, srv.Source(), WithPoolSize(2))
	for round := 0; round < 3; round++ {
		got, _ := readAll(t, d, KindUser, []string{"uid"})
		if len(got) != 700 {
			t.Fatalf("round %d: %d users", round, len(got))
		}
		srv.Stop()
		srv.Resume()
	}
	// And while the server is down, a read fails (after its retries) and
	// does not return an empty success.
	srv.Kill()
	_, err := d.Users(ctxT(t), nil, func(Entry) error { return nil })
	if err == nil {
		t.Fatal("a read with the server down succeeded")
	}
	srv.Resume()
	if got, _ := readAll(t, d, KindUser, []string{"uid"}); len(got) != 700 {
		t.Fatalf("after the outage: %d users", len(got))
	}
}

func TestSlapdTLS(t *testing.T) {
	t.Parallel()
	srv := slapdtest.Start(t, slapdtest.Options{TLS: true, LDIF: slapdtest.UserLDIF("dc=example,dc=com", 3)})
	t.Run("ldaps", func(t *testing.T) {
		src := srv.Source()
		src.URL, src.CAFile = srv.LDAPSURL, srv.CAFile
		d := open(t, src)
		if got, _ := readAll(t, d, KindUser, nil); len(got) != 3 {
			t.Fatalf("%d users", len(got))
		}
	})
	t.Run("starttls", func(t *testing.T) {
		src := srv.Source()
		src.StartTLS, src.CAFile = true, srv.CAFile
		d := open(t, src)
		if got, _ := readAll(t, d, KindUser, nil); len(got) != 3 {
			t.Fatalf("%d users", len(got))
		}
	})
	t.Run("unknown CA fails at once", func(t *testing.T) {
		src := srv.Source()
		src.URL = srv.LDAPSURL
		start := time.Now()
		_, err := Open(ctxT(t), src, WithLogger(testLogger(t)))
		if err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Fatalf("Open with an unknown CA: %v", err)
		}
		if time.Since(start) > 2*time.Second {
			t.Errorf("a certificate error was retried (%v)", time.Since(start))
		}
	})
	t.Run("insecureSkipVerify", func(t *testing.T) {
		src := srv.Source()
		src.URL, src.InsecureSkipVerify = srv.LDAPSURL, true
		open(t, src)
	})
	t.Run("wrong password fails at once", func(t *testing.T) {
		src := srv.Source()
		src.Password = config.NewSecret("wrong")
		_, err := Open(ctxT(t), src, WithLogger(testLogger(t)))
		if err == nil || !strings.Contains(err.Error(), "Invalid Credentials") {
			t.Fatalf("Open with a wrong password: %v", err)
		}
		if strings.Contains(err.Error(), "wrong") {
			t.Fatal("the error shows the password")
		}
	})
}

// A referral that points back where the read has been fails the read.
func TestSlapdReferralLoop(t *testing.T) {
	t.Parallel()
	srv := slapdtest.Start(t, slapdtest.Options{LDIF: slapdtest.UserLDIF("dc=example,dc=com", 5)})
	srv.Add(t, "ou=elsewhere,dc=example,dc=com", map[string][]string{
		"objectClass": {"referral", "extensibleObject"},
		"ou":          {"elsewhere"},
		"ref":         {srv.URL + "/ou=elsewhere,dc=example,dc=com"},
	})
	d := open(t, srv.Source())
	_, err := d.Users(ctxT(t), nil, func(Entry) error { return nil })
	if !isErr(err, ErrReferralLoop) {
		t.Fatalf("read with a referral loop: %v", err)
	}
	// Ignored, the reference is reported and the rest read.
	d2 := open(t, srv.Source(), WithReferrals(ReferralsIgnore))
	got, st := readAll(t, d2, KindUser, nil)
	if len(got) != 5 || len(st.Ignored) != 1 {
		t.Fatalf("ignoring referrals: %d users, ignored %q", len(got), st.Ignored)
	}
	d3 := open(t, srv.Source(), WithReferrals(ReferralsFail))
	if _, err := d3.Users(ctxT(t), nil, func(Entry) error { return nil }); err == nil {
		t.Fatal("ReferralsFail read a referral")
	}
}

// A referral to another server is followed with the same credentials.
func TestSlapdReferralFollowed(t *testing.T) {
	t.Parallel()
	other := slapdtest.Start(t, slapdtest.Options{Bare: true, LDIF: slapdtest.BaseLDIF("dc=example,dc=com") + `dn: ou=branch,dc=example,dc=com
objectClass: organizationalUnit
ou: branch

` + strings.ReplaceAll(slapdtest.UserLDIF("dc=example,dc=com", 3), "ou=people", "ou=branch")})
	srv := slapdtest.Start(t, slapdtest.Options{LDIF: slapdtest.UserLDIF("dc=example,dc=com", 4)})
	srv.Add(t, "ou=branch,dc=example,dc=com", map[string][]string{
		"objectClass": {"referral", "extensibleObject"},
		"ou":          {"branch"},
		"ref":         {other.URL + "/ou=branch,dc=example,dc=com"},
	})
	d := open(t, srv.Source())
	got, _ := readAll(t, d, KindUser, nil)
	if len(got) != 7 {
		t.Fatalf("read %d users across the referral, want 7: %v", len(got), keys(got))
	}
	// The referred server going away fails the read.
	other.Stop()
	if _, err := d.Users(ctxT(t), nil, func(Entry) error { return nil }); err == nil {
		t.Fatal("a read whose referral cannot be followed succeeded")
	}
}
