package faketenant

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"
)

// restartable runs the demo tenant over a state file and restarts it on
// demand, the way `o365prov fake-tenant --state FILE` is stopped and started.
type restartable struct {
	t     *testing.T
	path  string
	clock *ManualClock
	scale float64
	f     *fixture
}

func (r *restartable) start() *fixture {
	r.t.Helper()
	cfg := DemoConfig()
	cfg.Throttling.Profile = "off"
	cfg.Clock = r.clock
	cfg.StatePath = r.path
	cfg.TimeScale = r.scale
	tn, err := New(cfg)
	if err != nil {
		r.t.Fatalf("start with state: %v", err)
	}
	srv := httptest.NewTLSServer(tn)
	f := &fixture{t: r.t, tenant: tn, srv: srv, clock: r.clock}
	f.token = f.tokenFor(DemoClientID)
	r.f = f
	return f
}

func (r *restartable) stop() {
	r.t.Helper()
	r.f.srv.Close()
	if err := r.f.tenant.Close(); err != nil {
		r.t.Fatalf("close: %v", err)
	}
}

// docs/graph.md §1.5, §7: a tenant restarted with --state many times while
// objects are created, deleted and linked loses nothing, never reuses an id
// or a request-id, and its clock (running 10x) never goes backwards.
func TestRestartsWithStateLoseNothing(t *testing.T) {
	r := &restartable{t: t, path: filepath.Join(t.TempDir(), "state.json"), clock: NewManualClock(epoch), scale: 10}
	users := map[string]string{}    // id → UPN of every live user made
	deleted := map[string]bool{}    // ids soft-deleted
	groups := map[string][]string{} // group id → member ids
	requestIDs := map[string]int{}
	var lastTenantTime time.Time
	const restarts = 12

	record := func(round int, rs resp) {
		if id := rs.header.Get("request-id"); id != "" {
			if prev, dup := requestIDs[id]; dup {
				t.Fatalf("round %d: request-id %s was already used in round %d", round, id, prev)
			}
			requestIDs[id] = round
		}
	}
	for round := range restarts {
		f := r.start()
		if now := f.tenant.Now(); now.Before(lastTenantTime) {
			t.Fatalf("round %d: tenant time went back from %v to %v across a restart", round, lastTenantTime, now)
		}
		for i := range 3 {
			alias := fmt.Sprintf("r%du%d", round, i)
			rs := f.call(http.MethodPost, "/v1.0/users", newUserBody(alias))
			want(t, rs, http.StatusCreated)
			record(round, rs)
			id := rs.str("id")
			if _, dup := users[id]; dup || deleted[id] {
				t.Fatalf("round %d: new user %s got the id of an earlier object", round, alias)
			}
			users[id] = alias + "@contoso.com"
		}
		g := f.createGroup(fmt.Sprintf("r%dg", round), false)
		if _, dup := groups[g]; dup || users[g] != "" {
			t.Fatalf("round %d: new group got the id of an earlier object", round)
		}
		groups[g] = nil
		for id := range users {
			if deleted[id] || len(groups[g]) == 2 {
				continue
			}
			rs := f.call(http.MethodPost, "/v1.0/groups/"+g+"/members/$ref", map[string]any{"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/" + id})
			want(t, rs, http.StatusNoContent)
			record(round, rs)
			groups[g] = append(groups[g], id)
		}
		// Soft-delete one user made this round, so deleted items carry across too.
		for id, upn := range users {
			if !deleted[id] && upn == fmt.Sprintf("r%du0@contoso.com", round) {
				rs := f.call(http.MethodDelete, "/v1.0/users/"+id, nil)
				want(t, rs, http.StatusNoContent)
				record(round, rs)
				deleted[id] = true
			}
		}
		r.clock.Advance(3 * time.Second) // 30 s of tenant time
		lastTenantTime = f.tenant.Now()
		r.stop()
	}

	f := r.start()
	defer r.stop()
	t.Run("every live user is there with its UPN", func(t *testing.T) {
		live := 0
		for id, upn := range users {
			u, ok := f.tenant.User(id)
			if deleted[id] {
				if ok && u.Deleted.IsZero() {
					t.Errorf("deleted user %s is live", upn)
				}
				continue
			}
			live++
			if !ok || u.UserPrincipalName != upn {
				t.Errorf("user %s (%s) lost: %+v", id, upn, u)
			}
		}
		if got := len(f.tenant.Users()); got != live {
			t.Errorf("%d users, want %d", got, live)
		}
	})
	t.Run("every deleted user is in deleted items", func(t *testing.T) {
		if got := len(f.tenant.DeletedItems()); got != len(deleted) {
			t.Errorf("%d deleted items, want %d", got, len(deleted))
		}
	})
	t.Run("every group keeps its members", func(t *testing.T) {
		for g, members := range groups {
			got := f.tenant.Members(g)
			if len(got) != len(members) {
				t.Errorf("group %s has %d members, want %d", g, len(got), len(members))
			}
		}
	})
	t.Run("/_fake/check finds the directory consistent", func(t *testing.T) {
		rs := f.call(http.MethodGet, "/_fake/check", nil)
		want(t, rs, http.StatusOK)
		if err := f.tenant.CheckConsistency(); err != nil {
			t.Fatal(err)
		}
	})
}

// docs/graph.md §7: tenant time with a time scale above 1 resumes where it
// stopped, plus the wall time the tenant was down.
func TestTenantClockResumesAcrossRestart(t *testing.T) {
	r := &restartable{t: t, path: filepath.Join(t.TempDir(), "state.json"), clock: NewManualClock(epoch), scale: 60}
	f := r.start()
	r.clock.Advance(time.Minute) // one hour of tenant time
	before := f.tenant.Now()
	r.stop()
	r.clock.Advance(10 * time.Second) // down for 10 s of wall time
	f = r.start()
	defer r.stop()
	got := f.tenant.Now()
	if wantAt := before.Add(10 * time.Second); !got.Equal(wantAt) {
		t.Fatalf("tenant time after restart %v, want %v (stopped at %v)", got, wantAt, before)
	}
	r.clock.Advance(time.Second)
	if d := f.tenant.Now().Sub(got); d != time.Minute {
		t.Fatalf("after restart tenant time runs %v per wall second, want 1m", d)
	}
}

// Ids never repeat across two runs that share a Config.Seed.
func TestIDsDifferAcrossRunsWithTheSameSeed(t *testing.T) {
	a, b := newFixture(t), newFixture(t)
	if ida, idb := a.createUser("same", nil), b.createUser("same", nil); ida == idb {
		t.Fatalf("two runs gave the same user the same id %s", ida)
	}
	ra, rb := a.call(http.MethodGet, "/v1.0/users", nil), b.call(http.MethodGet, "/v1.0/users", nil)
	if ra.header.Get("request-id") == rb.header.Get("request-id") {
		t.Fatal("two runs gave the same request-id")
	}
}

// docs/graph.md §14: a deleted user whose UPN a new user took survives a
// restart beside it, and the restart keeps the UPN with the live user.
func TestRestartKeepsAReusedUPNWithTheLiveUser(t *testing.T) {
	r := &restartable{t: t, path: filepath.Join(t.TempDir(), "state.json"), clock: NewManualClock(epoch), scale: 1}
	f := r.start()
	old := f.createUser("reuse", nil)
	want(t, f.call(http.MethodDelete, "/v1.0/users/"+old, nil), http.StatusNoContent)
	live := f.createUser("reuse", nil)
	r.stop()
	f = r.start()
	defer r.stop()
	if u, ok := f.tenant.User("reuse@contoso.com"); !ok || u.ID != live {
		t.Fatalf("reuse@contoso.com is %+v, want the live user %s", u, live)
	}
	if d := f.tenant.DeletedItems(); len(d) != 1 || d[0].ID != old {
		t.Fatalf("deleted items %+v", d)
	}
	if err := f.tenant.CheckConsistency(); err != nil {
		t.Fatal(err)
	}
	want(t, f.call(http.MethodPost, "/v1.0/directory/deletedItems/"+old+"/restore", nil), http.StatusBadRequest, "Request_BadRequest")
}
