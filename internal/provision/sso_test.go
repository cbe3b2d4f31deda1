package provision

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
	"github.com/o365prov/o365prov/internal/config"
	"github.com/o365prov/o365prov/internal/directory"
	"github.com/o365prov/o365prov/internal/directory/sambatest"
	"github.com/o365prov/o365prov/internal/directory/slapdtest"
	"github.com/o365prov/o365prov/internal/sso"
	"github.com/o365prov/o365prov/internal/state"
	"github.com/o365prov/o365prov/internal/state/sqlite"
)

func ssoStore(t *testing.T) state.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// provisioned records a user as the engine does once it is created in
// Entra.
func provisioned(t *testing.T, st state.Store, channel, guid, dn, upn string) {
	t.Helper()
	if err := st.PutObject(context.Background(), state.Object{Channel: channel, Kind: state.KindUser, GUID: guid, DN: dn,
		GraphID: "11111111-2222-3333-4444-555555555555", Lifecycle: state.LifecycleActive, Status: state.StatusOK,
		Applied: map[string]string{"userPrincipalName": fmt.Sprintf("%q", upn)}, UpdatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
}

func TestSignInAgainstSlapd(t *testing.T) {
	srv := slapdtest.Start(t, slapdtest.Options{})
	srv.AddUser(t, "alice", map[string][]string{"userPassword": {"Alice-Pass-1"}, "displayName": {"Alice Liddell"}})
	srv.AddUser(t, "bob", map[string][]string{"userPassword": {"Bob-Pass-1"}})
	ch := config.DefaultChannel(config.OpenLDAP)
	ch.Name, ch.Source = "staff", srv.Source()
	st := ssoStore(t)
	ctx := context.Background()
	ld, err := newLoginDirectory(ctx, ch, "mail", st, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ld.d.Close() })
	var guid, iid string
	if _, err := ld.d.Users(ctx, nil, func(e directory.Entry) error {
		if e.First("uid") == "alice" {
			guid, iid = e.GUID, e.GUID
			if ch.Options.Base64ImmutableID {
				iid = base64.StdEncoding.EncodeToString(e.RawGUID)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	provisioned(t, st, "staff", guid, srv.UserDN("alice"), "alice@example.com")

	t.Run("Alice's password, bound as Alice, names the user the channel provisioned", func(t *testing.T) {
		id, err := ld.Authenticate(ctx, "alice@example.com", "Alice-Pass-1")
		if err != nil {
			t.Fatal(err)
		}
		if id.UPN != "alice@example.com" || id.ImmutableID != iid || id.DN != srv.UserDN("alice") || id.DisplayName != "Alice Liddell" {
			t.Fatalf("%+v (guid %s)", id, guid)
		}
	})
	for _, c := range []struct {
		name, login, password string
		want                  error
	}{
		{"a wrong password is invalid credentials", "alice@example.com", "nope", sso.ErrInvalidCredentials},
		{"an unknown user is invalid credentials", "nobody@example.com", "Alice-Pass-1", sso.ErrInvalidCredentials},
		{"a wildcard user name matches nobody", "*", "Alice-Pass-1", sso.ErrInvalidCredentials},
		{"an LDAP-injection user name matches nobody", "alice@example.com)(|(mail=*", "Alice-Pass-1", sso.ErrInvalidCredentials},
		{"an injection that would match every entry matches nobody", "*)(objectClass=*", "Bob-Pass-1", sso.ErrInvalidCredentials},
		{"a right password for a user never provisioned is not provisioned", "bob@example.com", "Bob-Pass-1", sso.ErrNotProvisioned},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := ld.Authenticate(ctx, c.login, c.password); !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
	t.Run("a user deleted from Microsoft 365 is not provisioned", func(t *testing.T) {
		o, _ := st.Object(ctx, "staff", state.KindUser, guid)
		o.Lifecycle = state.LifecycleDeleted
		if err := st.PutObject(ctx, o); err != nil {
			t.Fatal(err)
		}
		defer provisioned(t, st, "staff", guid, srv.UserDN("alice"), "alice@example.com")
		if _, err := ld.Authenticate(ctx, "alice@example.com", "Alice-Pass-1"); !errors.Is(err, sso.ErrNotProvisioned) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("generated signing keys are sealed in the state store and load again", func(t *testing.T) {
		cfg := &config.Config{SSO: &config.SSO{BaseURL: "https://sso.example.com", KeyEncryptionKey: config.NewSecret("0123456789abcdef-secret")}}
		first, err := SSOKeys(ctx, cfg, st)
		if err != nil {
			t.Fatal(err)
		}
		again, err := SSOKeys(ctx, cfg, st)
		if err != nil || !again.Current.Cert.Equal(first.Current.Cert) {
			t.Fatalf("keys changed between loads: %v", err)
		}
		raw, _ := st.Setting(ctx, "sso.signingKeys")
		if len(raw) == 0 || containsDER(raw, first.Current.Cert.Raw[:64]) {
			t.Fatal("the stored keys are not sealed")
		}
		cfg.SSO.KeyEncryptionKey = config.NewSecret("another-secret-of-16+")
		if _, err := SSOKeys(ctx, cfg, st); err == nil {
			t.Fatal("keys opened with the wrong secret")
		}
	})
}

func containsDER(hay, needle []byte) bool { return bytes.Contains(hay, needle) }

func TestSignInAgainstSambaAD(t *testing.T) {
	s := sambatest.Shared(t)
	c := s.Conn(t)
	var b [3]byte
	_, _ = rand.Read(b[:])
	ou := s.AddOU(t, c, fmt.Sprintf("sso-%x", b), "")
	name := fmt.Sprintf("ssoalice%x", b)
	s.AddUser(t, c, ou, name, "Secr3t!Secr3t", nil)
	disabled := s.AddUser(t, c, ou, name+"d", "Secr3t!Secr3t", nil)
	mod := ldap.NewModifyRequest(disabled, nil)
	mod.Replace("userAccountControl", []string{"514"})
	if err := c.Modify(mod); err != nil {
		t.Fatal(err)
	}
	ch := config.DefaultChannel(config.ActiveDirectory)
	ch.Name, ch.Source = "ad", s.Source()
	ch.Source.BaseDN = ou
	ch.Source.Groups = nil
	st := ssoStore(t)
	ctx := context.Background()
	ld, err := newLoginDirectory(ctx, ch, "", st, slog.New(slog.DiscardHandler), directory.WithTLSConfig(s.TLSConfig()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ld.d.Close() })
	var guid, dn string
	if _, err := ld.d.Users(ctx, nil, func(e directory.Entry) error {
		if e.First("sAMAccountName") == name {
			guid, dn = e.GUID, e.DN
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	upn := name + "@example.test"
	provisioned(t, st, "ad", guid, dn, upn)
	t.Run("a password bind over LDAPS signs the user in by userPrincipalName", func(t *testing.T) {
		id, err := ld.Authenticate(ctx, upn, "Secr3t!Secr3t")
		if err != nil {
			t.Fatal(err)
		}
		if id.UPN != upn || id.ImmutableID == "" {
			t.Fatalf("%+v", id)
		}
	})
	t.Run("a wrong password is invalid credentials", func(t *testing.T) {
		if _, err := ld.Authenticate(ctx, upn, "wrong"); !errors.Is(err, sso.ErrInvalidCredentials) {
			t.Fatalf("%v", err)
		}
	})
	t.Run("a password that must be changed is refused as expired", func(t *testing.T) {
		dn := s.AddUser(t, c, ou, name+"x", "Secr3t!Secr3t", nil)
		mod := ldap.NewModifyRequest(dn, nil)
		mod.Replace("pwdLastSet", []string{"0"})
		if err := c.Modify(mod); err != nil {
			t.Fatal(err)
		}
		if _, err := ld.Authenticate(ctx, name+"x@example.test", "Secr3t!Secr3t"); !errors.Is(err, sso.ErrPasswordExpired) {
			t.Fatalf("%v", err)
		}
	})
	t.Run("a disabled account is refused as disabled, never signed in", func(t *testing.T) {
		_, err := ld.Authenticate(ctx, name+"d@example.test", "Secr3t!Secr3t")
		if !errors.Is(err, sso.ErrAccountDisabled) && !errors.Is(err, sso.ErrInvalidCredentials) {
			t.Fatalf("%v", err)
		}
	})
}

func TestSSOStoreKeepsSessionsInTheStateStore(t *testing.T) {
	st := ssoStore(t)
	s := SSOStore(st)
	if _, ok := s.(itemStore); !ok {
		t.Fatalf("SQLite state gave a %T, want the state-backed store", s)
	}
	ctx, now := context.Background(), time.Now()
	if _, err := s.Item(ctx, "session:x", now); !errors.Is(err, sso.ErrNoItem) {
		t.Fatalf("absent item: %v, want sso.ErrNoItem", err)
	}
	if err := s.PutItem(ctx, "session:x", []byte("alice"), now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	// A second handle on the same database, as another node would have.
	if v, err := SSOStore(st).Item(ctx, "session:x", now); err != nil || string(v) != "alice" {
		t.Fatalf("%q %v", v, err)
	}
	if ok, _ := s.AddItem(ctx, "request:_1", nil, now.Add(time.Hour), now); !ok {
		t.Fatal("first request id refused")
	}
	if ok, _ := s.AddItem(ctx, "request:_1", nil, now.Add(time.Hour), now); ok {
		t.Fatal("replayed request id accepted")
	}
}
