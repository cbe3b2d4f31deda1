package directory

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/o365prov/o365prov/internal/config"
	"github.com/o365prov/o365prov/internal/directory/slapdtest"
)

// watcher runs Watch in the background and collects its events.
type watcher struct {
	events chan Event
	live   chan WatchStatus
	done   chan error
}

func startWatch(t *testing.T, src config.Source, opts ...Option) (*Directory, *watcher) {
	t.Helper()
	w := &watcher{events: make(chan Event, 1000), live: make(chan WatchStatus, 100), done: make(chan error, 1)}
	opts = append(opts, WithWatchStatus(func(s WatchStatus) { w.live <- s }))
	d := open(t, src, opts...)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { w.done <- d.Watch(ctx, func(e Event) { w.events <- e }) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-w.done:
			if err != nil {
				t.Errorf("Watch returned %v after its context ended", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Watch did not return after its context ended")
		}
	})
	w.waitLive(t)
	return d, w
}

func (w *watcher) waitLive(t *testing.T) {
	t.Helper()
	for {
		select {
		case s := <-w.live:
			if s.Live {
				return
			}
		case err := <-w.done:
			t.Fatalf("Watch ended before it was live: %v", err)
		case <-time.After(30 * time.Second):
			t.Fatal("Watch did not go live")
		}
	}
}

// next waits for an event matching ok, returning it and how long it took.
func (w *watcher) next(t *testing.T, ok func(Event) bool, within time.Duration) (Event, time.Duration) {
	t.Helper()
	start := time.Now()
	deadline := time.After(within)
	for {
		select {
		case e := <-w.events:
			if ok(e) {
				return e, time.Since(start)
			}
		case <-deadline:
			t.Fatalf("no matching event within %v", within)
		}
	}
}

func percentile(ds []time.Duration, p float64) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[int(float64(len(s)-1)*p)]
}

func TestSlapdSyncreplWatch(t *testing.T) {
	t.Parallel()
	srv := slapdtest.Start(t, slapdtest.Options{LDIF: slapdtest.UserLDIF("dc=example,dc=com", 50)})
	p := newFaultProxy(t, strings.TrimPrefix(srv.URL, "ldap://"))
	_, w := startWatch(t, srv.Source(), WithDialer(p.dial), WithReconnect(100, 20*time.Millisecond, 200*time.Millisecond))
	// The refresh phase from the current contextCSN sends nothing old.
	select {
	case e := <-w.events:
		t.Fatalf("an event before any change: %+v", e)
	case <-time.After(200 * time.Millisecond):
	}
	var lat []time.Duration
	for i := 0; i < 20; i++ {
		dn := srv.UserDN("user00010")
		start := time.Now()
		srv.Modify(t, dn, map[string][]string{"title": {time.Now().String()}})
		e, _ := w.next(t, func(e Event) bool { return e.DN == dn }, 5*time.Second)
		lat = append(lat, time.Since(start))
		if e.Object != KindUser || !uuidRE.MatchString(e.GUID) || e.Source != "syncrepl" || e.Gone {
			t.Fatalf("event: %+v", e)
		}
	}
	t.Logf("syncrepl change-to-callback latency over %d changes: p50 %v, max %v", len(lat), percentile(lat, .5), percentile(lat, 1))
	if p := percentile(lat, .5); p > 500*time.Millisecond {
		t.Errorf("median latency %v; want well under a second", p)
	}
	// A group change, an add and a delete.
	g := srv.AddGroup(t, "watched", srv.UserDN("user00001"))
	if e, _ := w.next(t, func(e Event) bool { return e.DN == g }, 5*time.Second); e.Object != KindGroup {
		t.Errorf("group event: %+v", e)
	}
	srv.Delete(t, srv.UserDN("user00002"))
	if e, _ := w.next(t, func(e Event) bool { return e.Gone }, 5*time.Second); e.GUID == "" {
		t.Errorf("delete event without GUID: %+v", e)
	}
	// The network fails: Watch reconnects and resumes from its cookie, so
	// a change made while it was cut off is delivered.
	p.setDown(true)
	if s := <-w.live; s.Live {
		t.Fatal("no interruption reported")
	}
	srv.Modify(t, srv.UserDN("user00020"), map[string][]string{"title": {"while cut off"}})
	time.Sleep(100 * time.Millisecond)
	p.setDown(false)
	w.waitLive(t)
	if e, _ := w.next(t, func(e Event) bool { return e.DN == srv.UserDN("user00020") }, 15*time.Second); e.Missed {
		t.Errorf("syncrepl resumed from its cookie yet reported Missed: %+v", e)
	}
	// And the server restarting.
	srv.Stop()
	srv.Resume()
	w.waitLive(t)
	srv.Modify(t, srv.UserDN("user00021"), map[string][]string{"title": {"after restart"}})
	w.next(t, func(e Event) bool { return e.DN == srv.UserDN("user00021") }, 15*time.Second)
}

func TestPushUnsupported(t *testing.T) {
	t.Parallel()
	srv := slapdtest.Start(t, slapdtest.Options{NoSyncProv: true})
	src := srv.Source()
	src.ChangeDetection.Algorithm = config.Timestamp
	d := open(t, src)
	if err := d.Watch(ctxT(t), func(Event) {}); !isErr(err, ErrPushUnsupported) {
		t.Fatalf("Watch without syncprov: %v", err)
	}
	src.ChangeDetection.Push = config.PushOff
	srv2 := slapdtest.Start(t, slapdtest.Options{})
	src.URL = srv2.URL
	d2 := open(t, src)
	if err := d2.Watch(ctxT(t), func(Event) {}); !isErr(err, ErrPushUnsupported) {
		t.Fatalf("Watch with push off: %v", err)
	}
	// ENTRY_CSN without syncprov (no contextCSN) falls back on the clock.
	src = srv.Source()
	d3 := open(t, src, WithClockSkew(0))
	srv.AddUser(t, "before", nil)
	time.Sleep(1100 * time.Millisecond)
	wm := watermark(t, d3)
	srv.AddUser(t, "after", nil)
	cs, _ := changes(t, d3, KindUser, wm)
	if len(cs) != 1 || !hasChange(cs, Updated, srv.UserDN("after")) {
		t.Fatalf("ENTRY_CSN without contextCSN: %v", summary(cs))
	}
}

// Close stops Watch.
func TestSlapdCloseStopsWatch(t *testing.T) {
	t.Parallel()
	srv := slapdtest.Start(t, slapdtest.Options{})
	live := make(chan struct{}, 1)
	d, err := Open(ctxT(t), srv.Source(), WithLogger(testLogger(t)), WithWatchStatus(func(s WatchStatus) {
		if s.Live {
			live <- struct{}{}
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- d.Watch(context.Background(), func(Event) {}) }()
	<-live
	d.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Watch after Close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Watch still running after Close")
	}
	if err := d.Watch(context.Background(), func(Event) {}); err != ErrClosed {
		t.Fatalf("Watch on a closed Directory: %v", err)
	}
	if _, err := d.Users(ctxT(t), nil, func(Entry) error { return nil }); !isErr(err, ErrClosed) {
		t.Fatalf("Users on a closed Directory: %v", err)
	}
}
