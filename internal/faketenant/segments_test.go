package faketenant

import (
	"net/http"
	"testing"
)

// docs/graph.md §11: a path Graph cannot route is 400 BadRequest naming the
// first segment it could not follow — never an object id before it.
func TestUnknownSegmentsAreNamed(t *testing.T) {
	f := newFixture(t)
	id := f.createUser("seg", nil)
	g := f.createGroup("seggroup", false)
	cases := []struct{ name, path, segment string }{
		{"an unknown navigation under a user", "/v1.0/users/" + id + "/nosuch", "nosuch"},
		{"an unknown navigation under a user named by UPN", "/v1.0/users/seg@contoso.com/nosuch", "nosuch"},
		{"an unknown segment after a known one", "/v1.0/groups/" + g + "/members/nosuch/deeper", "deeper"},
		{"an unknown top-level collection", "/v1.0/nosuch", "nosuch"},
		{"a segment past the end of a route", "/v1.0/users/" + id + "/manager/$ref/extra", "extra"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := f.call(http.MethodGet, tc.path, nil)
			want(t, r, http.StatusBadRequest, "BadRequest")
			if msg := "Resource not found for the segment '" + tc.segment + "'."; r.errMessage() != msg {
				t.Fatalf("message %q, want %q", r.errMessage(), msg)
			}
		})
	}
}
