package conformance

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/o365prov/o365prov/internal/state"
)

func objectTests() []test {
	return []test{
		{"an unknown object is not found", func(t *testing.T, s state.Store) {
			if _, err := s.Object(t.Context(), "staff", state.KindUser, "u1"); !errors.Is(err, state.ErrNotFound) {
				t.Errorf("Object = %v, want ErrNotFound", err)
			}
		}},
		{"a put object reads back field for field", func(t *testing.T, s state.Store) {
			want := user("u1")
			want.Applied = map[string]string{"displayName": `"Zoë \"Z\" Ünal"`, "otherMails": `["a@x","b@x"]`, "skuId": `"c7df2760-2c81-4ef7-b578-5b5392b571df"`, "manager": `"m1"`}
			want.Lifecycle, want.Status, want.Attempts = state.LifecycleDisabled, state.StatusFailed, 3
			want.NextRetry, want.DeletedAt, want.LastError = at(time.Hour), at(-time.Hour), "Request_ResourceNotFound: replication lag"
			must(t, s.PutObject(t.Context(), want))
			got, err := s.Object(t.Context(), "staff", state.KindUser, "u1")
			must(t, err)
			wantObject(t, got, want)
		}},
		{"times come back in UTC truncated to the microsecond", func(t *testing.T, s state.Store) {
			o := user("u1")
			o.UpdatedAt = at(789).In(time.FixedZone("CET", 3600)) // 789ns past a microsecond
			must(t, s.PutObject(t.Context(), o))
			got, err := s.Object(t.Context(), "staff", state.KindUser, "u1")
			must(t, err)
			if !got.UpdatedAt.Equal(at(0)) || got.UpdatedAt.Location() != time.UTC {
				t.Errorf("UpdatedAt = %v, want %v", got.UpdatedAt, at(0))
			}
		}},
		{"zero times, an empty Graph id and no applied fields round-trip", func(t *testing.T, s state.Store) {
			want := state.Object{Channel: "staff", Kind: state.KindGroup, GUID: "g1", Lifecycle: state.LifecycleNone, Status: state.StatusOK}
			must(t, s.PutObject(t.Context(), want))
			got, err := s.Object(t.Context(), "staff", state.KindGroup, "g1")
			must(t, err)
			wantObject(t, got, want)
			if !got.UpdatedAt.IsZero() || !got.NextRetry.IsZero() || got.Applied == nil {
				t.Errorf("got %+v, want zero times and a non-nil empty Applied", got)
			}
		}},
		{"a put replaces Applied wholly", func(t *testing.T, s state.Store) {
			o := user("u1")
			o.Applied = map[string]string{"displayName": `"A"`, "jobTitle": `"B"`}
			must(t, s.PutObject(t.Context(), o))
			o.Applied = map[string]string{"department": `"C"`}
			must(t, s.PutObject(t.Context(), o))
			got, err := s.Object(t.Context(), "staff", state.KindUser, "u1")
			must(t, err)
			if !maps.Equal(got.Applied, o.Applied) {
				t.Errorf("Applied = %q, want only %q", got.Applied, o.Applied)
			}
			o.Applied = nil
			must(t, s.PutObject(t.Context(), o))
			got, err = s.Object(t.Context(), "staff", state.KindUser, "u1")
			must(t, err)
			if got.Applied == nil || len(got.Applied) != 0 {
				t.Errorf("Applied = %#v after putting none, want an empty map", got.Applied)
			}
		}},
		{"the same GUID is a different object in another channel or kind", func(t *testing.T, s state.Store) {
			a, b, c := user("x"), group("x"), user("x")
			c.Channel, c.DN = "students", "CN=student"
			must(t, s.PutObjects(t.Context(), []state.Object{a, b, c}))
			for _, want := range []state.Object{a, b, c} {
				got, err := s.Object(t.Context(), want.Channel, want.Kind, want.GUID)
				must(t, err)
				wantObject(t, got, want)
			}
		}},
		{"invalid objects are rejected and nothing is written", func(t *testing.T, s state.Store) {
			for _, tc := range []struct {
				name   string
				change func(*state.Object)
			}{
				{"no channel", func(o *state.Object) { o.Channel = "" }},
				{"an unknown kind", func(o *state.Object) { o.Kind = "contact" }},
				{"no GUID", func(o *state.Object) { o.GUID = "" }},
				{"an unknown lifecycle", func(o *state.Object) { o.Lifecycle = "gone" }},
				{"no status", func(o *state.Object) { o.Status = "" }},
				{"negative attempts", func(o *state.Object) { o.Attempts = -1 }},
			} {
				o := user("u1")
				tc.change(&o)
				if err := s.PutObject(t.Context(), o); !errors.Is(err, state.ErrInvalid) {
					t.Errorf("PutObject with %s = %v, want ErrInvalid", tc.name, err)
				}
			}
			if n, _ := s.CountObjects(t.Context(), "staff", state.KindUser); n != 0 {
				t.Errorf("%d objects written", n)
			}
		}},
		{"PutObjects writes all the objects or none", func(t *testing.T, s state.Store) {
			bad := user("u3")
			bad.Status = "unknown"
			if err := s.PutObjects(t.Context(), []state.Object{user("u1"), user("u2"), bad}); !errors.Is(err, state.ErrInvalid) {
				t.Errorf("PutObjects with an invalid object = %v, want ErrInvalid", err)
			}
			if n, _ := s.CountObjects(t.Context(), "staff", state.KindUser); n != 0 {
				t.Errorf("%d objects written by a failed PutObjects", n)
			}
			must(t, s.PutObjects(t.Context(), []state.Object{user("u1"), user("u2"), user("u1")}))
			if n, _ := s.CountObjects(t.Context(), "staff", state.KindUser); n != 2 {
				t.Errorf("%d objects, want 2", n)
			}
			must(t, s.PutObjects(t.Context(), nil))
		}},
		{"a cancelled call writes nothing", func(t *testing.T, s state.Store) {
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			if err := s.PutObjects(ctx, []state.Object{user("u1")}); !errors.Is(err, context.Canceled) {
				t.Errorf("PutObjects = %v, want context.Canceled", err)
			}
			if _, err := s.Object(t.Context(), "staff", state.KindUser, "u1"); !errors.Is(err, state.ErrNotFound) {
				t.Errorf("Object after a cancelled put = %v, want ErrNotFound", err)
			}
		}},
		{"DeleteObject forgets the object and its memberships both ways", func(t *testing.T, s state.Store) {
			ctx := t.Context()
			must(t, s.PutObjects(ctx, []state.Object{group("g1"), group("g2"), user("u1"), user("u2")}))
			must(t, s.AddMembers(ctx, "staff", "g1", []string{"u1", "u2", "g2"}))
			must(t, s.AddMembers(ctx, "staff", "g2", []string{"u1"}))
			must(t, s.AddMembers(ctx, "students", "g1", []string{"u1"}))

			must(t, s.DeleteObject(ctx, "staff", state.KindUser, "u1"))
			if _, err := s.Object(ctx, "staff", state.KindUser, "u1"); !errors.Is(err, state.ErrNotFound) {
				t.Errorf("Object after delete = %v, want ErrNotFound", err)
			}
			if got := members(t, s, "staff", "g1"); !sameStrings(got, []string{"g2", "u2"}) {
				t.Errorf("members of g1 = %q, want [g2 u2]", got)
			}
			if got := members(t, s, "staff", "g2"); len(got) != 0 {
				t.Errorf("members of g2 = %q, want none", got)
			}
			must(t, s.DeleteObject(ctx, "staff", state.KindGroup, "g2"))
			if got, _ := s.GroupsOf(ctx, "staff", "g2"); len(got) != 0 {
				t.Errorf("groups of the deleted group = %q, want none", got)
			}
			if got := members(t, s, "students", "g1"); !sameStrings(got, []string{"u1"}) {
				t.Errorf("members in another channel = %q, want [u1]", got)
			}
		}},
		{"deleting an unknown object is not an error", func(t *testing.T, s state.Store) {
			must(t, s.DeleteObject(t.Context(), "staff", state.KindUser, "nobody"))
		}},
		{"Objects streams the channel's objects of the kind in GUID order", func(t *testing.T, s state.Store) {
			ctx := t.Context()
			want := []string{"0a", "0b", "A", "a", "b10", "b9"}
			for _, g := range []string{"b9", "a", "0b", "A", "b10", "0a"} {
				must(t, s.PutObject(ctx, user(g)))
			}
			other := user("0c")
			other.Channel = "students"
			must(t, s.PutObjects(ctx, []state.Object{group("0d"), other}))
			if got := guids(objects(t, s, "staff", state.KindUser)); !slices.Equal(got, want) {
				t.Errorf("Objects = %q, want %q", got, want)
			}
			if got := guids(objects(t, s, "staff", state.KindGroup)); !slices.Equal(got, []string{"0d"}) {
				t.Errorf("Objects of groups = %q, want [0d]", got)
			}
			if got := objects(t, s, "nobody", state.KindUser); len(got) != 0 {
				t.Errorf("Objects of an unknown channel = %d objects", len(got))
			}
		}},
		{"a walk of thousands of objects returns each once, in order", func(t *testing.T, s state.Store) {
			var all []state.Object
			want := make([]string, 2500)
			for i := range want {
				want[i] = fmt.Sprintf("u%05d", i)
			}
			for _, g := range slices.Backward(want) {
				all = append(all, user(g))
			}
			must(t, s.PutObjects(t.Context(), all))
			if got := guids(objects(t, s, "staff", state.KindUser)); !slices.Equal(got, want) {
				t.Errorf("the walk returned %d objects, not the %d in order", len(got), len(want))
			}
		}},
		{"an error from the Objects callback stops the walk and is returned", func(t *testing.T, s state.Store) {
			must(t, s.PutObjects(t.Context(), []state.Object{user("u1"), user("u2"), user("u3")}))
			stop := errors.New("stop")
			calls := 0
			err := s.Objects(t.Context(), "staff", state.KindUser, func(state.Object) error {
				calls++
				return stop
			})
			if !errors.Is(err, stop) || calls != 1 {
				t.Errorf("Objects = %v after %d calls, want stop after 1", err, calls)
			}
		}},
		{"the Objects callback may read and write the store", func(t *testing.T, s state.Store) {
			ctx := t.Context()
			for i := range 20 {
				must(t, s.PutObject(ctx, user(string(rune('a'+i)))))
			}
			must(t, s.AddMembers(ctx, "staff", "g1", []string{"a"}))
			err := s.Objects(ctx, "staff", state.KindUser, func(o state.Object) error {
				if _, err := s.GroupsOf(ctx, "staff", o.GUID); err != nil {
					return err
				}
				o.Status, o.UpdatedAt = state.StatusPending, at(time.Minute)
				if err := s.PutObject(ctx, o); err != nil {
					return err
				}
				return s.Audit(ctx, state.AuditEntry{Time: at(time.Minute), Channel: "staff", GUID: o.GUID, Operation: "update", Result: "ok"})
			})
			must(t, err)
			for _, o := range objects(t, s, "staff", state.KindUser) {
				if o.Status != state.StatusPending {
					t.Errorf("object %s is %s, want pending", o.GUID, o.Status)
				}
			}
		}},
		{"CountObjects counts by channel and kind", func(t *testing.T, s state.Store) {
			other := user("u9")
			other.Channel = "students"
			must(t, s.PutObjects(t.Context(), []state.Object{user("u1"), user("u2"), group("g1"), other}))
			for _, tc := range []struct {
				channel string
				kind    state.Kind
				want    int
			}{{"staff", state.KindUser, 2}, {"staff", state.KindGroup, 1}, {"students", state.KindUser, 1}, {"nobody", state.KindUser, 0}} {
				n, err := s.CountObjects(t.Context(), tc.channel, tc.kind)
				must(t, err)
				if n != tc.want {
					t.Errorf("CountObjects(%s, %s) = %d, want %d", tc.channel, tc.kind, n, tc.want)
				}
			}
		}},
		{"calls with an invalid kind or an empty key are rejected", func(t *testing.T, s state.Store) {
			ctx := t.Context()
			errs := map[string]error{
				"Object":          second(s.Object(ctx, "staff", "contact", "u1")),
				"ObjectByDN":      second(s.ObjectByDN(ctx, "", state.KindUser, "CN=x")),
				"Objects":         s.Objects(ctx, "staff", "", func(state.Object) error { return nil }),
				"CountObjects":    second(s.CountObjects(ctx, "staff", "contact")),
				"DeleteObject":    s.DeleteObject(ctx, "", state.KindUser, "u1"),
				"ObjectByGraphID": second(s.ObjectByGraphID(ctx, "staff", "")),
				"DueRetries":      second(s.DueRetries(ctx, "", at(0), 0)),
				"ResetChannel":    s.ResetChannel(ctx, "", true),
			}
			for name, err := range errs {
				if !errors.Is(err, state.ErrInvalid) {
					t.Errorf("%s = %v, want ErrInvalid", name, err)
				}
			}
		}},
	}
}

func second[T any](_ T, err error) error { return err }
