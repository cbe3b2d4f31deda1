package sso

import (
	"context"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"time"

	"software.sslmate.com/src/go-pkcs12"
)

// KeyPair is a signing key and the certificate that publishes it.
type KeyPair struct {
	Signer crypto.Signer
	Cert   *x509.Certificate
}

// CertBase64 is the certificate as Graph and metadata take it: base64 DER,
// no header, footer or line breaks.
func (k KeyPair) CertBase64() string {
	if k.Cert == nil {
		return ""
	}
	return base64.StdEncoding.EncodeToString(k.Cert.Raw)
}

// Keys are the current signing key and, when a rollover is prepared, the
// next one (published in metadata and federation, not yet used to sign).
type Keys struct {
	Current KeyPair
	Next    *KeyPair
}

// keyValidity is how long a generated certificate is valid. Entra starts
// rolling a certificate over from metadata 30 days before it expires.
const keyValidity = 3 * 365 * 24 * time.Hour

// GenerateKeyPair makes an RSA 2048 key and a self-signed certificate for
// subject, valid from now.
func GenerateKeyPair(random io.Reader, now time.Time, subject string) (KeyPair, error) {
	key, err := rsa.GenerateKey(random, 2048)
	if err != nil {
		return KeyPair{}, fmt.Errorf("generate signing key: %w", err)
	}
	serial, err := rand.Int(random, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return KeyPair{}, fmt.Errorf("generate certificate serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: subject, Organization: []string{"o365prov token signing"}},
		NotBefore:             now.Add(-time.Hour).UTC().Truncate(time.Second),
		NotAfter:              now.Add(keyValidity).UTC().Truncate(time.Second),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(random, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return KeyPair{}, fmt.Errorf("self-sign certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return KeyPair{}, fmt.Errorf("parse generated certificate: %w", err)
	}
	return KeyPair{Signer: key, Cert: cert}, nil
}

// LoadPEMFiles reads a PEM private key (PKCS#1, PKCS#8) and certificate.
func LoadPEMFiles(keyFile, certFile string) (KeyPair, error) {
	kb, err := os.ReadFile(keyFile)
	if err != nil {
		return KeyPair{}, fmt.Errorf("read signing key: %w", err)
	}
	cb, err := os.ReadFile(certFile)
	if err != nil {
		return KeyPair{}, fmt.Errorf("read signing certificate: %w", err)
	}
	return ParsePEM(kb, cb)
}

// LoadPKCS12File reads a key and its certificate from a PKCS#12 (.p12,
// .pfx) file, as Windows and PingFederate export them.
func LoadPKCS12File(path, password string) (KeyPair, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return KeyPair{}, fmt.Errorf("read signing key: %w", err)
	}
	key, cert, _, err := pkcs12.DecodeChain(b, password)
	if err != nil {
		return KeyPair{}, fmt.Errorf("signing key %s: %w (is sso.signingKeyPassword right?)", path, err)
	}
	rk, ok := key.(*rsa.PrivateKey)
	if !ok {
		return KeyPair{}, fmt.Errorf("signing key %s: a %T key; Entra needs RSA", path, key)
	}
	kp := KeyPair{Signer: rk, Cert: cert}
	return kp, kp.check()
}

// ParsePEM parses a PEM key and certificate and checks they belong together.
func ParsePEM(keyPEM, certPEM []byte) (KeyPair, error) {
	kblock, _ := pem.Decode(keyPEM)
	if kblock == nil {
		return KeyPair{}, errors.New("signing key: no PEM block")
	}
	signer, err := parsePrivateKey(kblock.Bytes)
	if err != nil {
		return KeyPair{}, fmt.Errorf("signing key: %w", err)
	}
	cblock, _ := pem.Decode(certPEM)
	if cblock == nil || cblock.Type != "CERTIFICATE" {
		return KeyPair{}, errors.New("signing certificate: no CERTIFICATE PEM block")
	}
	cert, err := x509.ParseCertificate(cblock.Bytes)
	if err != nil {
		return KeyPair{}, fmt.Errorf("signing certificate: %w", err)
	}
	kp := KeyPair{Signer: signer, Cert: cert}
	return kp, kp.check()
}

func parsePrivateKey(der []byte) (crypto.Signer, error) {
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, errors.New("not a PKCS#1 or PKCS#8 private key")
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("a %T key; Entra needs RSA", k)
	}
	return rk, nil
}

// check refuses a certificate that does not publish the key's public half,
// which would make every token fail at Entra.
func (k KeyPair) check() error {
	pub, ok := k.Cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return errors.New("signing certificate: not an RSA certificate")
	}
	if !pub.Equal(k.Signer.Public()) {
		return errors.New("signing certificate does not match the signing key")
	}
	return nil
}

// SettingStore keeps small named values (the state store's settings).
type SettingStore interface {
	Setting(ctx context.Context, key string) ([]byte, error)
	PutSetting(ctx context.Context, key string, value []byte) error
}

// ErrNoSetting is what a SettingStore returns for a value never stored.
var ErrNoSetting = errors.New("no such setting")

// keySetting is where generated keys are kept.
const keySetting = "sso.signingKeys"

type storedPair struct {
	Key  []byte `json:"key"`  // PKCS#8
	Cert []byte `json:"cert"` // DER
}

type storedKeys struct {
	Current storedPair  `json:"current"`
	Next    *storedPair `json:"next,omitempty"`
}

// KeyVault keeps generated keys in a SettingStore, sealed with AES-256-GCM
// under a key derived from an operator's secret, so a copy of the state
// database alone cannot sign tokens.
type KeyVault struct {
	Store   SettingStore
	Secret  string // from the configuration's secret reference
	Random  io.Reader
	Now     func() time.Time
	Subject string // certificate subject, e.g. the issuer's host
}

// Load returns the stored keys, generating and storing them on first use.
func (v KeyVault) Load(ctx context.Context) (Keys, error) {
	ks, err := v.read(ctx)
	if errors.Is(err, ErrNoSetting) {
		cur, err := GenerateKeyPair(v.Random, v.Now(), v.Subject)
		if err != nil {
			return Keys{}, err
		}
		ks = Keys{Current: cur}
		if err := v.write(ctx, ks); err != nil {
			return Keys{}, err
		}
		return ks, nil
	}
	return ks, err
}

// Prepare makes a next key (if there is none) to publish before rollover.
func (v KeyVault) Prepare(ctx context.Context) (Keys, error) {
	ks, err := v.Load(ctx)
	if err != nil || ks.Next != nil {
		return ks, err
	}
	next, err := GenerateKeyPair(v.Random, v.Now(), v.Subject)
	if err != nil {
		return Keys{}, err
	}
	ks.Next = &next
	return ks, v.write(ctx, ks)
}

// Rollover promotes the next key to current. Without a prepared next key
// it refuses: Entra must have been told of a certificate before tokens are
// signed with it.
func (v KeyVault) Rollover(ctx context.Context) (Keys, error) {
	ks, err := v.Load(ctx)
	if err != nil {
		return Keys{}, err
	}
	if ks.Next == nil {
		return Keys{}, errors.New("no next signing certificate to promote: run `o365prov sso rollover --prepare` and federate the domains with it first")
	}
	ks = Keys{Current: *ks.Next}
	return ks, v.write(ctx, ks)
}

func (v KeyVault) aead() (cipher.AEAD, error) {
	if len(v.Secret) < 16 {
		return nil, errors.New("sso.keyEncryptionKey must be at least 16 characters")
	}
	sum := sha256.Sum256([]byte("o365prov sso signing keys\x00" + v.Secret))
	block, err := aes.NewCipher(sum[:])
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func (v KeyVault) read(ctx context.Context) (Keys, error) {
	sealed, err := v.Store.Setting(ctx, keySetting)
	if err != nil {
		return Keys{}, err
	}
	a, err := v.aead()
	if err != nil {
		return Keys{}, err
	}
	if len(sealed) < a.NonceSize() {
		return Keys{}, errors.New("stored signing keys are damaged")
	}
	plain, err := a.Open(nil, sealed[:a.NonceSize()], sealed[a.NonceSize():], []byte(keySetting))
	if err != nil {
		return Keys{}, errors.New("stored signing keys do not open with sso.keyEncryptionKey (was it changed?)")
	}
	var sk storedKeys
	if err := json.Unmarshal(plain, &sk); err != nil {
		return Keys{}, fmt.Errorf("stored signing keys: %w", err)
	}
	cur, err := sk.Current.pair()
	if err != nil {
		return Keys{}, err
	}
	ks := Keys{Current: cur}
	if sk.Next != nil {
		next, err := sk.Next.pair()
		if err != nil {
			return Keys{}, err
		}
		ks.Next = &next
	}
	return ks, nil
}

func (p storedPair) pair() (KeyPair, error) {
	signer, err := parsePrivateKey(p.Key)
	if err != nil {
		return KeyPair{}, fmt.Errorf("stored signing key: %w", err)
	}
	cert, err := x509.ParseCertificate(p.Cert)
	if err != nil {
		return KeyPair{}, fmt.Errorf("stored signing certificate: %w", err)
	}
	return KeyPair{Signer: signer, Cert: cert}, nil
}

func toStored(k KeyPair) (storedPair, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k.Signer)
	if err != nil {
		return storedPair{}, fmt.Errorf("encode signing key: %w", err)
	}
	return storedPair{Key: der, Cert: k.Cert.Raw}, nil
}

func (v KeyVault) write(ctx context.Context, ks Keys) error {
	var sk storedKeys
	var err error
	if sk.Current, err = toStored(ks.Current); err != nil {
		return err
	}
	if ks.Next != nil {
		n, err := toStored(*ks.Next)
		if err != nil {
			return err
		}
		sk.Next = &n
	}
	plain, err := json.Marshal(sk)
	if err != nil {
		return err
	}
	a, err := v.aead()
	if err != nil {
		return err
	}
	nonce := make([]byte, a.NonceSize())
	if _, err := io.ReadFull(v.Random, nonce); err != nil {
		return fmt.Errorf("seal signing keys: %w", err)
	}
	if err := v.Store.PutSetting(ctx, keySetting, a.Seal(nonce, nonce, plain, []byte(keySetting))); err != nil {
		return fmt.Errorf("store signing keys: %w", err)
	}
	return nil
}
