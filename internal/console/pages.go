package console

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"sort"
	"strings"
	"time"
)

//go:embed web/templates/*.html web/static/*
var webFS embed.FS

// pageNames are the pages; each is parsed with the layout and partials.
var pageNames = []string{"login", "overview", "channel", "preview", "object", "signin"}

type pages struct {
	byName map[string]*template.Template
	static fs.FS
}

func loadPages() (*pages, error) {
	p := &pages{byName: map[string]*template.Template{}}
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(funcs).ParseFS(webFS, "web/templates/layout.html", "web/templates/partials.html", "web/templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("console template %s: %w", name, err)
		}
		p.byName[name] = t
	}
	st, err := fs.Sub(webFS, "web/static")
	if err != nil {
		return nil, fmt.Errorf("console assets: %w", err)
	}
	p.static = st
	return p, nil
}

// funcs are the templates' helpers.
var funcs = template.FuncMap{
	"when": func(t time.Time) string { return t.Local().Format("2006-01-02 15:04:05") },
	"ago": func(t time.Time) string {
		d := time.Since(t)
		switch {
		case d < time.Minute:
			return "just now"
		case d < time.Hour:
			return fmt.Sprintf("%d min ago", int(d.Minutes()))
		case d < 48*time.Hour:
			return fmt.Sprintf("%.0f h ago", d.Hours())
		}
		return t.Local().Format("2006-01-02 15:04")
	},
	"percent": func(f float64) string { return fmt.Sprintf("%.0f %%", 100*f) },
	"summary": summaryText,
	"ops":     statsText,
	"action": func(channel, p, mode, label, explain, csrf, back string) actionButton {
		id := p
		if mode != "" {
			id += "-" + mode
		}
		return actionButton{ID: id, Channel: channel, Path: p, Mode: mode, Label: label, Explain: explain, CSRF: csrf, Back: back}
	},
}

// actionButton is one confirmed action on the channel page.
type actionButton struct {
	ID, Channel, Path, Mode, Label, Explain, CSRF, Back string
}

// summaryText reads a plan's counts: "12 createUser, 3 disableUser".
func summaryText(counts map[string]int) string {
	var parts []string
	for _, k := range sortedKeys(counts) {
		if counts[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[k], k))
		}
	}
	if len(parts) == 0 {
		return "no operations"
	}
	return strings.Join(parts, ", ")
}

// statsText is a cycle's operations by kind, without the outcome counts.
func statsText(stats map[string]int) string {
	ops := map[string]int{}
	for k, v := range stats {
		switch k {
		case "succeeded", "failed", "blocked", "writes":
		default:
			ops[k] = v
		}
	}
	s := summaryText(ops)
	if w, ok := stats["writes"]; ok {
		s += fmt.Sprintf(" · %d writes", w)
	}
	return s
}

// page is what every page template gets.
type page struct {
	Title      string
	Nav        string
	Channels   []ChannelInfo
	Who        string
	CanSignOut bool
	CSRF       string
	Query      string
	Version    string
	Now        time.Time
	Body       any
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name, title, nav string, body any) {
	p := page{Title: title, Nav: nav, Channels: s.o.Channels, Version: s.o.Version, Now: s.o.Clock(), Body: body, Query: r.URL.Query().Get("q")}
	if pr, ok := r.Context().Value(principalKey{}).(principal); ok {
		p.Who = pr.who
		p.CanSignOut = s.o.Token != ""
		if pr.session != nil {
			p.CSRF = pr.session.csrf
		}
	}
	var buf bytes.Buffer
	if err := s.pages.byName[name].ExecuteTemplate(&buf, "layout", p); err != nil {
		s.o.Logger.Error("render console page", "page", name, "err", err)
		http.Error(w, "the page could not be drawn; see the log", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

func (s *Server) static(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	b, err := fs.ReadFile(s.pages.static, name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	switch path.Ext(name) {
	case ".css":
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
	case ".js":
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	}
	w.Header().Set("Cache-Control", "max-age=300")
	_, _ = w.Write(b)
}

// loginForm is the login page's body.
type loginForm struct {
	CSRF, Next, Name, Error string
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	if s.o.Token == "" {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	s.renderLogin(w, r, http.StatusOK, "", "")
}

func (s *Server) renderLogin(w http.ResponseWriter, r *http.Request, status int, name, msg string) {
	tok, err := s.sessions.token()
	if err != nil {
		http.Error(w, "no randomness for the login form", http.StatusInternalServerError)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: tok, Path: "/login", HttpOnly: true, Secure: s.o.Secure, SameSite: http.SameSiteStrictMode, MaxAge: 3600})
	next := safeNext(r.FormValue("next"))
	s.render(w, r, status, "login", "Sign in", "", loginForm{CSRF: tok, Next: next, Name: name, Error: msg})
}

// login checks the admin token and opens a session. The form's CSRF token
// is double-submitted (cookie and field), as no session exists yet.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	c, err := r.Cookie(loginCookie)
	if err != nil || r.PostFormValue(csrfField) == "" || !equal(c.Value, r.PostFormValue(csrfField)) {
		writeError(w, http.StatusForbidden, "missing or wrong CSRF token (reload the login page and try again)")
		return
	}
	name := cleanName(r.PostFormValue("name"))
	if s.o.Token == "" || !equal(r.PostFormValue("token"), s.o.Token) {
		s.o.Logger.Warn("console sign-in refused", "name", name, "from", remoteHost(r))
		s.renderLogin(w, r, http.StatusUnauthorized, name, "That is not the admin token.")
		return
	}
	if name == "" {
		s.renderLogin(w, r, http.StatusBadRequest, name, "Say who you are: your name goes into the audit log.")
		return
	}
	ss, err := s.sessions.start(r.Context(), name+" (console, "+remoteHost(r)+")")
	if err != nil {
		s.o.Logger.Error("console sign-in: open a session", "name", name, "err", err)
		http.Error(w, "could not open a session", http.StatusInternalServerError)
		return
	}
	s.setSessionCookie(w, ss)
	s.o.Logger.Info("console sign-in", "name", name, "from", remoteHost(r))
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if err := s.sessions.end(r.Context(), c.Value); err != nil {
			// The session lives on: saying "signed out" would be a lie.
			s.o.Logger.Error("console sign-out", "err", err)
			writeError(w, http.StatusServiceUnavailable, "the session could not be ended now; try again shortly")
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.o.Secure, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// overviewBody is the overview page's body.
type overviewBody struct {
	Overview                              Overview
	OpsChart, ThrottledChart, WritesChart template.HTML
	WindowLabel                           string
}

func (s *Server) overviewPage(w http.ResponseWriter, r *http.Request) {
	ov, err := BuildOverview(r.Context(), s.o.Store, s.o.Channels, s.o.Monitor, s.o.Clock())
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	a, err := s.activity(r)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	b := overviewBody{Overview: ov}
	b.OpsChart, b.ThrottledChart, b.WritesChart = activityCharts(a)
	b.WindowLabel = fmt.Sprintf("%s – %s", a.WindowFrom.Local().Format("15:04:05"), a.WindowTo.Local().Format("15:04:05"))
	s.render(w, r, http.StatusOK, "overview", "Overview", "overview", b)
}

// channelBody is the channel page's body.
type channelBody struct {
	Detail    ChannelDetail
	CycleRows []cycleRow
	Back      string
}

// cycleRow is a cycle, or a run of cycles that had nothing to do.
type cycleRow struct {
	Cycle    CycleView
	Quiet    int // > 1: this many consecutive cycles with nothing to do
	From, To time.Time
}

// cycleRows folds runs of cycles that did nothing into one line each: a
// channel checked every minute would otherwise bury its real work.
func cycleRows(cycles []CycleView) []cycleRow {
	var rows []cycleRow
	for _, c := range cycles {
		quiet := c.Result == "ok" && statsText(c.Stats) == "no operations · 0 writes"
		if n := len(rows); quiet && n > 0 && rows[n-1].Quiet > 0 {
			rows[n-1].Quiet++
			rows[n-1].From = c.Started
			continue
		}
		if quiet {
			rows = append(rows, cycleRow{Cycle: c, Quiet: 1, From: c.Started, To: c.Started})
			continue
		}
		rows = append(rows, cycleRow{Cycle: c})
	}
	for i := range rows { // a lone quiet cycle is shown as itself
		if rows[i].Quiet == 1 {
			rows[i].Quiet = 0
		}
	}
	return rows
}

func (s *Server) channelPage(w http.ResponseWriter, r *http.Request) {
	ch, err := s.channelOf(r)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d, err := BuildChannel(r.Context(), s.o.Store, ch, s.o.Monitor, s.o.Clock())
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d.Actions = s.o.Control != nil
	s.render(w, r, http.StatusOK, "channel", ch.Name, ch.Name, channelBody{Detail: d, CycleRows: cycleRows(d.Cycles), Back: "/channels/" + ch.Name})
}

// previewBody is the plan preview page's body.
type previewBody struct {
	Channel string
	Preview Preview
	Error   string
}

func (s *Server) previewPage(w http.ResponseWriter, r *http.Request) {
	p, err := s.preview(r)
	b := previewBody{Channel: r.PathValue("name"), Preview: p}
	if err != nil {
		b.Error = err.Error()
	}
	s.render(w, r, http.StatusOK, "preview", "Plan preview", b.Channel, b)
}

// objectBody is the object page's body.
type objectBody struct {
	Object ObjectView
	Fields []fieldRow
	Error  string
}

// fieldRow is one mapped field: what was last applied and what the
// mapping makes of the directory entry now.
type fieldRow struct {
	Name, Applied, Mapped string
	Differs               bool
}

func fieldRows(o ObjectView) []fieldRow {
	names := map[string]bool{}
	for k := range o.Applied {
		names[k] = true
	}
	var mapped map[string]any
	if o.Source != nil {
		mapped = o.Source.Mapped
		for k := range mapped {
			names[k] = true
		}
	}
	rows := make([]fieldRow, 0, len(names))
	for _, n := range sortedKeys(names) {
		applied, recorded := o.Applied[n]
		row := fieldRow{Name: n, Applied: show(applied), Mapped: "—"}
		if !recorded {
			// Licences and the manager are recorded apart (see Identity);
			// some fields are only read when an object is created.
			row.Applied = "—"
		}
		if o.Source != nil {
			row.Mapped = show(mapped[n])
			row.Differs = recorded && row.Mapped != row.Applied
		}
		rows = append(rows, row)
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Differs && !rows[j].Differs })
	return rows
}

// show writes a field value for people: strings bare, lists joined.
func show(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = show(e)
		}
		return strings.Join(parts, ", ")
	case []string:
		return strings.Join(x, ", ")
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func (s *Server) objectPage(w http.ResponseWriter, r *http.Request) {
	l, err := lookupOf(r)
	if err != nil {
		s.render(w, r, http.StatusBadRequest, "object", "Find an object", "", objectBody{Error: "Type a UPN, DN, GUID or Graph id to find an object."})
		return
	}
	o, err := FindObject(r.Context(), s.o.Store, s.o.Channels, s.o.Control, l)
	if err != nil {
		s.render(w, r, statusOf(err), "object", "Find an object", "", objectBody{Error: err.Error()})
		return
	}
	title := o.Name
	if title == "" {
		title = o.DN
	}
	s.render(w, r, http.StatusOK, "object", title, "", objectBody{Object: o, Fields: fieldRows(o)})
}

// signInBody is the Sign-in page's body: nil Summary while SSO is off.
type signInBody struct {
	Summary *SignInSummary
}

func (s *Server) signInPage(w http.ResponseWriter, r *http.Request) {
	var b signInBody
	if s.o.SignIns != nil {
		sum, err := s.o.SignIns.SignInSummary(r.Context())
		if err != nil {
			s.pageError(w, r, err)
			return
		}
		b.Summary = &sum
	}
	s.render(w, r, http.StatusOK, "signin", "Sign-in", "sign-in", b)
}

// pageError shows an error on the object page's frame, which has room
// for a message.
func (s *Server) pageError(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(err)
	if status >= 500 {
		s.o.Logger.Error("console page failed", "path", r.URL.Path, "err", err)
	}
	s.render(w, r, status, "object", "Error", "", objectBody{Error: err.Error()})
}
