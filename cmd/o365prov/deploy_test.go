package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHealthcheck(t *testing.T) {
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
		}
	}))
	defer ok.Close()
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "store unreachable", http.StatusServiceUnavailable)
	}))
	defer failing.Close()
	tlsOK := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer tlsOK.Close()
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()

	tests := []struct {
		name string
		args []string
		env  string
		code int
		out  string
	}{
		{"a console that answers 200 is healthy", []string{"--url", ok.URL + "/healthz"}, "", 0, "healthy"},
		{"the URL may come from the environment", nil, ok.URL + "/healthz", 0, "healthy"},
		{"a self-signed console on loopback is asked over https", []string{"--url", tlsOK.URL + "/healthz"}, "", 0, "healthy"},
		{"a 503 is unhealthy", []string{"--url", failing.URL + "/healthz"}, "", 1, "503"},
		{"a console that does not answer is unhealthy", []string{"--url", gone.URL + "/healthz"}, "", 1, "connect"},
		{"a URL that is not http is refused", []string{"--url", "ftp://127.0.0.1/healthz"}, "", 2, "want http(s)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(healthURLEnv, tc.env)
			code, out, errOut := runCLI(t, append([]string{"healthcheck"}, tc.args...)...)
			if code != tc.code || !strings.Contains(out+errOut, tc.out) {
				t.Errorf("exit %d, output %q %q; want exit %d mentioning %q", code, out, errOut, tc.code, tc.out)
			}
		})
	}
}

func TestVersionPrintsTheStamp(t *testing.T) {
	for _, v := range []*string{&version, &commit, &date} {
		old := *v
		t.Cleanup(func() { *v = old })
	}
	version, commit, date = "v1.2.3", "0123456789abcdef0123456789abcdef01234567", "2026-12-02T15:00:00Z"
	code, out, _ := runCLI(t, "version")
	for _, want := range []string{"o365prov v1.2.3\n", "commit: 0123456789abcdef0123456789abcdef01234567\n", "built: 2026-12-02T15:00:00Z\n"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("version printed %q (exit %d), want a line %q", out, code, want)
		}
	}
}
