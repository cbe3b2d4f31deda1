package ldapserver_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/o365prov/o365prov/internal/ldapserver"
)

// selfSigned returns a server certificate for 127.0.0.1 and a pool that
// trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "ldapserver test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

func TestStartTLS(t *testing.T) {
	cert, pool := selfSigned(t)
	e := start(t, smallLDIF, ldapserver.Options{TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}})
	c := e.dial(t)
	if err := c.StartTLS(&tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}); err != nil {
		t.Fatalf("StartTLS: %v", err)
	}
	if err := c.Bind(aliceDN, alicePW); err != nil {
		t.Fatalf("bind over TLS: %v", err)
	}
	if got := mustSearch(t, c, search(peopleDN, ldap.ScopeSingleLevel, "(objectClass=*)", "1.1")); len(got) != 3 {
		t.Errorf("search over TLS found %d", len(got))
	}
	if err := c.StartTLS(&tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}); err == nil {
		t.Error("a second StartTLS succeeded")
	}
}

func TestStartTLSWithoutAConfigurationIsRefused(t *testing.T) {
	e := start(t, smallLDIF, ldapserver.Options{})
	err := e.dial(t).StartTLS(&tls.Config{InsecureSkipVerify: true})
	if code(err) != ldap.LDAPResultProtocolError {
		t.Errorf("StartTLS without TLSConfig: %v, want protocolError", err)
	}
}

func TestLDAPSThroughServe(t *testing.T) {
	cert, pool := selfSigned(t)
	srv, err := ldapserver.New(ldapserver.Options{LDIF: strings.NewReader(smallLDIF)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(context.Background(), ln) }()
	c, err := ldap.DialURL("ldaps://"+ln.Addr().String(), ldap.DialWithTLSConfig(&tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Bind(aliceDN, alicePW); err != nil {
		t.Fatalf("bind over LDAPS: %v", err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve returned %v after Close, want nil", err)
	}
}
