// Package sambatest runs a real Active Directory for tests: Samba's AD
// domain controller, provisioned into a temporary directory once per test
// binary and shared by its tests.
//
// Samba's LDAP ports are fixed (389, 636), so each instance gets a
// loopback address of its own, 127.0.0.2 and up (one per test binary
// running at once, chosen under a lock file), added to lo when missing.
// That needs root. Samba runs with the single process model (-M single)
// so a change made over LDAP wakes its change-notification searches at
// once instead of on its 5-second poll.
//
// Provisioning a domain takes several seconds (a minute on a busy
// machine), so it is done once per machine and Samba version, into a
// template in the temporary directory (o365prov-sambatest-domain-*), which
// each instance copies (a fraction of a second). Call Begin from TestMain
// so that the start overlaps other tests, and Stop after m.Run:
//
//	func TestMain(m *testing.M) {
//		sambatest.Begin()
//		code := m.Run()
//		sambatest.Stop()
//		os.Exit(code)
//	}
//
// The DC serves the certificate Samba generates for itself at first start,
// as a stock installation does: its serial number is often negative (which
// go.mod's godebug x509negativeserial=1 lets Go parse) and it names its
// host in the Common Name only, which Go does not check names against.
// TLSConfig therefore checks the chain up to Samba's own CA, not the name.
//
// Without samba-tool, or without root to add the address, tests are
// skipped, or fail when CI is set. Debian needs the packages samba,
// samba-ad-provision, samba-dsdb-modules and samba-vfs-modules.
package sambatest

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/go-ldap/ldap/v3"
	"github.com/o365prov/o365prov/internal/config"
)

// Commands the helper runs.
var (
	SambaTool = "samba-tool"
	Samba     = "samba"
)

const (
	realm    = "EXAMPLE.TEST"
	domain   = "EXAMPLE"
	hostName = "DC1"
	// AdminPassword meets Samba's default complexity rules.
	AdminPassword = "Passw0rd!Passw0rd"
)

// Server is the running domain controller.
type Server struct {
	Addr          string // its loopback address, 127.0.0.N
	URL           string // ldaps://127.0.0.N:636 (Samba refuses simple binds without TLS)
	StartTLSURL   string // ldap://127.0.0.N:389, for StartTLS
	ServerName    string // the name on its certificate: dc1.example.test
	BaseDN        string // DC=example,DC=test
	AdminDN       string
	AdminPassword string
	CAFile        string // PEM of the CA Samba made to sign its own certificate
	CertFile      string // PEM of the certificate Samba made for itself
	Dir           string
	ProvisionTime time.Duration
	StartTime     time.Duration

	mu      sync.Mutex
	cmd     *exec.Cmd
	done    chan struct{}
	added   bool // the address was added by us
	lock    *os.File
	logFile string
}

var (
	once    sync.Once
	shared  *Server
	failure error
	skip    string
)

// Begin starts provisioning in the background (idempotent).
func Begin() {
	go once.Do(setup)
}

// Shared returns the binary's domain controller, starting it on first
// use; the test is skipped (or fails under CI) when it cannot run.
func Shared(t testing.TB) *Server {
	t.Helper()
	once.Do(setup)
	if skip != "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("Samba AD cannot run and CI runs every test: %s", skip)
		}
		t.Skip(skip)
	}
	if failure != nil {
		t.Fatalf("Samba AD: %v", failure)
	}
	if shared == nil {
		// Stop ran: a test (or its cleanup) called it, which pulls the
		// server from under every test after it.
		t.Fatal("Samba AD was stopped before this test: call sambatest.Stop from TestMain after m.Run, never from a test")
	}
	return shared
}

// Stop stops the shared server and removes its files and address. It
// belongs in TestMain after m.Run: a test that calls it leaves the tests
// after it without a server (they fail saying so).
func Stop() {
	once.Do(func() { skip = "stopped" })
	if shared != nil {
		shared.stop()
		shared.cleanup()
		shared = nil
	}
}

func setup() {
	if _, err := exec.LookPath(SambaTool); err != nil {
		skip = "samba-tool is not installed (Debian packages samba, samba-ad-provision, samba-dsdb-modules, samba-vfs-modules)"
		return
	}
	if _, err := os.Stat("/usr/share/samba/setup/ad-schema"); err != nil {
		skip = "the AD schema files are missing (Debian package samba-ad-provision)"
		return
	}
	if m, _ := filepath.Glob("/usr/lib/*/samba/vfs/acl_xattr.so"); len(m) == 0 {
		skip = "Samba's VFS modules are missing, which provisioning needs (Debian package samba-vfs-modules)"
		return
	}
	s, err := provision()
	if err != nil {
		var sk skipError
		if errors.As(err, &sk) {
			skip = sk.Error()
			return
		}
		failure = err
		return
	}
	shared = s
}

type skipError string

func (e skipError) Error() string { return string(e) }

func provision() (_ *Server, err error) {
	s := &Server{
		ServerName:    strings.ToLower(hostName + "." + realm),
		BaseDN:        "DC=example,DC=test",
		AdminDN:       "CN=Administrator,CN=Users,DC=example,DC=test",
		AdminPassword: AdminPassword,
	}
	if err := s.claimAddress(); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			s.cleanup()
		}
	}()
	s.URL = "ldaps://" + s.Addr + ":636"
	s.StartTLSURL = "ldap://" + s.Addr + ":389"
	if s.Dir, err = os.MkdirTemp("", "o365prov-samba-"); err != nil {
		return nil, err
	}
	start := time.Now()
	tmpl, err := template()
	if err != nil {
		return nil, err
	}
	if err := copyTree(tmpl, s.Dir); err != nil {
		return nil, fmt.Errorf("copy the provisioned domain: %w", err)
	}
	conf := filepath.Join(s.Dir, "etc", "smb.conf")
	b, err := os.ReadFile(conf)
	if err != nil {
		return nil, err
	}
	b = []byte(strings.ReplaceAll(string(b), tmpl, s.Dir))
	b = []byte(strings.ReplaceAll(string(b), "interfaces = "+placeholderAddr, "interfaces = "+s.Addr))
	if err := os.WriteFile(conf, b, 0o644); err != nil {
		return nil, err
	}
	// Samba writes its own key, certificate and CA here at first start
	// (Samba's defaults, so the DC is tested as it is installed).
	s.CAFile = filepath.Join(s.Dir, "private", "tls", "ca.pem")
	s.CertFile = filepath.Join(s.Dir, "private", "tls", "cert.pem")
	s.ProvisionTime = time.Since(start)
	s.logFile = filepath.Join(s.Dir, "samba.out")
	if err := s.start(); err != nil {
		return nil, err
	}
	return s, nil
}

// placeholderAddr stands for the instance's address in the template.
const placeholderAddr = "127.0.0.254"

// template returns a provisioned domain to copy, provisioning it once per
// machine and Samba version (several seconds, a minute on a busy machine)
// under a lock, in the temporary directory. Only etc/smb.conf names the
// directory and the address; the copy rewrites them.
func template() (string, error) {
	args := []string{"domain", "provision",
		"--server-role=dc", "--dns-backend=NONE", "--use-rfc2307",
		"--realm=" + realm, "--domain=" + domain,
		"--host-name=" + hostName, "--adminpass=" + AdminPassword,
		"--option=interfaces = " + placeholderAddr,
		"--option=bind interfaces only = yes",
		"--option=netbios name = " + hostName,
		// Only what LDAP needs: starts faster and listens on fewer ports.
		"--option=server services = ldap",
		"--option=dcerpc endpoint servers = ",
		"--option=ldap server require strong auth = yes",
		"--option=tls enabled = yes",
	}
	version, _ := exec.Command(Samba, "--version").Output()
	sum := sha256.Sum256([]byte(string(version) + strings.Join(args, "\x00") + "v2"))
	dir := filepath.Join(os.TempDir(), "o365prov-sambatest-domain-"+hex.EncodeToString(sum[:6]))
	lock, err := os.OpenFile(dir+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(dir, "etc", "smb.conf")); err == nil {
		return dir, nil
	}
	tmp := fmt.Sprintf("%s.tmp%d", dir, os.Getpid())
	os.RemoveAll(tmp)
	args = append(args,
		"--targetdir="+tmp,
		"--option=log file = "+filepath.Join(tmp, "log.%m"),
		// Everything in the instance's directory, so that instances of
		// several test binaries do not meet (pid file, sockets).
		"--option=pid directory = "+filepath.Join(tmp, "run"),
		"--option=ncalrpc dir = "+filepath.Join(tmp, "run", "ncalrpc"),
		"--option=winbindd socket directory = "+filepath.Join(tmp, "run", "winbindd"),
	)
	if out, err := exec.Command(SambaTool, args...).CombinedOutput(); err != nil {
		os.RemoveAll(tmp)
		return "", fmt.Errorf("samba-tool domain provision: %v\n%s", err, tail(out))
	}
	// The paths in smb.conf name tmp: make them name dir.
	conf := filepath.Join(tmp, "etc", "smb.conf")
	b, err := os.ReadFile(conf)
	if err == nil {
		err = os.WriteFile(conf, []byte(strings.ReplaceAll(string(b), tmp, dir)), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, dir)
	}
	if err != nil {
		os.RemoveAll(tmp)
		return "", err
	}
	return dir, nil
}

// copyTree copies the directory src into dst (which exists), keeping modes.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.MkdirAll(target, info.Mode().Perm())
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		case d.Type().IsRegular():
			in, err := os.Open(path)
			if err != nil {
				return err
			}
			defer in.Close()
			out, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, info.Mode().Perm())
			if err != nil {
				return err
			}
			if _, err := io.Copy(out, in); err != nil {
				out.Close()
				return err
			}
			return out.Close()
		}
		return nil // sockets and the like are not copied
	})
}

// claimAddress picks 127.0.0.N no other test binary is using (a lock
// file per address) and puts it on lo.
func (s *Server) claimAddress() error {
	for n := 2; n < 64; n++ {
		addr := fmt.Sprintf("127.0.0.%d", n)
		f, err := os.OpenFile(filepath.Join(os.TempDir(), "o365prov-sambatest-"+addr+".lock"), os.O_CREATE|os.O_RDWR, 0o600)
		if err != nil {
			return err
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			f.Close()
			continue
		}
		// Something else (a Samba left running) may hold the port.
		if l, err := net.Listen("tcp", addr+":636"); err == nil {
			l.Close()
		} else if hasAddr(addr) {
			f.Close()
			continue
		}
		s.Addr, s.lock = addr, f
		if hasAddr(addr) {
			return nil
		}
		if os.Geteuid() != 0 {
			return skipError(fmt.Sprintf("Samba needs the address %s on lo, and adding it needs root (as root: ip addr add %s/8 dev lo)", addr, addr))
		}
		if out, err := exec.Command("ip", "addr", "add", addr+"/8", "dev", "lo").CombinedOutput(); err != nil {
			return skipError(fmt.Sprintf("ip addr add %s/8 dev lo: %v %s", addr, err, out))
		}
		s.added = true
		return nil
	}
	return errors.New("no free loopback address for Samba")
}

func hasAddr(addr string) bool {
	ifs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range ifs {
		if ipn, ok := a.(*net.IPNet); ok && ipn.IP.String() == addr {
			return true
		}
	}
	return false
}

// start runs samba in the foreground and waits for LDAPS.
func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return nil
	}
	start := time.Now()
	logf, err := os.OpenFile(s.logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(Samba, "-i", "-M", "single", "--debug-stdout", "-d", "0", "-s", filepath.Join(s.Dir, "etc", "smb.conf"))
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start samba: %w", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-done:
			out, _ := os.ReadFile(s.logFile)
			return fmt.Errorf("samba exited at start:\n%s", tail(out))
		default:
		}
		if c, err := ldap.DialURL(s.URL, ldap.DialWithTLSConfig(&tls.Config{InsecureSkipVerify: true})); err == nil {
			err = c.Bind(s.AdminDN, s.AdminPassword)
			c.Close()
			if err == nil {
				break
			}
		}
		if time.Now().After(deadline) {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
			out, _ := os.ReadFile(s.logFile)
			return fmt.Errorf("samba did not answer on %s within a minute:\n%s", s.URL, tail(out))
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.cmd, s.done = cmd, done
	s.StartTime = time.Since(start)
	return nil
}

func (s *Server) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	// Its process group: samba may have helpers.
	syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.done
	}
	s.cmd, s.done = nil, nil
}

// Restart stops samba and starts it again (same data), for reconnection
// tests. Tests that restart the shared server must not run in parallel
// with others that use it.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.stop()
	if err := s.start(); err != nil {
		t.Fatal(err)
	}
}

// Down stops samba until Up.
func (s *Server) Down() { s.stop() }

// Up starts samba again after Down.
func (s *Server) Up(t testing.TB) {
	t.Helper()
	if err := s.start(); err != nil {
		t.Fatal(err)
	}
}

func (s *Server) cleanup() {
	if s.added {
		exec.Command("ip", "addr", "del", s.Addr+"/8", "dev", "lo").Run()
	}
	if s.lock != nil {
		s.lock.Close()
	}
	if s.Dir != "" {
		os.RemoveAll(s.Dir)
	}
}

// TLSConfig trusts Samba's own CA and checks that the server's chain leads
// to it. It does not check the name: Samba's certificate names its host in
// the Common Name only, which Go ignores (a production DC needs a
// certificate with the name in its subject alternative names, or
// insecureSkipVerify: docs/directories.md).
func (s *Server) TLSConfig() *tls.Config {
	pool := x509.NewCertPool()
	if pem, err := os.ReadFile(s.CAFile); err == nil {
		pool.AppendCertsFromPEM(pem)
	}
	return &tls.Config{
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: true, // replaced by VerifyConnection, which skips only the name
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("samba sent no certificate")
			}
			inter := x509.NewCertPool()
			for _, c := range cs.PeerCertificates[1:] {
				inter.AddCert(c)
			}
			_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter})
			return err
		},
	}
}

// Source is an activeDirectory channel source for this server, bound as
// Administrator (config.DefaultChannel's activeDirectory defaults). Open
// it with directory.WithTLSConfig(s.TLSConfig()).
func (s *Server) Source() config.Source {
	src := config.DefaultChannel(config.ActiveDirectory).Source
	src.URL = s.URL
	src.BindDN = s.AdminDN
	src.Password = config.NewSecret(s.AdminPassword)
	src.BaseDN = s.BaseDN
	src.Groups = &config.Location{Filter: "(objectClass=group)"}
	return src
}

// Conn returns a connection bound as Administrator, closed at cleanup.
func (s *Server) Conn(t testing.TB) *ldap.Conn {
	t.Helper()
	c, err := ldap.DialURL(s.URL, ldap.DialWithTLSConfig(s.TLSConfig()))
	if err != nil {
		t.Fatalf("dial samba: %v", err)
	}
	if err := c.Bind(s.AdminDN, s.AdminPassword); err != nil {
		c.Close()
		t.Fatalf("bind to samba: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// AddOU adds an organizational unit under the base DN (or under parent)
// and returns its DN.
func (s *Server) AddOU(t testing.TB, c *ldap.Conn, name, parent string) string {
	t.Helper()
	if parent == "" {
		parent = s.BaseDN
	}
	dn := "OU=" + name + "," + parent
	req := ldap.NewAddRequest(dn, nil)
	req.Attribute("objectClass", []string{"organizationalUnit"})
	if err := c.Add(req); err != nil {
		t.Fatalf("add %s: %v", dn, err)
	}
	return dn
}

// AddUser adds an enabled user with a password in ou (a DN) and returns
// its DN. extra attributes are added as given.
func (s *Server) AddUser(t testing.TB, c *ldap.Conn, ou, name, password string, extra map[string][]string) string {
	t.Helper()
	dn := "CN=" + name + "," + ou
	req := ldap.NewAddRequest(dn, nil)
	req.Attribute("objectClass", []string{"top", "person", "organizationalPerson", "user"})
	req.Attribute("sAMAccountName", []string{name})
	req.Attribute("userPrincipalName", []string{name + "@example.test"})
	req.Attribute("givenName", []string{name})
	req.Attribute("sn", []string{"Test"})
	req.Attribute("mail", []string{name + "@example.test"})
	if password != "" {
		req.Attribute("unicodePwd", []string{UnicodePwd(password)})
		req.Attribute("userAccountControl", []string{"512"}) // NORMAL_ACCOUNT
	}
	for k, v := range extra {
		req.Attribute(k, v)
	}
	if err := c.Add(req); err != nil {
		t.Fatalf("add %s: %v", dn, err)
	}
	return dn
}

// AddGroup adds a global security group in ou with members and returns
// its DN.
func (s *Server) AddGroup(t testing.TB, c *ldap.Conn, ou, name string, members ...string) string {
	t.Helper()
	dn := "CN=" + name + "," + ou
	req := ldap.NewAddRequest(dn, nil)
	req.Attribute("objectClass", []string{"top", "group"})
	req.Attribute("sAMAccountName", []string{name})
	if len(members) > 0 {
		req.Attribute("member", members)
	}
	if err := c.Add(req); err != nil {
		t.Fatalf("add %s: %v", dn, err)
	}
	return dn
}

// UnicodePwd encodes a password for unicodePwd: the quoted password in
// UTF-16LE.
func UnicodePwd(pw string) string {
	u := utf16.Encode([]rune(`"` + pw + `"`))
	b := make([]byte, 2*len(u))
	for i, r := range u {
		binary.LittleEndian.PutUint16(b[2*i:], r)
	}
	return string(b)
}

func tail(b []byte) string {
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}
