package engine

import (
	"errors"
	"fmt"
	"testing"

	"github.com/o365prov/o365prov/internal/state"
)

func TestGuard(t *testing.T) {
	tests := []struct {
		name string
		// before approval: how many of 20 users the ACL hides, how many of
		// those come back (ACL repaired) and how many are deleted for real.
		hidden, back, deleted    int
		wantEnabled, wantDropped int
	}{
		{name: "an approved plan whose cause is gone disables no one", hidden: 10, back: 10, wantEnabled: 20, wantDropped: 10},
		{name: "an approved plan disables only the users still gone", hidden: 10, back: 6, deleted: 4, wantEnabled: 16, wantDropped: 6},
		{name: "an approved plan whose cause holds is applied whole", hidden: 10, wantEnabled: 10, wantDropped: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, "{deleteThreshold: {count: 5, percent: 10}}")
			var guids []string
			for i := range 20 {
				guids = append(guids, r.src.user(fmt.Sprintf("u%02d", i), true).GUID)
			}
			r.sync(Full)
			r.src.hide(guids[:tt.hidden], true)
			res, err := r.e.Sync(r.ctx, SyncOptions{Mode: Full})
			if !errors.Is(err, ErrHeld) {
				t.Fatalf("hiding %d users was not held: %v", tt.hidden, err)
			}
			r.src.hide(guids[:tt.back], false)
			for _, g := range guids[tt.back : tt.back+tt.deleted] {
				r.src.remove(g)
			}
			if err := Approve(r.ctx, r.store, "staff", res.Plan.ID, "admin", r.clock()); err != nil {
				t.Fatal(err)
			}
			r.sync(Incremental)
			if got := r.tgt.counts(); got.Enabled != tt.wantEnabled || got.Users != 20 {
				t.Errorf("after the approved plan the tenant holds %+v, want %d enabled of 20", got, tt.wantEnabled)
			}
			entries, err := r.store.QueryAudit(r.ctx, state.AuditQuery{Channel: "staff", Operation: "dropped"})
			if err != nil {
				t.Fatal(err)
			}
			if dropped := len(entries); dropped != tt.wantDropped {
				t.Errorf("%d operations reported dropped, want %d", dropped, tt.wantDropped)
			}
			if res := r.sync(Full); len(opsOf(res.Plan, OpDisableUser))+len(opsOf(res.Plan, OpEnableUser)) != 0 {
				t.Errorf("a full cycle after the approval still disables %v and enables %v", opsOf(res.Plan, OpDisableUser), opsOf(res.Plan, OpEnableUser))
			}
		})
	}
}

func TestTheCycleAfterAnApprovedPlanReadsAgainWhatItTouched(t *testing.T) {
	r := newRig(t, "{deleteThreshold: {count: 5, percent: 10}}")
	var guids []string
	for i := range 20 {
		guids = append(guids, r.src.user(fmt.Sprintf("u%02d", i), true).GUID)
	}
	r.sync(Full)
	r.src.hide(guids[:10], true)
	res, err := r.e.Sync(r.ctx, SyncOptions{Mode: Full})
	if !errors.Is(err, ErrHeld) {
		t.Fatalf("not held: %v", err)
	}
	if err := Approve(r.ctx, r.store, "staff", res.Plan.ID, "admin", r.clock()); err != nil {
		t.Fatal(err)
	}
	// The ACL is repaired just after the approved plan was checked: its
	// disables are applied, and no change the directory reports says so.
	r.src.afterEnumerate = func() { r.src.hide(guids[:10], false); r.src.afterEnumerate = nil }
	r.sync(Incremental)
	if got := r.tgt.counts(); got.Enabled != 20 {
		t.Errorf("after the approved plan and its cycle the tenant holds %+v, want the 10 users back enabled", got)
	}
}
