package directory

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
	"github.com/o365prov/o365prov/internal/config"
	"github.com/o365prov/o365prov/internal/directory/sambatest"
)

var ouSeq atomic.Int64

// sambaOU gives a test an OU of its own on the shared DC, a source
// reading it, and a namer: account names are unique in a domain, and the
// DC outlives a test (and -count runs), so every name gets the OU's tag.
func sambaOU(t *testing.T) (*sambatest.Server, *ldap.Conn, string, config.Source, func(string) string) {
	t.Helper()
	s := sambatest.Shared(t)
	c := s.Conn(t)
	var b [3]byte
	rand.Read(b[:])
	tag := fmt.Sprintf("%x", b)
	ou := s.AddOU(t, c, fmt.Sprintf("t%d-%s", ouSeq.Add(1), tag), "")
	src := s.Source()
	src.BaseDN = ou
	return s, c, ou, src, func(name string) string { return name + "-" + tag }
}

func sambaOpen(t *testing.T, s *sambatest.Server, src config.Source, opts ...Option) *Directory {
	return open(t, src, append([]Option{WithTLSConfig(s.TLSConfig())}, opts...)...)
}

func TestSambaUsersGUIDAndStatus(t *testing.T) {
	t.Parallel()
	s, c, ou, src, n := sambaOU(t)
	t.Logf("Samba provision %v, start %v", s.ProvisionTime.Round(time.Millisecond), s.StartTime.Round(time.Millisecond))
	alice := s.AddUser(t, c, ou, n("alice"), "Secr3t!Secr3t", nil)
	bob := s.AddUser(t, c, ou, n("bob"), "Secr3t!Secr3t", nil)
	s.AddUser(t, c, ou, n("carol"), "", map[string][]string{"userAccountControl": {"514"}}) // disabled
	d := sambaOpen(t, s, src)
	got, st := readAll(t, d, KindUser, []string{"sAMAccountName", "userPrincipalName", "objectSid"})
	if len(got) != 3 {
		t.Fatalf("users: %v", keys(got))
	}
	if !got[alice].Enabled || !got[bob].Enabled || got["CN="+n("carol")+","+ou].Enabled {
		t.Errorf("status: alice %v bob %v carol %v", got[alice].Enabled, got[bob].Enabled, got["CN="+n("carol")+","+ou].Enabled)
	}
	for dn, e := range got {
		if !uuidRE.MatchString(e.GUID) || len(e.RawGUID) != 16 {
			t.Fatalf("%s: GUID %q raw %x", dn, e.GUID, e.RawGUID)
		}
		// AD finds an object by <GUID=...> in its own rendering: ours must
		// be the same.
		res, err := c.Search(ldap.NewSearchRequest("<GUID="+e.GUID+">", ldap.ScopeBaseObject, 0, 0, 0, false, "(objectClass=*)", []string{"objectGUID"}, nil))
		if err != nil || len(res.Entries) != 1 || !strings.EqualFold(res.Entries[0].DN, dn) {
			t.Fatalf("<GUID=%s> does not find %s: %v", e.GUID, dn, err)
		}
		if !bytes.Equal(res.Entries[0].GetRawAttributeValue("objectGUID"), e.RawGUID) {
			t.Fatalf("RawGUID %x is not objectGUID %x", e.RawGUID, res.Entries[0].GetRawAttributeValue("objectGUID"))
		}
		if e.First("sAMAccountName") == "" || len(e.First("objectSid")) < 12 {
			t.Errorf("%s: attributes %v", dn, keys(e.Attributes))
		}
	}
	t.Logf("pages %d, ignored references %q", st.Pages, st.Ignored)
	// AD's paging, one entry a page.
	src1 := src
	src1.PageSize = 1
	if got, st := readAll(t, sambaOpen(t, s, src1), KindUser, nil); len(got) != 3 || st.Pages < 3 {
		t.Errorf("page size 1: %d users in %d pages", len(got), st.Pages)
	}

	// From the domain root, Samba (like AD) refers to the Configuration
	// partition: ignored by default on AD, reported in the stats.
	src.BaseDN = s.BaseDN
	src.Users.Filter = "(&(objectCategory=person)(objectClass=user)(sAMAccountName=" + n("alice") + "))"
	d2 := sambaOpen(t, s, src)
	got, st = readAll(t, d2, KindUser, nil)
	if len(got) != 1 || len(st.Ignored) == 0 {
		t.Errorf("domain-root read: %v, ignored %q", keys(got), st.Ignored)
	}
}

func TestSambaStartTLSAndAuthenticate(t *testing.T) {
	t.Parallel()
	s, c, ou, src, n := sambaOU(t)
	s.AddUser(t, c, ou, n("dave"), "Secr3t!Secr3t", nil)
	s.AddUser(t, c, ou, n("erin"), "Secr3t!Secr3t", nil)
	dis := s.AddUser(t, c, ou, n("frank"), "Secr3t!Secr3t", nil)
	m := ldap.NewModifyRequest(dis, nil)
	m.Replace("userAccountControl", []string{"514"})
	if err := c.Modify(m); err != nil {
		t.Fatal(err)
	}
	src.URL, src.StartTLS = s.StartTLSURL, true
	d := sambaOpen(t, s, src)
	e, err := d.Authenticate(ctxT(t), "userPrincipalName", n("dave")+"@example.test", "Secr3t!Secr3t", []string{"mail"})
	if err != nil || e.First("mail") != n("dave")+"@example.test" {
		t.Fatalf("right password: %v %+v", err, e)
	}
	for _, tc := range []struct{ login, pw string }{
		{n("dave") + "@example.test", "wrong"}, {"nobody@example.test", "Secr3t!Secr3t"}, {n("dave") + "@example.test", ""},
	} {
		if _, err := d.Authenticate(ctxT(t), "userPrincipalName", tc.login, tc.pw, nil); err != ErrInvalidCredentials {
			t.Errorf("Authenticate(%q, %q): %v", tc.login, tc.pw, err)
		}
	}
	// AD itself refuses a disabled account's bind.
	if _, err := d.Authenticate(ctxT(t), "userPrincipalName", n("frank")+"@example.test", "Secr3t!Secr3t", nil); err != ErrInvalidCredentials && err != ErrAccountDisabled {
		t.Errorf("disabled account: %v", err)
	}
}

// Group scope by LDAP_MATCHING_RULE_IN_CHAIN, groups with ranged member
// reads.
func TestSambaGroupsNestedAndRanged(t *testing.T) {
	if testing.Short() {
		t.Skip("heavy end to end: skipped with -short, run once by make e2e")
	}
	t.Parallel()
	s, c, ou, src, n := sambaOU(t)
	var users []string
	for i := 0; i < 6; i++ {
		users = append(users, s.AddUser(t, c, ou, n(fmt.Sprintf("u%d", i)), "Secr3t!Secr3t", nil))
	}
	inner := s.AddGroup(t, c, ou, n("inner"), users[2], users[3])
	outer := s.AddGroup(t, c, ou, n("o365"), users[0], users[1], inner)
	// 150 contacts in one group, read in windows of 50.
	var contacts []string
	for i := 0; i < 150; i++ {
		dn := fmt.Sprintf("CN=contact%03d,%s", i, ou)
		req := ldap.NewAddRequest(dn, nil)
		req.Attribute("objectClass", []string{"top", "person", "organizationalPerson", "contact"})
		if err := c.Add(req); err != nil {
			t.Fatal(err)
		}
		contacts = append(contacts, dn)
	}
	big := s.AddGroup(t, c, ou, n("big"), contacts...)

	for _, nested := range []bool{false, true} {
		src := src
		src.Users.GroupDN, src.Users.NestedSearch = outer, nested
		d := sambaOpen(t, s, src)
		got, _ := readAll(t, d, KindUser, nil)
		want := 2
		if nested {
			want = 4
		}
		if len(got) != want {
			t.Errorf("nested=%v: users in scope %v", nested, keys(got))
		}
		if en := enumerate(t, d, KindUser); len(en) != want {
			t.Errorf("nested=%v: enumerate %v", nested, en)
		}
	}
	for _, step := range []int{0, 50} {
		d := sambaOpen(t, s, src, withRangeStep(step))
		got, _ := readAll(t, d, KindGroup, []string{"cn"})
		if len(got) != 3 {
			t.Fatalf("groups: %v", keys(got))
		}
		if m := got[big].Members; len(m) != 150 {
			t.Fatalf("range step %d: big has %d members", step, len(m))
		}
		if m := got[outer].Members; len(m) != 3 {
			t.Errorf("outer members %q", m)
		}
		// And the scope resolution's member reads.
		srcG := src
		srcG.Users.GroupDN = big
		d2 := sambaOpen(t, s, srcG, withRangeStep(step))
		members, found, err := d2.readMembers(ctxT(t), mustConn(t, d2), big)
		if err != nil || !found || len(members) != 150 {
			t.Fatalf("readMembers: %d %v %v", len(members), found, err)
		}
	}
}

func mustConn(t *testing.T, d *Directory) *ldap.Conn {
	c, err := d.pool.get(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.pool.put(c, true) })
	return c
}

func TestSambaUSNChanges(t *testing.T) {
	t.Parallel()
	s, c, ou, src, n := sambaOU(t)
	a := s.AddUser(t, c, ou, n("ann"), "Secr3t!Secr3t", nil)
	b := s.AddUser(t, c, ou, n("ben"), "Secr3t!Secr3t", nil)
	x := s.AddUser(t, c, ou, n("xavier"), "Secr3t!Secr3t", nil)
	g := s.AddGroup(t, c, ou, n("scope"), a, b)
	src.Users.GroupDN, src.Users.NestedSearch = g, true
	d := sambaOpen(t, s, src)
	if src.ChangeDetection.Algorithm != config.ADUSN {
		t.Fatalf("AD default algorithm %s", src.ChangeDetection.Algorithm)
	}
	wm := watermark(t, d)
	if cs, _ := changes(t, d, KindUser, wm); len(within(cs, ou)) != 0 {
		t.Fatalf("no change: %v", summary(cs))
	}
	mod := func(dn, attr, v string) {
		m := ldap.NewModifyRequest(dn, nil)
		m.Replace(attr, []string{v})
		if err := c.Modify(m); err != nil {
			t.Fatal(err)
		}
	}
	mod(a, "title", "Boss")
	mod(x, "title", "Outsider")
	cs, next := changes(t, d, KindUser, wm)
	if got := summary(within(cs, ou)); len(got) != 2 || !hasChange(cs, Updated, a) || !hasChange(cs, Left, x) {
		t.Fatalf("changes: %v", got)
	}
	// ben leaves the group: his entry's uSNChanged does not move (memberOf
	// is a back link); the group's does.
	m := ldap.NewModifyRequest(g, nil)
	m.Delete("member", []string{b})
	if err := c.Modify(m); err != nil {
		t.Fatal(err)
	}
	cs, next2 := changes(t, d, KindUser, next)
	if cs = within(cs, ou); len(cs) != 1 || cs[0].Kind != ScopeChanged {
		t.Fatalf("after a leave: %v", summary(cs))
	}
	if en := enumerate(t, d, KindUser); len(en) != 1 {
		t.Fatalf("enumerate after the leave: %v", en)
	}
	// A deletion is reported from the tombstone.
	var guid string
	for gu, dn := range enumerate(t, d, KindUser) {
		if strings.EqualFold(dn, a) {
			guid = gu
		}
	}
	if err := c.Del(ldap.NewDelRequest(a, nil)); err != nil {
		t.Fatal(err)
	}
	cs, _ = changes(t, d, KindUser, next2)
	found := false
	for _, ch := range cs {
		if ch.Kind == Deleted && ch.Entry.GUID == guid {
			found = true
		}
	}
	if !found {
		t.Errorf("deletion of %s (%s) not reported: %v", a, guid, summary(cs))
	}
	// A watermark from another DC (or one restored from backup) is stale.
	wrong := strings.Replace(string(next2), `"server":"`, `"server":"CN=NTDS Settings,CN=DC9|`, 1)
	if _, err := d.Changes(ctxT(t), KindUser, Watermark(wrong), nil, func(Change) error { return nil }); !isErr(err, ErrStaleWatermark) {
		t.Errorf("a watermark of another DC: %v", err)
	}
}

func TestSambaTimestampChanges(t *testing.T) {
	t.Parallel()
	s, c, ou, src, n := sambaOU(t)
	a := s.AddUser(t, c, ou, n("tim"), "Secr3t!Secr3t", nil)
	src.ChangeDetection = config.ChangeDetection{Algorithm: config.TimestampNoNegation, Attribute: "whenChanged", Push: config.PushAuto}
	d := sambaOpen(t, s, src, WithClockSkew(0))
	time.Sleep(1100 * time.Millisecond)
	wm := watermark(t, d)
	m := ldap.NewModifyRequest(a, nil)
	m.Replace("title", []string{"x"})
	if err := c.Modify(m); err != nil {
		t.Fatal(err)
	}
	cs, _ := changes(t, d, KindUser, wm)
	// Objects elsewhere in the domain that changed (the DC touches its
	// own accounts as it starts) come as Left: out of scope, unknown to
	// the caller.
	for _, c := range cs {
		if c.Kind != Left && !(c.Kind == Updated && strings.EqualFold(c.Entry.DN, a)) {
			t.Errorf("unexpected change %s %s", c.Kind, c.Entry.DN)
		}
		if c.Kind == Left && dnWithin(c.Entry.DN, ou) {
			t.Errorf("an entry of the OU reported as Left: %s", c.Entry.DN)
		}
	}
	if !hasChange(cs, Updated, a) {
		t.Fatalf("whenChanged changes: %v", summary(cs))
	}
}

func TestSambaPush(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"notification", "dirsync"} {
		t.Run(mode, func(t *testing.T) {
			s, c, ou, src, n := sambaOU(t)
			u := s.AddUser(t, c, ou, n("pat"), "Secr3t!Secr3t", nil)
			if mode == "notification" {
				// Deletions come on the notification search only from the
				// domain root (where CN=Deleted Objects is).
				src.BaseDN = s.BaseDN
				src.Users.Filter = "(&(objectCategory=person)(objectClass=user))"
			}
			_, w := startWatch(t, src, WithTLSConfig(s.TLSConfig()), WithADPush(mode))
			var lat []time.Duration
			for i := 0; i < 5; i++ {
				start := time.Now()
				m := ldap.NewModifyRequest(u, nil)
				m.Replace("title", []string{fmt.Sprint(i)})
				if err := c.Modify(m); err != nil {
					t.Fatal(err)
				}
				e, _ := w.next(t, func(e Event) bool { return strings.EqualFold(e.DN, u) }, 10*time.Second)
				lat = append(lat, time.Since(start))
				if e.Object != KindUser || !uuidRE.MatchString(e.GUID) || e.Source != mode {
					t.Fatalf("event %+v", e)
				}
			}
			t.Logf("%s change-to-callback latency over %d changes: p50 %v, max %v", mode, len(lat), percentile(lat, .5), percentile(lat, 1))
			if mode == "notification" && percentile(lat, .5) > 900*time.Millisecond {
				t.Errorf("median notification latency %v", percentile(lat, .5))
			}
			if err := c.Del(ldap.NewDelRequest(u, nil)); err != nil {
				t.Fatal(err)
			}
			e, _ := w.next(t, func(e Event) bool { return e.Gone }, 10*time.Second)
			t.Logf("delete event: %+v", e)
		})
	}
}

// Not parallel: it restarts the shared DC, before the parallel tests run.
func TestSambaReconnectAfterRestart(t *testing.T) {
	s, c, ou, src, n := sambaOU(t)
	s.AddUser(t, c, ou, n("rita"), "Secr3t!Secr3t", nil)
	d := sambaOpen(t, s, src)
	if got, _ := readAll(t, d, KindUser, nil); len(got) != 1 {
		t.Fatalf("before: %v", keys(got))
	}
	s.Restart(t)
	if got, _ := readAll(t, d, KindUser, nil); len(got) != 1 {
		t.Fatalf("after the restart: %v", keys(got))
	}
}

// within drops the Left changes of entries outside ou: other objects of
// the domain that changed meanwhile (the shared DC is busy).
func within(cs []Change, ou string) []Change {
	var out []Change
	for _, c := range cs {
		if c.Kind != Left || dnWithin(c.Entry.DN, ou) {
			out = append(out, c)
		}
	}
	return out
}

// The DC serves the certificate Samba made for itself at its first start, as
// a stock installation does. Its serial number is negative in about half
// the provisions, which Go refuses to parse without go.mod's
// x509negativeserial=1: whatever its sign, o365prov reaches the DC with
// insecureSkipVerify (what a stock DC needs: its certificate names the host
// in the Common Name only), and with Samba's CA as caFile the refusal names
// the certificate's name.
func TestSambaOwnCertificate(t *testing.T) {
	t.Parallel()
	s, c, ou, src, n := sambaOU(t)
	s.AddUser(t, c, ou, n("gina"), "Secr3t!Secr3t", nil)
	pemBytes, err := os.ReadFile(s.CertFile)
	if err != nil {
		t.Fatalf("Samba's own certificate: %v", err)
	}
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		t.Fatalf("%s holds no PEM block", s.CertFile)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatalf("parse Samba's certificate: %v", err)
	}
	t.Logf("Samba's certificate: subject %q, serial %v (sign %d)", cert.Subject, cert.SerialNumber, cert.SerialNumber.Sign())

	for _, tc := range []struct{ name, url string }{{"over ldaps", s.URL}, {"with StartTLS", s.StartTLSURL}} {
		t.Run("insecureSkipVerify reaches it "+tc.name, func(t *testing.T) {
			src := src
			src.URL, src.StartTLS, src.InsecureSkipVerify = tc.url, tc.url == s.StartTLSURL, true
			if got, _ := readAll(t, open(t, src), KindUser, nil); len(got) != 1 {
				t.Fatalf("read %v, want gina", keys(got))
			}
		})
	}
	t.Run("Samba's CA as caFile is refused for the certificate's name", func(t *testing.T) {
		src := src
		src.URL = "ldaps://" + s.ServerName + ":636"
		src.CAFile = s.CAFile
		_, err := Open(ctxT(t), src, WithLogger(testLogger(t)), WithDialer(func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, s.Addr+":636")
		}))
		if err == nil || !strings.Contains(err.Error(), "Common Name") {
			t.Fatalf("Open with Samba's CA: %v (want the name refused: Samba's certificate names its host in the Common Name only)", err)
		}
	})
}
