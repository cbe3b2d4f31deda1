package conformance

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/o365prov/o365prov/internal/state"
)

func lookupTests() []test {
	return []test{
		{"an object is found by its DN whatever the case", func(t *testing.T, s state.Store) {
			want := user("u1")
			want.DN = "CN=Zoë Ünal,OU=Staff,DC=Example,DC=com"
			must(t, s.PutObject(t.Context(), want))
			for _, dn := range []string{want.DN, "cn=zoë ünal,ou=staff,dc=example,dc=com", "CN=ZOË ÜNAL,OU=STAFF,DC=EXAMPLE,DC=COM"} {
				got, err := s.ObjectByDN(t.Context(), "staff", state.KindUser, dn)
				if err != nil {
					t.Errorf("ObjectByDN(%q): %v", dn, err)
					continue
				}
				wantObject(t, got, want)
			}
		}},
		{"a DN lookup is scoped to the channel and kind", func(t *testing.T, s state.Store) {
			must(t, s.PutObject(t.Context(), user("u1")))
			dn := user("u1").DN
			if _, err := s.ObjectByDN(t.Context(), "staff", state.KindGroup, dn); !errors.Is(err, state.ErrNotFound) {
				t.Errorf("ObjectByDN of another kind = %v, want ErrNotFound", err)
			}
			if _, err := s.ObjectByDN(t.Context(), "students", state.KindUser, dn); !errors.Is(err, state.ErrNotFound) {
				t.Errorf("ObjectByDN in another channel = %v, want ErrNotFound", err)
			}
		}},
		{"a renamed object is found by its new DN only", func(t *testing.T, s state.Store) {
			o := user("u1")
			must(t, s.PutObject(t.Context(), o))
			old := o.DN
			o.DN = "CN=Renamed,OU=People,DC=example,DC=com"
			must(t, s.PutObject(t.Context(), o))
			if _, err := s.ObjectByDN(t.Context(), "staff", state.KindUser, old); !errors.Is(err, state.ErrNotFound) {
				t.Errorf("ObjectByDN(old DN) = %v, want ErrNotFound", err)
			}
			got, err := s.ObjectByDN(t.Context(), "staff", state.KindUser, "cn=renamed,ou=people,dc=example,dc=com")
			must(t, err)
			wantObject(t, got, o)
		}},
		{"of objects sharing a DN, the one updated last is found", func(t *testing.T, s state.Store) {
			a, b, c := user("a"), user("b"), user("c")
			a.DN, b.DN, c.DN = "CN=Same", "cn=same", "CN=SAME"
			a.UpdatedAt, b.UpdatedAt, c.UpdatedAt = at(time.Minute), at(0), time.Time{}
			must(t, s.PutObjects(t.Context(), []state.Object{a, b, c}))
			got, err := s.ObjectByDN(t.Context(), "staff", state.KindUser, "CN=SAME")
			must(t, err)
			if got.GUID != "a" {
				t.Errorf("ObjectByDN found %s, want a (updated last)", got.GUID)
			}
		}},
		{"of objects sharing a Graph id, the one updated last is found", func(t *testing.T, s state.Store) {
			a, b, c := user("a"), group("b"), user("c")
			a.GraphID, b.GraphID, c.GraphID = "same", "same", "same"
			a.UpdatedAt, b.UpdatedAt, c.UpdatedAt = at(0), at(time.Minute), time.Time{}
			must(t, s.PutObjects(t.Context(), []state.Object{a, b, c}))
			got, err := s.ObjectByGraphID(t.Context(), "staff", "same")
			must(t, err)
			if got.GUID != "b" {
				t.Errorf("ObjectByGraphID found %s, want b (updated last)", got.GUID)
			}
		}},
		{"an object of either kind is found by its Graph id in its channel", func(t *testing.T, s state.Store) {
			u, g := user("u1"), group("g1")
			must(t, s.PutObjects(t.Context(), []state.Object{u, g}))
			for _, want := range []state.Object{u, g} {
				got, err := s.ObjectByGraphID(t.Context(), "staff", want.GraphID)
				must(t, err)
				wantObject(t, got, want)
			}
			if _, err := s.ObjectByGraphID(t.Context(), "students", u.GraphID); !errors.Is(err, state.ErrNotFound) {
				t.Errorf("ObjectByGraphID in another channel = %v, want ErrNotFound", err)
			}
		}},
		{"an object without a Graph id is not found by an empty one", func(t *testing.T, s state.Store) {
			o := user("u1")
			o.GraphID = ""
			must(t, s.PutObject(t.Context(), o))
			if _, err := s.ObjectByGraphID(t.Context(), "staff", ""); err == nil {
				t.Error("ObjectByGraphID(\"\") found an object")
			}
			o.GraphID = "new-id" // linked later
			must(t, s.PutObject(t.Context(), o))
			got, err := s.ObjectByGraphID(t.Context(), "staff", "new-id")
			must(t, err)
			wantObject(t, got, o)
		}},
	}
}

func retryTests() []test {
	failed := func(guid string, kind state.Kind, status state.Status, next time.Time) state.Object {
		o := object("staff", kind, guid)
		o.Status, o.NextRetry, o.Attempts, o.LastError = status, next, 1, "503"
		return o
	}
	return []test{
		{"due retries are failed or pending objects whose time has come, earliest first", func(t *testing.T, s state.Store) {
			other := failed("o1", state.KindUser, state.StatusFailed, at(-time.Hour))
			other.Channel = "students"
			must(t, s.PutObjects(t.Context(), []state.Object{
				failed("ok", state.KindUser, state.StatusOK, at(-time.Hour)),
				failed("later", state.KindUser, state.StatusFailed, at(time.Microsecond)),
				failed("now", state.KindUser, state.StatusFailed, at(0)),
				failed("hourago", state.KindUser, state.StatusFailed, at(-time.Hour)),
				failed("pending", state.KindGroup, state.StatusPending, at(-time.Minute)),
				failed("zero", state.KindUser, state.StatusFailed, time.Time{}),
				failed("b", state.KindUser, state.StatusFailed, at(-time.Minute)),
				failed("a", state.KindUser, state.StatusPending, at(-time.Minute)),
				other,
			}))
			due, err := s.DueRetries(t.Context(), "staff", at(0), 0)
			must(t, err)
			// Same time: kind then GUID ("group" < "user").
			want := []string{"zero", "hourago", "pending", "a", "b", "now"}
			if got := guids(due); !slices.Equal(got, want) {
				t.Errorf("DueRetries = %q, want %q", got, want)
			}
			if len(due) > 0 {
				wantObject(t, due[0], failed("zero", state.KindUser, state.StatusFailed, time.Time{}))
			}
		}},
		{"a limit caps the due retries", func(t *testing.T, s state.Store) {
			var os []state.Object
			for _, g := range []string{"c", "a", "b", "d"} {
				os = append(os, failed(g, state.KindUser, state.StatusFailed, at(-time.Minute)))
			}
			must(t, s.PutObjects(t.Context(), os))
			due, err := s.DueRetries(t.Context(), "staff", at(0), 2)
			must(t, err)
			if got := guids(due); !slices.Equal(got, []string{"a", "b"}) {
				t.Errorf("DueRetries(limit 2) = %q, want [a b]", got)
			}
		}},
		{"an object that succeeds is no longer due", func(t *testing.T, s state.Store) {
			o := failed("u1", state.KindUser, state.StatusFailed, at(-time.Minute))
			must(t, s.PutObject(t.Context(), o))
			o.Status, o.Attempts, o.NextRetry, o.LastError = state.StatusOK, 0, time.Time{}, ""
			must(t, s.PutObject(t.Context(), o))
			due, err := s.DueRetries(t.Context(), "staff", at(0), 0)
			must(t, err)
			if len(due) != 0 {
				t.Errorf("DueRetries = %q, want none", guids(due))
			}
		}},
	}
}
