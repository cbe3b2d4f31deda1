package sso

import (
	"bytes"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"
)

//go:embed templates/*.html
var templateFiles embed.FS

func parsePages() (*template.Template, error) {
	t, err := template.ParseFS(templateFiles, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("sso pages: %w", err)
	}
	return t, nil
}

// page is what every template reads.
type page struct {
	Title, Heading, Organisation, Initial, Nonce, Ref string
	// login
	Flow, CSRF, Username, LoginHint string
	// message and login errors
	Error, ErrorHint, Note, Hint string
	// autopost
	Action string
	Fields []field
}

type field struct{ Name, Value string }

// render writes a page with headers that keep it out of frames and caches
// and allow only its own inline style and script (by nonce) and form posts
// to this server and the reply URLs.
func (s *Server) render(w http.ResponseWriter, status int, name string, p page) {
	nonce := make([]byte, 16)
	if _, err := io.ReadFull(s.d.Random, nonce); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	p.Nonce = base64.RawStdEncoding.EncodeToString(nonce)
	p.Organisation = s.o.Organisation
	r, _ := utf8.DecodeRuneInString(strings.ToUpper(s.o.Organisation))
	p.Initial = string(r)
	if p.Title == "" {
		p.Title = "Sign in"
	}
	var buf bytes.Buffer
	if err := s.pages.ExecuteTemplate(&buf, name, p); err != nil {
		s.d.Log.Error("render sso page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", fmt.Sprintf("default-src 'none'; style-src 'nonce-%s'; script-src 'nonce-%s'; form-action 'self' %s; frame-ancestors 'none'; base-uri 'none'",
		p.Nonce, p.Nonce, strings.Join(s.replyOrigins(), " ")))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (s *Server) replyOrigins() []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range s.o.ReplyURLs {
		u, err := url.Parse(r)
		if err != nil {
			continue
		}
		o := u.Scheme + "://" + u.Host
		if !seen[o] {
			seen[o] = true
			out = append(out, o)
		}
	}
	return out
}

// problem shows an error page.
func (s *Server) problem(w http.ResponseWriter, status int, heading, msg, hint string) {
	s.render(w, status, "message", page{Title: heading, Heading: heading, Error: msg, Hint: hint})
}
