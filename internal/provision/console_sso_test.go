package provision

import (
	"testing"
	"time"

	"github.com/o365prov/o365prov/internal/console"
	"github.com/o365prov/o365prov/internal/state"

	"github.com/o365prov/o365prov/internal/sso"
)

func TestSignInDetailReadsBackWhatItWrote(t *testing.T) {
	for _, tt := range []struct {
		name string
		e    sso.Event
	}{
		{"a plain login", sso.Event{Login: "alice@contoso.com", From: "10.0.0.7", Protocol: "wsfed"}},
		{"a failure with its reason", sso.Event{Login: "alice@contoso.com", From: "10.0.0.7", Protocol: "saml2", Reason: "invalid user name or password"}},
		{"a login that tries to pass for another address", sso.Event{Login: "mallory from 10.9.9.9 by wsfed: x", From: "192.0.2.1", Protocol: "wsfed", Reason: "invalid user name or password"}},
		{"a login with a quote and a newline", sso.Event{Login: "a\"b\nc", From: "192.0.2.1", Protocol: "wsfed"}},
		{"a reason naming an address", sso.Event{Login: "bob", From: "::1", Protocol: "wsfed", Reason: "directory unavailable: dial 10.0.0.1 by tcp: refused"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			login, from, protocol, reason, ok := parseSignInDetail(signInDetail(tt.e))
			if !ok || login != tt.e.Login || from != tt.e.From || protocol != tt.e.Protocol || reason != tt.e.Reason {
				t.Errorf("%q read back as %q %q %q %q %v", signInDetail(tt.e), login, from, protocol, reason, ok)
			}
		})
	}
	t.Run("a detail it did not write is not read", func(t *testing.T) {
		if _, _, _, _, ok := parseSignInDetail("approved by admin"); ok {
			t.Error("read")
		}
	})
}

func TestSignInResultsAreABoundedSet(t *testing.T) {
	for _, tt := range []struct {
		reason, result, want string
	}{
		{"", "ok", "success"},
		{"existing session", "ok", "success"},
		{sso.ErrInvalidCredentials.Error(), "failed", "bad_password"},
		{"locked out by o365prov after repeated failures", "failed", "locked"},
		{sso.ErrAccountLocked.Error(), "failed", "locked"},
		{sso.ErrAccountDisabled.Error(), "failed", "disabled"},
		{sso.ErrPasswordExpired.Error(), "failed", "password_expired"},
		{sso.ErrNotProvisioned.Error(), "failed", "not_provisioned"},
		{"directory unavailable: connection refused", "failed", "error"},
	} {
		t.Run(tt.want+" from "+tt.reason, func(t *testing.T) {
			if got := signInResult(sso.Event{Result: tt.result, Reason: tt.reason}); got != tt.want {
				t.Errorf("got %s", got)
			}
		})
	}
}

// `run` wraps the state store for the console's metrics: the wrapped store
// must still keep sessions in the database, or each node would sign people
// in on its own.
func TestSessionsStayInTheStateStoreWhenTheConsoleObservesIt(t *testing.T) {
	st := console.Observe(ssoStore(t), console.NewMonitor(20, nil), nil)
	t.Run("the identity provider's sessions", func(t *testing.T) {
		if s := SSOStore(st); !isItemStore(s) {
			t.Fatalf("got a %T, want the state-backed store", s)
		}
	})
	t.Run("the console's sessions", func(t *testing.T) {
		if _, ok := ConsoleSessions(st).(*console.MemorySessions); ok {
			t.Fatal("the console keeps its sessions in memory over a SQLite store")
		}
		ctx, now := t.Context(), time.Now()
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		must(ConsoleSessions(st).PutItem(ctx, "console/session/x", []byte("v"), now.Add(time.Hour)))
		v, err := st.(state.ItemStore).Item(ctx, "console/session/x", now)
		must(err)
		if string(v) != "v" {
			t.Fatalf("%q", v)
		}
	})
}

func isItemStore(s sso.Store) bool { _, ok := s.(itemStore); return ok }
