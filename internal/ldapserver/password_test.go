package ldapserver

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"testing"
)

func TestPasswordSchemes(t *testing.T) {
	salt := []byte("saltsalt")
	h := sha256.Sum256(append([]byte("pw"), salt...))
	ssha256 := "{SSHA256}" + base64.StdEncoding.EncodeToString(append(h[:], salt...))
	tests := []struct {
		name   string
		stored string
		pw     string
		want   bool
	}{
		{"SSHA accepts the right password", HashPassword("pw", salt), "pw", true},
		{"SSHA refuses a wrong one", HashPassword("pw", salt), "pW", false},
		{"SHA without salt works", "{SHA}" + base64.StdEncoding.EncodeToString(sha1Sum("pw")), "pw", true},
		{"SSHA256 works", ssha256, "pw", true},
		{"the scheme name ignores case", "{ssha}" + HashPassword("pw", salt)[6:], "pw", true},
		{"CLEARTEXT compares the text", "{CLEARTEXT}pw", "pw", true},
		{"a value with no scheme is plain text", "pw", "pw", true},
		{"an unknown scheme never matches", "{CRYPT}pw", "pw", false},
		{"a truncated hash never matches", "{SSHA}AAAA", "pw", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := checkPassword(tt.stored, tt.pw); got != tt.want {
				t.Errorf("checkPassword = %v, want %v", got, tt.want)
			}
		})
	}
}

func sha1Sum(s string) []byte {
	h := sha1.Sum([]byte(s))
	return h[:]
}
