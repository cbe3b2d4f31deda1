package graph

import (
	"errors"
	"net/http"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		in   string
		want time.Duration
		ok   bool
	}{
		{"whole seconds", "10", 10 * time.Second, true},
		{"fractional seconds as Graph sent in 2021", "2.128", 2128 * time.Millisecond, true},
		{"a sliver rounds up to a millisecond", "0.0001", time.Millisecond, true},
		{"an HTTP date counts from now", now.Add(5 * time.Second).Format(http.TimeFormat), 5 * time.Second, true},
		{"absent", "", 0, false},
		{"garbage", "soon", 0, false},
		{"negative", "-1", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parseRetryAfter(tt.in, now)
			if got != tt.want || ok != tt.ok {
				t.Errorf("got %v %v", got, ok)
			}
		})
	}
}

func TestJudge(t *testing.T) {
	post := CreateUserRequest(Properties{})
	patch := PatchUserRequest("u1", Properties{"x": 1})
	del := DeleteUserRequest("u1")
	addMember := (&Client{base: "https://g/v1.0"}).AddMemberRequest("g1", "u1")
	removeMember := RemoveMemberRequest("g1", "u1")
	getManager := GetManagerRequest("u1")
	e := func(status int, msg string) error { return &Error{Status: status, Message: msg} }
	tests := []struct {
		name    string
		req     *Request
		err     error
		lagging bool
		applied bool
		auth    bool
		want    verdict
	}{
		{"success is done", post, nil, false, false, false, done},
		{"a 429 is retried, even a POST", post, e(429, ""), false, false, false, retryThrottled},
		{"a 503 is retried, even a POST", post, e(503, ""), false, false, false, retryTransient},
		{"a 504 on a POST is an unknown outcome", post, e(504, ""), false, false, false, unknown},
		{"a lost answer to a POST is an unknown outcome", post, &TransportError{Err: errors.New("EOF")}, false, false, false, unknown},
		{"a 504 on a PATCH is retried", patch, e(504, ""), false, false, false, retryTransient},
		{"a lost answer to a PATCH is retried", patch, &TransportError{Err: errors.New("EOF")}, false, false, false, retryTransient},
		{"a 404 on an object just created is lag", patch, e(404, "Resource 'u1' does not exist"), true, false, false, retryLag},
		{"any other 404 is final", patch, e(404, "Resource 'u1' does not exist"), false, false, false, fail},
		{"a 404 on a DELETE that may have been applied is done", del, e(404, ""), false, true, false, done},
		{"a 404 on a first DELETE is final", del, e(404, ""), false, false, false, fail},
		{"a duplicate member add is done", addMember, e(400, "One or more added object references already exist for the following modified properties: 'members'."), false, false, false, done},
		{"a missing member remove is done", removeMember, e(404, "Resource 'u1' does not exist"), false, false, false, done},
		{"a missing member remove in the 400 form is done", removeMember, e(400, "One or more removed object references do not exist for the following modified properties: 'members'."), false, false, false, done},
		{"a remove on a group still replicating waits", removeMember, e(404, "Resource 'g1' does not exist"), true, false, false, retryLag},
		{"no manager is not lag", getManager, e(404, "Resource 'manager' does not exist or one of its queried reference-property objects are not present."), true, false, false, fail},
		{"a 401 refreshes once", patch, e(401, ""), false, false, false, retryAuth},
		{"a second 401 is final", patch, e(401, ""), false, false, true, fail},
		{"a 400 is final", post, e(400, "Property userPrincipalName is invalid."), false, false, false, fail},
		{"a failure before sending is final", post, finalError{errors.New("no token")}, false, false, false, fail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &call{req: tt.req, mayHaveApplied: tt.applied, authRetried: tt.auth}
			if got := judge(c, tt.err, tt.lagging); got != tt.want {
				t.Errorf("got %v want %v", got, tt.want)
			}
		})
	}
}

func TestExponentialIsCapped(t *testing.T) {
	var got []time.Duration
	for n := 1; n <= 6; n++ {
		got = append(got, exponential(time.Second, 16*time.Second, n))
	}
	want := []time.Duration{1, 2, 4, 8, 16, 16}
	for i := range want {
		if got[i] != want[i]*time.Second {
			t.Fatalf("got %v", got)
		}
	}
}
