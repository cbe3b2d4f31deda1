package console

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"
)

// route is one thing the console serves. The table is the single list of
// routes: the mux is built from it, and a test checks the OpenAPI
// description against it.
type route struct {
	method  string
	path    string // a net/http pattern path: /api/v1/channels/{name}
	public  bool   // no sign-in needed
	action  bool   // changes something: CSRF-checked
	api     bool   // JSON under /api/v1/
	summary string
	h       http.HandlerFunc
}

func (s *Server) table() []route {
	return []route{
		{method: "GET", path: "/healthz", public: true, summary: "alive", h: s.healthz},
		{method: "GET", path: "/readyz", public: true, summary: "ready: store, token and directories reachable", h: s.readyz},
		{method: "GET", path: "/metrics", summary: "Prometheus metrics", h: s.metrics},
		{method: "GET", path: "/static/{file}", public: true, summary: "stylesheet and script", h: s.static},

		{method: "GET", path: "/login", public: true, h: s.loginPage},
		{method: "POST", path: "/login", public: true, h: s.login},
		{method: "POST", path: "/logout", action: true, h: s.logout},
		{method: "GET", path: "/{$}", h: s.overviewPage},
		{method: "GET", path: "/channels/{name}", h: s.channelPage},
		{method: "GET", path: "/channels/{name}/preview", h: s.previewPage},
		{method: "GET", path: "/objects", h: s.objectPage},
		{method: "GET", path: "/sign-in", h: s.signInPage},

		{method: "GET", path: "/api/v1/openapi.json", api: true, summary: "this API's OpenAPI 3 description", h: s.openAPI},
		{method: "GET", path: "/api/v1/overview", api: true, summary: "every channel's status and the tenant's write budget", h: s.apiOverview},
		{method: "GET", path: "/api/v1/channels/{name}", api: true, summary: "one channel: cycles, held plans, failed objects", h: s.apiChannel},
		{method: "GET", path: "/api/v1/channels/{name}/preview", api: true, summary: "what a cycle would do now (reads the directory and tenant, writes nothing)", h: s.apiPreview},
		{method: "POST", path: "/api/v1/channels/{name}/sync", api: true, action: true, summary: "run a cycle now", h: s.apiSync},
		{method: "POST", path: "/api/v1/channels/{name}/reset-watermark", api: true, action: true, summary: "forget the watermark: the next cycle reads everything", h: s.apiResetWatermark},
		{method: "POST", path: "/api/v1/channels/{name}/plans/{id}/approve", api: true, action: true, summary: "approve a held plan", h: s.apiDecide(true)},
		{method: "POST", path: "/api/v1/channels/{name}/plans/{id}/reject", api: true, action: true, summary: "reject a held plan", h: s.apiDecide(false)},
		{method: "GET", path: "/api/v1/plans/{id}", api: true, summary: "a stored plan with its operations", h: s.apiPlan},
		{method: "GET", path: "/api/v1/objects", api: true, summary: "an object by UPN, DN, GUID or Graph id", h: s.apiObject},
		{method: "GET", path: "/api/v1/audit", api: true, summary: "the audit log, newest first", h: s.apiAudit},
		{method: "GET", path: "/api/v1/activity", api: true, summary: "operations and 429s per minute, writes per second", h: s.apiActivity},
		{method: "GET", path: "/api/v1/sign-ins", api: true, summary: "recent sign-ins, certificates, federated domains (when SSO is on)", h: s.apiSignIns},
	}
}

func (s *Server) register() {
	s.routes = s.table()
	for _, rt := range s.routes {
		h := rt.h
		if !rt.public {
			h = s.requireAuth(rt)
		}
		s.mux.HandleFunc(rt.method+" "+rt.path, h)
	}
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such page: "+r.URL.Path)
	})
}

// apiError is the body of every API error.
type apiError struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v) // the client went away: nothing left to tell
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, apiError{Error: msg})
}

// statusOf maps an error to an HTTP status.
func statusOf(err error) int {
	switch {
	case errors.Is(err, ErrUnknownChannel), errors.Is(err, errNoObject):
		return http.StatusNotFound
	case errors.Is(err, errBadRequest):
		return http.StatusBadRequest
	case errors.Is(err, errReadOnly):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

var (
	errBadRequest = errors.New("bad request")
	errReadOnly   = errors.New("this console is read-only (no controller)")
)

func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(err)
	if status >= 500 {
		s.o.Logger.Error("console request failed", "path", r.URL.Path, "err", err)
	}
	writeError(w, status, err.Error())
}

// ListenConfig says where and how the console listens.
type ListenConfig struct {
	Addr        string
	TokenSet    bool
	Certificate string // PEM files; empty: plain HTTP
	Key         string
}

// Listen opens the console's listener. Without an admin token the console
// must not be reachable from other machines: it then binds the loopback
// address on the configured port, whatever host was configured, and says
// so in the log.
func Listen(ctx context.Context, lc ListenConfig, log *slog.Logger) (net.Listener, error) {
	addr := lc.Addr
	if !lc.TokenSet {
		_, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, fmt.Errorf("console.listen %q: %w", addr, err)
		}
		addr = net.JoinHostPort("127.0.0.1", port)
	}
	l, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("console on %s: %w", addr, err)
	}
	if lc.Certificate != "" {
		cert, err := tls.LoadX509KeyPair(lc.Certificate, lc.Key)
		if err != nil {
			l.Close()
			return nil, fmt.Errorf("console TLS certificate %s: %w", lc.Certificate, err)
		}
		l = tls.NewListener(l, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	}
	scheme := "http"
	if lc.Certificate != "" {
		scheme = "https"
	}
	if lc.TokenSet {
		log.Info("console listening", "url", scheme+"://"+l.Addr().String()+"/")
	} else {
		log.Warn("console listening on loopback only, without sign-in: no console.adminToken is configured", "url", scheme+"://"+l.Addr().String()+"/")
	}
	return l, nil
}

// Serve serves the console on l until ctx ends.
func Serve(ctx context.Context, l net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, IdleTimeout: 2 * time.Minute}
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			_ = srv.Shutdown(sctx)
		case <-done:
		}
	}()
	err := srv.Serve(l)
	close(done)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return fmt.Errorf("console: %w", err)
}

// loginURL is the login page that comes back to next.
func loginURL(next string) string { return "/login?next=" + url.QueryEscape(safeNext(next)) }
