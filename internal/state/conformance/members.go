package conformance

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/o365prov/o365prov/internal/state"
)

func memberTests() []test {
	return []test{
		{"members stream in GUID order", func(t *testing.T, s state.Store) {
			must(t, s.AddMembers(t.Context(), "staff", "g1", []string{"u3", "U1", "u1", "g2"}))
			if got, want := members(t, s, "staff", "g1"), []string{"U1", "g2", "u1", "u3"}; !slices.Equal(got, want) {
				t.Errorf("Members = %q, want %q", got, want)
			}
		}},
		{"a group with no recorded members streams nothing", func(t *testing.T, s state.Store) {
			if got := members(t, s, "staff", "g1"); len(got) != 0 {
				t.Errorf("Members = %q, want none", got)
			}
		}},
		{"adding members again records each once", func(t *testing.T, s state.Store) {
			must(t, s.AddMembers(t.Context(), "staff", "g1", []string{"u1", "u2", "u1"}))
			must(t, s.AddMembers(t.Context(), "staff", "g1", []string{"u2", "u3"}))
			if got, want := members(t, s, "staff", "g1"), []string{"u1", "u2", "u3"}; !slices.Equal(got, want) {
				t.Errorf("Members = %q, want %q", got, want)
			}
		}},
		{"removing members ignores those not recorded", func(t *testing.T, s state.Store) {
			must(t, s.AddMembers(t.Context(), "staff", "g1", []string{"u1", "u2", "u3"}))
			must(t, s.RemoveMembers(t.Context(), "staff", "g1", []string{"u2", "u9", "u2"}))
			must(t, s.RemoveMembers(t.Context(), "staff", "g9", []string{"u1"}))
			if got, want := members(t, s, "staff", "g1"), []string{"u1", "u3"}; !slices.Equal(got, want) {
				t.Errorf("Members = %q, want %q", got, want)
			}
		}},
		{"memberships are scoped to the channel and the group", func(t *testing.T, s state.Store) {
			must(t, s.AddMembers(t.Context(), "staff", "g1", []string{"u1"}))
			must(t, s.AddMembers(t.Context(), "staff", "g2", []string{"u2"}))
			must(t, s.AddMembers(t.Context(), "students", "g1", []string{"u3"}))
			must(t, s.RemoveMembers(t.Context(), "students", "g1", []string{"u1"}))
			if got := members(t, s, "staff", "g1"); !slices.Equal(got, []string{"u1"}) {
				t.Errorf("Members(staff, g1) = %q, want [u1]", got)
			}
			if got := members(t, s, "students", "g1"); !slices.Equal(got, []string{"u3"}) {
				t.Errorf("Members(students, g1) = %q, want [u3]", got)
			}
		}},
		{"GroupsOf lists a member's groups in GUID order", func(t *testing.T, s state.Store) {
			for _, g := range []string{"g3", "g1", "g2"} {
				must(t, s.AddMembers(t.Context(), "staff", g, []string{"u1"}))
			}
			must(t, s.AddMembers(t.Context(), "students", "g4", []string{"u1"}))
			got, err := s.GroupsOf(t.Context(), "staff", "u1")
			must(t, err)
			if want := []string{"g1", "g2", "g3"}; !slices.Equal(got, want) {
				t.Errorf("GroupsOf = %q, want %q", got, want)
			}
			got, err = s.GroupsOf(t.Context(), "staff", "u9")
			must(t, err)
			if len(got) != 0 {
				t.Errorf("GroupsOf(a non-member) = %q, want none", got)
			}
		}},
		{"an error from the Members callback stops the walk and is returned", func(t *testing.T, s state.Store) {
			must(t, s.AddMembers(t.Context(), "staff", "g1", []string{"u1", "u2"}))
			stop := errors.New("stop")
			calls := 0
			err := s.Members(t.Context(), "staff", "g1", func(string) error { calls++; return stop })
			if !errors.Is(err, stop) || calls != 1 {
				t.Errorf("Members = %v after %d calls, want stop after 1", err, calls)
			}
		}},
		{"an empty GUID is rejected and nothing is written", func(t *testing.T, s state.Store) {
			ctx := t.Context()
			for name, err := range map[string]error{
				"AddMembers with an empty member":   s.AddMembers(ctx, "staff", "g1", []string{"u1", ""}),
				"AddMembers with an empty group":    s.AddMembers(ctx, "staff", "", []string{"u1"}),
				"AddMembers with an empty channel":  s.AddMembers(ctx, "", "g1", []string{"u1"}),
				"RemoveMembers with an empty group": s.RemoveMembers(ctx, "staff", "", []string{"u1"}),
				"GroupsOf an empty member":          second(s.GroupsOf(ctx, "staff", "")),
			} {
				if !errors.Is(err, state.ErrInvalid) {
					t.Errorf("%s = %v, want ErrInvalid", name, err)
				}
			}
			if got := members(t, s, "staff", "g1"); len(got) != 0 {
				t.Errorf("Members = %q, want none", got)
			}
		}},
		{"adding or removing no members does nothing", func(t *testing.T, s state.Store) {
			must(t, s.AddMembers(t.Context(), "staff", "g1", nil))
			must(t, s.RemoveMembers(t.Context(), "staff", "g1", []string{}))
			if got := members(t, s, "staff", "g1"); len(got) != 0 {
				t.Errorf("Members = %q, want none", got)
			}
		}},
		{"thousands of members change in one call", func(t *testing.T, s state.Store) {
			all := make([]string, 5000)
			for i := range all {
				all[i] = fmt.Sprintf("u%05d", i)
			}
			must(t, s.AddMembers(t.Context(), "staff", "g1", all))
			must(t, s.RemoveMembers(t.Context(), "staff", "g1", all[:2500]))
			if got := members(t, s, "staff", "g1"); !slices.Equal(got, all[2500:]) {
				t.Errorf("%d members left, want %d", len(got), 2500)
			}
		}},
	}
}
