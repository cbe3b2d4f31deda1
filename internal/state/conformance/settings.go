package conformance

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/o365prov/o365prov/internal/state"
)

func settingTests() []test {
	return []test{
		{"an unknown setting is not found", func(t *testing.T, s state.Store) {
			if _, err := s.Setting(t.Context(), "sso.signingKey"); !errors.Is(err, state.ErrNotFound) {
				t.Errorf("Setting = %v, want ErrNotFound", err)
			}
		}},
		{"a setting reads back as put and a put replaces it", func(t *testing.T, s state.Store) {
			for _, v := range [][]byte{[]byte("first"), {0, 1, 2, 0xff}, {}} {
				must(t, s.PutSetting(t.Context(), "k", v))
				got, err := s.Setting(t.Context(), "k")
				must(t, err)
				if !bytes.Equal(got, v) || got == nil {
					t.Errorf("Setting = %q, want %q (non-nil)", got, v)
				}
			}
		}},
		{"a setting without a key is rejected", func(t *testing.T, s state.Store) {
			if err := s.PutSetting(t.Context(), "", []byte("v")); !errors.Is(err, state.ErrInvalid) {
				t.Errorf("PutSetting = %v, want ErrInvalid", err)
			}
		}},
		{"errors never carry a setting's value", func(t *testing.T, s state.Store) {
			secret := "-----BEGIN PRIVATE KEY-----MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"
			cancelled, cancel := context.WithCancel(t.Context())
			cancel()
			for name, err := range map[string]error{
				"a cancelled put":   s.PutSetting(cancelled, "sso.signingKey", []byte(secret)),
				"a cancelled read":  second(s.Setting(cancelled, "sso.signingKey")),
				"a put without key": s.PutSetting(t.Context(), "", []byte(secret)),
			} {
				if err == nil {
					t.Errorf("%s succeeded", name)
				} else if strings.Contains(err.Error(), "PRIVATE KEY") {
					t.Errorf("%s: the error shows the value: %v", name, err)
				}
			}
		}},
	}
}
