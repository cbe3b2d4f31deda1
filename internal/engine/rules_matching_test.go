package engine

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/o365prov/o365prov/internal/state"
)

// everyOther fails every second call named.
func everyOther(names ...string) func(string) (error, bool) {
	var n atomic.Int64
	return func(call string) (error, bool) {
		for _, name := range names {
			if call == name && n.Add(1)%2 == 0 {
				return errUnavailable, false
			}
		}
		return nil, true
	}
}

func TestMatching(t *testing.T) {
	tests := []struct {
		name    string
		users   int
		groups  int
		fault   func(string) (error, bool)
		want    counts
		cycleOK bool
	}{
		{name: "a failed user lookup fails that user, not the cycle", users: 8, fault: everyOther("FindUser"),
			want: counts{Users: 4, Enabled: 4, Licences: 4}, cycleOK: true},
		{name: "a failed listing of many users falls back to a lookup each", users: 60, fault: failCalls("ListUsers"),
			want: counts{Users: 60, Enabled: 60, Licences: 60}, cycleOK: true},
		{name: "a failed group lookup fails that group, not the cycle", users: 2, groups: 8, fault: everyOther("FindGroups"),
			want: counts{Users: 2, Enabled: 2, Licences: 2, Groups: 4, Memberships: 8}, cycleOK: true},
		{name: "every lookup failing says the tenant is unreachable and fails the cycle", users: 8, fault: failCalls("FindUser"),
			cycleOK: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, "")
			for i := range tt.users {
				r.src.user(fmt.Sprintf("u%02d", i), true)
			}
			if tt.groups > 0 {
				r.sync(Full) // the users first
			}
			for i := range tt.groups {
				r.src.group(fmt.Sprintf("G%d", i), "u00", "u01")
			}
			r.tgt.fault = tt.fault
			res, err := r.e.Sync(r.ctx, SyncOptions{Mode: Full})
			if (err == nil) != tt.cycleOK {
				t.Fatalf("cycle error %v, want the cycle to succeed: %v", err, tt.cycleOK)
			}
			if !tt.cycleOK {
				if !strings.Contains(err.Error(), "cannot be reached") {
					t.Errorf("error %q does not say the tenant is unreachable", err)
				}
				return
			}
			if got := r.tgt.counts(); got != tt.want {
				t.Errorf("under the fault the tenant holds %+v, want %+v", got, tt.want)
			}
			if res.Failing != tt.users+tt.groups-tt.want.Users-tt.want.Groups && tt.groups == 0 {
				t.Errorf("%d objects failing, want %d", res.Failing, tt.users-tt.want.Users)
			}
			// The failed lookups are retried once due.
			r.tgt.fault = nil
			r.advance(2 * retryBase)
			r.sync(Incremental)
			all := counts{Users: tt.users, Enabled: tt.users, Licences: tt.users, Groups: tt.groups, Memberships: 2 * tt.groups}
			if got := r.tgt.counts(); got != all {
				t.Errorf("after the retry the tenant holds %+v, want %+v", got, all)
			}
		})
	}
}

func TestAGroupLookupEntraRefusesFailsTheGroupsNotTheCycle(t *testing.T) {
	r := newRig(t, "")
	r.src.user("u00", true)
	r.src.user("u01", true)
	r.sync(Full)
	for i := range 4 {
		r.src.group(fmt.Sprintf("G%d", i), "u00", "u01")
	}
	r.src.user("u02", true)
	r.tgt.fault = func(call string) (error, bool) {
		if call == "FindGroups" {
			return fmt.Errorf("source anchor of groups: 403 Authorization_RequestDenied: %w", ErrRejected), false
		}
		return nil, true
	}
	res, err := r.e.Sync(r.ctx, SyncOptions{Mode: Incremental})
	if err != nil {
		t.Fatalf("a refused lookup failed the cycle: %v", err)
	}
	if len(res.Plan.Problems) != 4 || r.tgt.counts().Users != 3 {
		t.Errorf("problems %+v, tenant %+v: want the 4 groups reported and u02 created", res.Plan.Problems, r.tgt.counts())
	}
}

func TestAGroupManagedWithoutAnAnchorIsMarkedOnceAndFoundByAFreshState(t *testing.T) {
	r := newRig(t, "")
	r.src.user("ann", true)
	r.src.group("Legacy", "ann")
	r.sync(Full)
	// As an earlier version left it: managed, without an anchor.
	r.tgt.mu.Lock()
	for _, g := range r.tgt.groups {
		g.SourceID = ""
	}
	r.tgt.mu.Unlock()
	o := r.stateOf(state.KindGroup, guidOf("group:Legacy"))
	delete(o.Applied, keyAnchor)
	if err := r.store.PutObject(r.ctx, o); err != nil {
		t.Fatal(err)
	}
	res := r.sync(Full)
	if n := len(opsOf(res.Plan, OpUpdateGroup)); n != 1 {
		t.Fatalf("marking planned %d updates: %+v", n, res.Plan.Ops)
	}
	if res := r.sync(Full); len(res.Plan.Ops) != 0 {
		t.Errorf("the mark is written again: %+v", res.Plan.Ops)
	}
	if err := r.store.ResetChannel(r.ctx, "staff", true); err != nil {
		t.Fatal(err)
	}
	res = r.sync(Full)
	if len(opsOf(res.Plan, OpCreateGroup)) != 0 || r.tgt.counts().Groups != 1 {
		t.Errorf("a fresh state created the group again: %+v", res.Plan.Ops)
	}
}
