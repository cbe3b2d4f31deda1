package ldapserver_test

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/o365prov/o365prov/internal/ldapserver"
)

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestPasswordsNeverReachTheLog(t *testing.T) {
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := start(t, smallLDIF, ldapserver.Options{Logger: logger})
	admin := e.admin(t)
	_ = e.dial(t).Bind(aliceDN, "wrong-horse-battery")
	_ = e.dial(t).Bind(aliceDN, alicePW)
	m := ldap.NewModifyRequest(bobDN, nil)
	m.Replace("userPassword", []string{"new-secret-value"})
	if err := admin.Modify(m); err != nil {
		t.Fatal(err)
	}
	mustSearch(t, admin, search(base, ldap.ScopeWholeSubtree, "(userPassword=new-secret-value)", "1.1"))
	a := ldap.NewAddRequest("uid=eve,ou=people,dc=example,dc=com", nil)
	a.Attribute("objectClass", []string{"person"})
	a.Attribute("uid", []string{"eve"})
	a.Attribute("userPassword", []string{"eve-secret", "eve-secret"})
	_ = admin.Add(a) // refused: a duplicate value
	out := logs.String()
	if !strings.Contains(out, "ldap bind") {
		t.Fatalf("the debug log shows no bind at all:\n%s", out)
	}
	for _, secret := range []string{adminPW, alicePW, "wrong-horse-battery", "new-secret-value", "eve-secret"} {
		if strings.Contains(out, secret) {
			t.Errorf("the log contains the password %q", secret)
		}
	}
}
