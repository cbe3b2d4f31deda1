package directory

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/o365prov/o365prov/internal/directory/slapdtest"
	"github.com/o365prov/o365prov/internal/ldapserver"
)

// A directory whose certificate has a negative serial number (as Samba's
// self-made one often has) is reachable over LDAPS, with insecureSkipVerify
// and with the certificate as caFile: go.mod's godebug x509negativeserial=1
// makes Go parse it. Without that setting this test fails with
// "x509: negative serial number".
func TestTLSNegativeSerialNumber(t *testing.T) {
	t.Parallel()
	der, key := negativeSerialCert(t)
	// Not tls.X509KeyPair, which would parse the certificate: only the
	// client's side is under test.
	pair := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	srv, _, src := embedded(t, slapdtest.BaseLDIF("dc=example,dc=com")+slapdtest.UserLDIF("dc=example,dc=com", 2), ldapserver.Options{})
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go srv.Serve(ctx, ln)
	t.Cleanup(func() { cancel(); ln.Close() })
	src.URL = "ldaps://" + ln.Addr().String()
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}

	t.Run("with insecureSkipVerify, as for a stock Samba DC", func(t *testing.T) {
		src := src
		src.InsecureSkipVerify = true
		if got, _ := readAll(t, open(t, src), KindUser, nil); len(got) != 2 {
			t.Fatalf("read %d users, want 2", len(got))
		}
	})
	t.Run("with the certificate trusted as caFile", func(t *testing.T) {
		src := src
		src.CAFile = caFile
		if got, _ := readAll(t, open(t, src), KindUser, nil); len(got) != 2 {
			t.Fatalf("read %d users, want 2", len(got))
		}
	})
	t.Run("a certificate that does not verify is still refused", func(t *testing.T) {
		_, err := Open(ctxT(t), src, WithLogger(testLogger(t)))
		if err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Fatalf("Open without trusting the certificate: %v", err)
		}
	})
}

// negativeSerialCert makes a self-signed certificate for 127.0.0.1 whose
// serial number is negative. x509.CreateCertificate refuses negative
// serials, so it signs one with a positive serial of the same length, flips
// the serial's top bit in the signed part and signs that again.
func negativeSerialCert(t *testing.T) ([]byte, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial := []byte{0x5a, 0x3c, 0x96, 0x0f, 0x69, 0xa5, 0x1e, 0x87}
	tmpl := &x509.Certificate{
		SerialNumber:          new(big.Int).SetBytes(serial),
		Subject:               pkix.Name{CommonName: "negative serial"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	var cert struct {
		TBS    asn1.RawValue
		Alg    asn1.RawValue
		Signed asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &cert); err != nil {
		t.Fatal(err)
	}
	encoded := append([]byte{0x02, byte(len(serial))}, serial...) // INTEGER, as DER writes it
	at := bytes.Index(cert.TBS.FullBytes, encoded)
	if at < 0 || bytes.LastIndex(cert.TBS.FullBytes, encoded) != at {
		t.Fatal("the serial number is not found once in the certificate")
	}
	tbs := bytes.Clone(cert.TBS.FullBytes)
	tbs[at+2] |= 0x80 // now a negative INTEGER of the same length
	sum := sha256.Sum256(tbs)
	sig, err := ecdsa.SignASN1(rand.Reader, key, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	cert.TBS = asn1.RawValue{FullBytes: tbs}
	cert.Signed = asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)}
	if der, err = asn1.Marshal(cert); err != nil {
		t.Fatal(err)
	}
	return der, key
}
