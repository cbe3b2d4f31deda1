// Package slapdtest starts a real OpenLDAP slapd for tests: a slapd.conf
// in t.TempDir(), the mdb backend with the syncprov overlay (so entryCSN,
// contextCSN and RFC 4533 syncrepl work), data loaded with slapadd before
// the server starts, a free port on 127.0.0.1, and the process stopped at
// cleanup. Start takes about a tenth of a second.
//
// When slapd is not installed the test is skipped, or fails when the
// environment variable CI is set (CI must run every test).
//
//	srv := slapdtest.Start(t, slapdtest.Options{LDIF: slapdtest.UserLDIF(srv.Suffix, 3)})
//	d, err := directory.Open(ctx, srv.Source())
package slapdtest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
	"github.com/o365prov/o365prov/internal/config"
	"github.com/o365prov/o365prov/internal/directory/internal/testcert"
)

// Binaries and schema the helper uses (Debian's slapd package).
var (
	SlapdPath   = "/usr/sbin/slapd"
	SlapaddPath = "/usr/sbin/slapadd"
	ModulePath  = "/usr/lib/ldap"
	SchemaDir   = "/etc/ldap/schema"
)

// Options shape the server.
type Options struct {
	// Suffix of the database (default dc=example,dc=com).
	Suffix string
	// LDIF is loaded with slapadd before the server starts, after the base
	// entries (the suffix, ou=people and ou=groups) unless Bare is set.
	LDIF string
	// LDIFFiles are loaded after LDIF (large data sets).
	LDIFFiles []string
	// Bare skips the base entries.
	Bare bool
	// TLS adds an ldaps:// listener and StartTLS with a certificate for
	// 127.0.0.1 and localhost signed by a CA written to Server.CAFile.
	TLS bool
	// MemberOf loads the memberof overlay (memberOf maintained on members).
	MemberOf bool
	// NoSyncProv leaves the syncprov overlay out (no contextCSN, no
	// syncrepl).
	NoSyncProv bool
	// Config is appended to the database section (limits, access rules,
	// indexes).
	Config string
	// GlobalConfig is added to the global section (e.g. "sizelimit 100").
	GlobalConfig string
	// Debug is slapd's -d level (default 0: errors only, in Server.Log).
	Debug int
}

// Server is a running slapd.
type Server struct {
	URL           string // ldap://127.0.0.1:port (StartTLS too with Options.TLS)
	LDAPSURL      string // ldaps://127.0.0.1:port with Options.TLS
	Suffix        string
	AdminDN       string // the rootdn: no limits, no access control
	AdminPassword string
	CAFile        string // PEM of the CA that signed the server certificate
	Dir           string
	Log           string // slapd's output

	t        testing.TB
	opts     Options
	certFile string
	keyFile  string
	conf     string
	mu       sync.Mutex
	cmd      *exec.Cmd
	done     chan struct{}
}

// Available reports whether slapd is installed.
func Available() bool {
	_, err1 := os.Stat(SlapdPath)
	_, err2 := os.Stat(filepath.Join(ModulePath, "back_mdb.so"))
	return err1 == nil && err2 == nil
}

// Require skips the test when slapd is missing (fails it under CI).
func Require(t testing.TB) {
	t.Helper()
	if Available() {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("slapd is not installed (%s); CI runs every test: install the Debian package slapd", SlapdPath)
	}
	t.Skipf("slapd is not installed (%s); install the Debian package slapd", SlapdPath)
}

// Start starts a server for the test and stops it at cleanup.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	Require(t)
	if o.Suffix == "" {
		o.Suffix = "dc=example,dc=com"
	}
	s := &Server{
		Suffix:        o.Suffix,
		AdminDN:       "cn=admin," + o.Suffix,
		AdminPassword: "secret",
		Dir:           t.TempDir(),
		t:             t,
		opts:          o,
	}
	s.Log = filepath.Join(s.Dir, "slapd.log")
	if err := os.MkdirAll(filepath.Join(s.Dir, "db"), 0o700); err != nil {
		t.Fatal(err)
	}
	if o.TLS {
		if err := s.writeCerts(); err != nil {
			t.Fatal(err)
		}
	}
	port, tlsPort := freePort(t), 0
	s.URL = fmt.Sprintf("ldap://127.0.0.1:%d", port)
	if o.TLS {
		tlsPort = freePort(t)
		s.LDAPSURL = fmt.Sprintf("ldaps://127.0.0.1:%d", tlsPort)
	}
	s.conf = filepath.Join(s.Dir, "slapd.conf")
	if err := os.WriteFile(s.conf, []byte(s.config()), 0o600); err != nil {
		t.Fatal(err)
	}
	var data bytes.Buffer
	if !o.Bare {
		data.WriteString(BaseLDIF(o.Suffix))
	}
	data.WriteString(o.LDIF)
	files := o.LDIFFiles
	if data.Len() > 0 {
		f := filepath.Join(s.Dir, "data.ldif")
		if err := os.WriteFile(f, data.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		files = append([]string{f}, files...)
	}
	for _, f := range files {
		out, err := exec.Command(SlapaddPath, "-q", "-f", s.conf, "-l", f).CombinedOutput()
		if err != nil {
			t.Fatalf("slapadd %s: %v\n%s", f, err, out)
		}
	}
	s.Resume()
	t.Cleanup(s.Stop)
	return s
}

// Resume starts the server (again, after Stop) on the same ports with the
// same data, and waits until it answers.
func (s *Server) Resume() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return
	}
	urls := s.URL + "/"
	if s.LDAPSURL != "" {
		urls += " " + s.LDAPSURL + "/"
	}
	logf, err := os.OpenFile(s.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		s.t.Fatal(err)
	}
	defer logf.Close()
	var lastErr error
	for try := 0; try < 10; try++ {
		cmd := exec.Command(SlapdPath, "-f", s.conf, "-h", urls, "-d", fmt.Sprint(s.opts.Debug))
		cmd.Stdout, cmd.Stderr = logf, logf
		// The server dies with the test binary, however it ends.
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			s.t.Fatalf("start slapd: %v", err)
		}
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		if lastErr = waitReady(s.URL, done); lastErr == nil {
			s.cmd, s.done = cmd, done
			return
		}
		cmd.Process.Kill()
		<-done
		// A port still held by the previous process: try again shortly.
		time.Sleep(100 * time.Millisecond)
	}
	log, _ := os.ReadFile(s.Log)
	s.t.Fatalf("slapd did not start: %v\n%s", lastErr, tail(log))
}

// Stop stops the server; its data stays for Resume.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
	s.cmd, s.done = nil, nil
}

// Kill stops the server at once (SIGKILL), as a crash would.
func (s *Server) Kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	<-s.done
	s.cmd, s.done = nil, nil
}

func waitReady(url string, done chan struct{}) error {
	deadline := time.Now().Add(10 * time.Second)
	var err error
	for time.Now().Before(deadline) {
		select {
		case <-done:
			return fmt.Errorf("slapd exited")
		default:
		}
		var c *ldap.Conn
		c, err = ldap.DialURL(url)
		if err == nil {
			_, err = c.Search(ldap.NewSearchRequest("", ldap.ScopeBaseObject, 0, 0, 0, false, "(objectClass=*)", []string{"1.1"}, nil))
			c.Close()
			if err == nil {
				return nil
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return err
}

func (s *Server) config() string {
	o := s.opts
	var b strings.Builder
	for _, sc := range []string{"core", "cosine", "inetorgperson", "nis"} {
		fmt.Fprintf(&b, "include %s/%s.schema\n", SchemaDir, sc)
	}
	fmt.Fprintf(&b, "modulepath %s\nmoduleload back_mdb\n", ModulePath)
	if !o.NoSyncProv {
		b.WriteString("moduleload syncprov\n")
	}
	if o.MemberOf {
		b.WriteString("moduleload memberof\n")
	}
	fmt.Fprintf(&b, "pidfile %s\nargsfile %s\n", filepath.Join(s.Dir, "slapd.pid"), filepath.Join(s.Dir, "slapd.args"))
	if o.TLS {
		fmt.Fprintf(&b, "TLSCACertificateFile %s\nTLSCertificateFile %s\nTLSCertificateKeyFile %s\n", s.CAFile, s.certFile, s.keyFile)
	}
	b.WriteString(o.GlobalConfig + "\n")
	fmt.Fprintf(&b, "database mdb\nmaxsize 4294967296\nsuffix %q\nrootdn %q\nrootpw %s\ndirectory %s\ndbnosync\n",
		s.Suffix, s.AdminDN, s.AdminPassword, filepath.Join(s.Dir, "db"))
	b.WriteString("index objectClass,entryCSN,entryUUID,uid,mail,member,uniqueMember eq\n")
	if !o.NoSyncProv {
		b.WriteString("overlay syncprov\nsyncprov-checkpoint 100 1\nsyncprov-sessionlog 10000\n")
	}
	if o.MemberOf {
		b.WriteString("overlay memberof\n")
	}
	b.WriteString(o.Config + "\n")
	b.WriteString("database monitor\n")
	return b.String()
}

// Source is an OpenLDAP channel source for this server, bound as the
// rootdn (config.DefaultChannel's openldap defaults).
func (s *Server) Source() config.Source {
	src := config.DefaultChannel(config.OpenLDAP).Source
	src.URL = s.URL
	src.BindDN = s.AdminDN
	src.Password = config.NewSecret(s.AdminPassword)
	src.BaseDN = s.Suffix
	src.Users.Filter = "(objectClass=inetOrgPerson)"
	src.Groups = &config.Location{Filter: "(objectClass=groupOfNames)"}
	return src
}

// Conn returns a connection bound as the rootdn, closed at cleanup.
func (s *Server) Conn(t testing.TB) *ldap.Conn {
	t.Helper()
	c, err := ldap.DialURL(s.URL)
	if err != nil {
		t.Fatalf("dial slapd: %v", err)
	}
	if err := c.Bind(s.AdminDN, s.AdminPassword); err != nil {
		c.Close()
		t.Fatalf("bind to slapd: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Add adds an entry.
func (s *Server) Add(t testing.TB, dn string, attrs map[string][]string) {
	t.Helper()
	req := ldap.NewAddRequest(dn, nil)
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		req.Attribute(k, attrs[k])
	}
	if err := s.Conn(t).Add(req); err != nil {
		t.Fatalf("add %s: %v", dn, err)
	}
}

// Modify replaces attribute values (an empty list deletes the attribute).
func (s *Server) Modify(t testing.TB, dn string, replace map[string][]string) {
	t.Helper()
	req := ldap.NewModifyRequest(dn, nil)
	for k, v := range replace {
		req.Replace(k, v)
	}
	if err := s.Conn(t).Modify(req); err != nil {
		t.Fatalf("modify %s: %v", dn, err)
	}
}

// AddValues adds values to an attribute (a member to a group).
func (s *Server) AddValues(t testing.TB, dn, attr string, values ...string) {
	t.Helper()
	req := ldap.NewModifyRequest(dn, nil)
	req.Add(attr, values)
	if err := s.Conn(t).Modify(req); err != nil {
		t.Fatalf("modify %s: %v", dn, err)
	}
}

// DeleteValues removes values of an attribute.
func (s *Server) DeleteValues(t testing.TB, dn, attr string, values ...string) {
	t.Helper()
	req := ldap.NewModifyRequest(dn, nil)
	req.Delete(attr, values)
	if err := s.Conn(t).Modify(req); err != nil {
		t.Fatalf("modify %s: %v", dn, err)
	}
}

// Delete deletes an entry.
func (s *Server) Delete(t testing.TB, dn string) {
	t.Helper()
	if err := s.Conn(t).Del(ldap.NewDelRequest(dn, nil)); err != nil {
		t.Fatalf("delete %s: %v", dn, err)
	}
}

// UserDN is the DN UserLDIF and AddUser give user uid.
func (s *Server) UserDN(uid string) string { return "uid=" + uid + ",ou=people," + s.Suffix }

// GroupDN is the DN AddGroup gives group cn.
func (s *Server) GroupDN(cn string) string { return "cn=" + cn + ",ou=groups," + s.Suffix }

// AddUser adds an inetOrgPerson under ou=people and returns its DN.
func (s *Server) AddUser(t testing.TB, uid string, extra map[string][]string) string {
	t.Helper()
	attrs := map[string][]string{
		"objectClass": {"inetOrgPerson"},
		"uid":         {uid},
		"cn":          {uid},
		"sn":          {uid},
		"mail":        {uid + "@example.com"},
	}
	for k, v := range extra {
		attrs[k] = v
	}
	dn := s.UserDN(uid)
	s.Add(t, dn, attrs)
	return dn
}

// AddGroup adds a groupOfNames under ou=groups and returns its DN.
// groupOfNames must have a member: a group added with none lists the
// empty DN, which readers ignore.
func (s *Server) AddGroup(t testing.TB, cn string, members ...string) string {
	t.Helper()
	if len(members) == 0 {
		members = []string{""}
	}
	dn := s.GroupDN(cn)
	s.Add(t, dn, map[string][]string{"objectClass": {"groupOfNames"}, "cn": {cn}, "member": members})
	return dn
}

// BaseLDIF is the suffix entry with ou=people and ou=groups.
func BaseLDIF(suffix string) string {
	dc, _, _ := strings.Cut(strings.TrimPrefix(suffix, "dc="), ",")
	return fmt.Sprintf(`dn: %s
objectClass: dcObject
objectClass: organization
o: %s
dc: %s

dn: ou=people,%s
objectClass: organizationalUnit
ou: people

dn: ou=groups,%s
objectClass: organizationalUnit
ou: groups

`, suffix, dc, dc, suffix, suffix)
}

// UserLDIF returns n inetOrgPerson entries user00000.. under ou=people.
func UserLDIF(suffix string, n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		WriteUser(&b, suffix, i)
	}
	return b.String()
}

// WriteUser writes user number i as LDIF (for generating large files).
func WriteUser(b interface{ WriteString(string) (int, error) }, suffix string, i int) {
	uid := fmt.Sprintf("user%05d", i)
	b.WriteString(fmt.Sprintf("dn: uid=%s,ou=people,%s\nobjectClass: inetOrgPerson\nuid: %s\ncn: User %d\nsn: %d\ngivenName: User\nmail: %s@example.com\ntitle: Engineer\ntelephoneNumber: +44 20 7946 %04d\n\n",
		uid, suffix, uid, i, i, uid, i%10000))
}

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func tail(b []byte) string {
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// writeCerts makes a CA and a server certificate for 127.0.0.1 and
// localhost.
func (s *Server) writeCerts() error {
	f, err := testcert.Write(s.Dir, []string{"localhost"}, []net.IP{net.ParseIP("127.0.0.1")})
	if err != nil {
		return err
	}
	s.CAFile, s.certFile, s.keyFile = f.CA, f.Cert, f.Key
	return nil
}
