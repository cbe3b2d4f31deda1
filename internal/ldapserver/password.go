package ldapserver

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"hash"
	"strings"
)

// HashPassword returns password as an OpenLDAP "{SSHA}" userPassword value
// (salted SHA-1, the slappasswd default) with the given salt; the embedded
// server and a real slapd both accept it for simple binds.
func HashPassword(password string, salt []byte) string {
	h := sha1.New()
	h.Write([]byte(password))
	h.Write(salt)
	return "{SSHA}" + base64.StdEncoding.EncodeToString(append(h.Sum(nil), salt...))
}

// checkPassword reports whether password matches the stored userPassword
// value. Supported: {SSHA}, {SHA}, {SSHA256}, {SHA256}, {SSHA512}, {SHA512},
// {CLEARTEXT} and values with no scheme, which are compared as plain text.
// An unknown scheme never matches.
func checkPassword(stored, password string) bool {
	scheme, rest, ok := splitScheme(stored)
	if !ok {
		return subtle.ConstantTimeCompare([]byte(stored), []byte(password)) == 1
	}
	switch scheme {
	case "CLEARTEXT":
		return subtle.ConstantTimeCompare([]byte(rest), []byte(password)) == 1
	case "SHA", "SSHA":
		return checkDigest(sha1.New, rest, password)
	case "SHA256", "SSHA256":
		return checkDigest(sha256.New, rest, password)
	case "SHA512", "SSHA512":
		return checkDigest(sha512.New, rest, password)
	default:
		return false
	}
}

func splitScheme(stored string) (string, string, bool) {
	if !strings.HasPrefix(stored, "{") {
		return "", "", false
	}
	end := strings.IndexByte(stored, '}')
	if end < 0 {
		return "", "", false
	}
	return strings.ToUpper(stored[1:end]), stored[end+1:], true
}

// checkDigest checks a base64 digest followed by an optional salt.
func checkDigest(newHash func() hash.Hash, encoded, password string) bool {
	raw, err := base64.StdEncoding.DecodeString(encoded)
	h := newHash()
	if err != nil || len(raw) < h.Size() {
		return false
	}
	digest, salt := raw[:h.Size()], raw[h.Size():]
	h.Write([]byte(password))
	h.Write(salt)
	return subtle.ConstantTimeCompare(h.Sum(nil), digest) == 1
}
