package console

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/o365prov/o365prov/internal/state"
)

func (s *Server) apiOverview(w http.ResponseWriter, r *http.Request) {
	ov, err := BuildOverview(r.Context(), s.o.Store, s.o.Channels, s.o.Monitor, s.o.Clock())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ov)
}

// channelOf resolves the {name} of the path.
func (s *Server) channelOf(r *http.Request) (ChannelInfo, error) {
	name := r.PathValue("name")
	ch, ok := s.channel(name)
	if !ok {
		return ch, fmt.Errorf("%w %q", ErrUnknownChannel, name)
	}
	return ch, nil
}

func (s *Server) apiChannel(w http.ResponseWriter, r *http.Request) {
	ch, err := s.channelOf(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d, err := BuildChannel(r.Context(), s.o.Store, ch, s.o.Monitor, s.o.Clock())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.Actions = s.o.Control != nil
	writeJSON(w, http.StatusOK, d)
}

func (s *Server) apiPreview(w http.ResponseWriter, r *http.Request) {
	p, err := s.preview(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (s *Server) preview(r *http.Request) (Preview, error) {
	ch, err := s.channelOf(r)
	if err != nil {
		return Preview{}, err
	}
	if s.o.Control == nil {
		return Preview{}, errReadOnly
	}
	p, err := s.o.Control.Preview(r.Context(), ch.Name)
	if err != nil {
		return Preview{}, fmt.Errorf("plan channel %s: %w", ch.Name, err)
	}
	return p, nil
}

// actionDone answers an action: a redirect back to the page for a form
// posted by the console's own pages (they say where to), JSON otherwise.
func actionDone(w http.ResponseWriter, r *http.Request, v any) {
	if back := r.PostForm.Get("back"); back != "" {
		http.Redirect(w, r, safeNext(back), http.StatusSeeOther)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// actionInput reads an action's parameters: a JSON object or a form,
// whatever the Content-Type says (curl -d sends JSON as a form). They end
// up in r.PostForm.
func actionInput(r *http.Request) error {
	if r.PostForm != nil { // the CSRF check parsed the form already
		return nil
	}
	r.PostForm = url.Values{}
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		return fmt.Errorf("%w: read the body: %v", errBadRequest, err)
	}
	text := strings.TrimSpace(string(body))
	if strings.HasPrefix(text, "{") {
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			return fmt.Errorf("%w: body: %v", errBadRequest, err)
		}
		for k, v := range m {
			str, ok := v.(string)
			if !ok {
				return fmt.Errorf("%w: %q must be a string", errBadRequest, k)
			}
			r.PostForm.Set(k, str)
		}
		return nil
	}
	if r.PostForm, err = url.ParseQuery(text); err != nil {
		return fmt.Errorf("%w: body: %v", errBadRequest, err)
	}
	return nil
}

// ActionResult is what an action answers.
type ActionResult struct {
	Channel string `json:"channel"`
	Action  string `json:"action"`
	By      string `json:"by"`
	Detail  string `json:"detail"`
}

func (s *Server) apiSync(w http.ResponseWriter, r *http.Request) {
	ch, err := s.channelOf(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if s.o.Control == nil {
		s.fail(w, r, errReadOnly)
		return
	}
	if err := actionInput(r); err != nil {
		s.fail(w, r, err)
		return
	}
	mode := SyncMode(r.PostForm.Get("mode"))
	if mode == "" {
		mode = SyncNow
	}
	if mode != SyncNow && mode != SyncFull && mode != SyncVerify {
		s.fail(w, r, fmt.Errorf("%w: mode %q (incremental, full or verify)", errBadRequest, mode))
		return
	}
	by := who(r.Context())
	if err := s.o.Control.Sync(r.Context(), ch.Name, mode); err != nil {
		_ = record(r.Context(), s.o.Store, s.o.Clock(), ch.Name, "console:sync", "failed", fmt.Sprintf("%s cycle asked by %s: %v", mode, by, err))
		writeError(w, http.StatusConflict, fmt.Sprintf("start a %s cycle of %s: %v", mode, ch.Name, err))
		return
	}
	detail := fmt.Sprintf("%s cycle asked by %s", mode, by)
	if err := record(r.Context(), s.o.Store, s.o.Clock(), ch.Name, "console:sync", "ok", detail); err != nil {
		s.fail(w, r, err)
		return
	}
	actionDone(w, r, ActionResult{Channel: ch.Name, Action: "sync", By: by, Detail: detail})
}

func (s *Server) apiResetWatermark(w http.ResponseWriter, r *http.Request) {
	ch, err := s.channelOf(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := actionInput(r); err != nil {
		s.fail(w, r, err)
		return
	}
	by := who(r.Context())
	if err := s.o.Store.ResetChannel(r.Context(), ch.Name, false); err != nil {
		s.fail(w, r, fmt.Errorf("reset the watermark of %s: %w", ch.Name, err))
		return
	}
	detail := "watermark reset by " + by + "; the next cycle reads every entry"
	if err := record(r.Context(), s.o.Store, s.o.Clock(), ch.Name, "console:resetWatermark", "ok", detail); err != nil {
		s.fail(w, r, err)
		return
	}
	actionDone(w, r, ActionResult{Channel: ch.Name, Action: "reset-watermark", By: by, Detail: detail})
}

func (s *Server) apiDecide(approve bool) http.HandlerFunc {
	action := "reject"
	if approve {
		action = "approve"
	}
	return func(w http.ResponseWriter, r *http.Request) {
		ch, err := s.channelOf(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if s.o.Control == nil {
			s.fail(w, r, errReadOnly)
			return
		}
		if err := actionInput(r); err != nil {
			s.fail(w, r, err)
			return
		}
		id, by := r.PathValue("id"), who(r.Context())
		decide := s.o.Control.Reject
		if approve {
			decide = s.o.Control.Approve
		}
		if err := decide(r.Context(), ch.Name, id, by); err != nil {
			_ = record(r.Context(), s.o.Store, s.o.Clock(), ch.Name, "console:"+action, "failed", fmt.Sprintf("plan %s, by %s: %v", id, by, err))
			writeError(w, http.StatusConflict, fmt.Sprintf("%s plan %s: %v", action, id, err))
			return
		}
		detail := fmt.Sprintf("plan %s %sd by %s", id, action, by)
		if err := record(r.Context(), s.o.Store, s.o.Clock(), ch.Name, "console:"+action, "ok", detail); err != nil {
			s.fail(w, r, err)
			return
		}
		if approve { // apply it now rather than at the next tick
			if err := s.o.Control.Sync(r.Context(), ch.Name, SyncNow); err != nil {
				detail += fmt.Sprintf("; it is applied by the next cycle (%v)", err)
			} else {
				detail += "; a cycle is applying it now"
			}
		}
		actionDone(w, r, ActionResult{Channel: ch.Name, Action: action, By: by, Detail: detail})
	}
}

func (s *Server) apiPlan(w http.ResponseWriter, r *http.Request) {
	p, err := s.o.Store.Plan(r.Context(), r.PathValue("id"))
	if errors.Is(err, state.ErrNotFound) {
		writeError(w, http.StatusNotFound, "no plan "+r.PathValue("id"))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pv := planView(p)
	pv.Ops = planOps(p.Body, 1<<30)
	writeJSON(w, http.StatusOK, pv)
}

// lookupOf reads an object lookup from the query string.
func lookupOf(r *http.Request) (Lookup, error) {
	q := r.URL.Query()
	l := Lookup{Channel: q.Get("channel"), UPN: q.Get("upn"), DN: q.Get("dn"), GUID: q.Get("guid"), GraphID: q.Get("graphId")}
	if v := q.Get("q"); v != "" {
		c := l.Channel
		l = ParseQuery(v)
		l.Channel = c
	}
	n := 0
	for _, v := range []string{l.UPN, l.DN, l.GUID, l.GraphID} {
		if v != "" {
			n++
		}
	}
	if sameGUID := n == 2 && l.GUID != "" && l.GUID == l.GraphID; n != 1 && !sameGUID {
		return l, fmt.Errorf("%w: give exactly one of upn, dn, guid, graphId (or q)", errBadRequest)
	}
	return l, nil
}

func (s *Server) apiObject(w http.ResponseWriter, r *http.Request) {
	l, err := lookupOf(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v, err := FindObject(r.Context(), s.o.Store, s.o.Channels, s.o.Control, l)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// AuditPage is a page of the audit log.
type AuditPage struct {
	Entries []AuditView `json:"entries"`
	// Next is the before= of the next page; 0 at the end.
	Next int64 `json:"next"`
}

func (s *Server) apiAudit(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	aq := state.AuditQuery{Channel: q.Get("channel"), GUID: q.Get("guid"), Operation: q.Get("operation"), Result: q.Get("result"), Limit: 100}
	for name, dst := range map[string]*int64{"before": &aq.BeforeID, "cycle": &aq.Cycle} {
		if v := q.Get(name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				s.fail(w, r, fmt.Errorf("%w: %s=%q is not a whole number", errBadRequest, name, v))
				return
			}
			*dst = n
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			s.fail(w, r, fmt.Errorf("%w: limit=%q (1 to 1000)", errBadRequest, v))
			return
		}
		aq.Limit = n
	}
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			s.fail(w, r, fmt.Errorf("%w: since=%q is not an RFC 3339 time", errBadRequest, v))
			return
		}
		aq.Since = t
	}
	entries, err := QueryAudit(r.Context(), s.o.Store, aq)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	page := AuditPage{Entries: entries}
	if len(entries) == aq.Limit {
		page.Next = entries[len(entries)-1].ID
	}
	writeJSON(w, http.StatusOK, page)
}

// Activity is the charts' data.
type Activity struct {
	PerMinute        []MinutePoint `json:"perMinute"` // the last 24 hours
	Writes           []SecondPoint `json:"writesPerSecond"`
	CeilingPerSecond float64       `json:"writeCeilingPerSecond"`
	WindowFrom       time.Time     `json:"windowFrom"`
	WindowTo         time.Time     `json:"windowTo"`
}

func (s *Server) activity(r *http.Request) (Activity, error) {
	now := s.o.Clock()
	from, to, err := s.syncWindow(r, now)
	if err != nil {
		return Activity{}, err
	}
	m := s.o.Monitor
	return Activity{PerMinute: m.perMinute(now, minutesKept), Writes: m.perSecond(from, to), CeilingPerSecond: m.ceiling, WindowFrom: from, WindowTo: to}, nil
}

// syncWindow is the span of the latest cycle that wrote (or is running),
// else the last ten minutes: the write-rate chart shows a sync.
func (s *Server) syncWindow(r *http.Request, now time.Time) (time.Time, time.Time, error) {
	from, to := now.Add(-10*time.Minute), now
	cycles, err := s.o.Store.Cycles(r.Context(), r.URL.Query().Get("channel"), 20)
	if err != nil {
		return from, to, fmt.Errorf("read cycles: %w", err)
	}
	for _, c := range cycles {
		if c.Result == state.CycleRunning {
			return c.Started.Add(-5 * time.Second), now, nil
		}
		if c.Stats["writes"] > 0 || c.Stats["succeeded"] > 0 {
			end := c.Finished
			if end.IsZero() {
				end = now
			}
			if now.Sub(end) > time.Hour {
				break
			}
			return c.Started.Add(-5 * time.Second), end.Add(5 * time.Second), nil
		}
	}
	return from, to, nil
}

func (s *Server) apiActivity(w http.ResponseWriter, r *http.Request) {
	a, err := s.activity(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

// SignInsAnswer is /api/v1/sign-ins: Enabled is false while SSO is off.
type SignInsAnswer struct {
	Enabled bool           `json:"enabled"`
	Summary *SignInSummary `json:"summary,omitempty"`
}

func (s *Server) apiSignIns(w http.ResponseWriter, r *http.Request) {
	if s.o.SignIns == nil {
		writeJSON(w, http.StatusOK, SignInsAnswer{})
		return
	}
	sum, err := s.o.SignIns.SignInSummary(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, SignInsAnswer{Enabled: true, Summary: &sum})
}
