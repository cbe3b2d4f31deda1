package engine

import (
	"context"
	"strings"
	"testing"
)

const annDN = "uid=ann,ou=people,dc=example,dc=com"

func TestOptionsForDisabledUsers(t *testing.T) {
	t.Run("a disabled user's changes are applied while it stays disabled", func(t *testing.T) {
		r := newRig(t, "")
		r.src.user("boss", true)
		r.src.user("chief", true)
		r.src.user("ann", true, "title", "Engineer", "manager", bossDN)
		r.sync(Full)
		r.src.user("ann", false, "title", "Engineer", "manager", bossDN)
		r.sync(Incremental)
		r.src.user("ann", false, "title", "Architect", "manager", "uid=chief,ou=people,dc=example,dc=com")
		r.sync(Incremental)
		ann := r.tgt.userByUPN("ann@example.com")
		if ann.AccountEnabled || ann.Properties["jobTitle"] != "Architect" || r.tgt.manager[ann.ID] != r.tgt.userByUPN("chief@example.com").ID {
			t.Errorf("ann: enabled %v, jobTitle %v, manager %s; want disabled, Architect, chief", ann.AccountEnabled, ann.Properties["jobTitle"], r.tgt.manager[ann.ID])
		}
	})
	t.Run("a crash after a disabled user's create loses none of its follow-ups", func(t *testing.T) {
		r := newRig(t, "")
		r.src.user("boss", true)
		r.sync(Full)
		r.src.user("ann", false, "manager", bossDN)
		ctx, die := context.WithCancel(r.ctx)
		// The process dies as the follow-ups of ann's create start.
		r.tgt.fault = func(call string) (error, bool) {
			if call == "AssignLicense" || call == "SetManager" {
				die()
				return context.Canceled, false
			}
			return nil, true
		}
		r.e.Sync(ctx, SyncOptions{Mode: Incremental}) //nolint:errcheck // it dies
		r.tgt.fault = nil
		r.open() // restarted
		r.advance(2 * retryBase)
		for _, mode := range []Mode{Incremental, Full} {
			r.sync(mode)
		}
		if got := r.tgt.counts(); got != (counts{Users: 2, Enabled: 1, Licences: 2, Managers: 1}) {
			t.Errorf("after the crash and a full cycle the tenant holds %+v, want ann's licence and manager", got)
		}
	})
	t.Run("with removeUserAction delete, disabled users are deleted and never created or restored", func(t *testing.T) {
		r := newRig(t, "{provisionDisabledUsers: true, removeUserAction: delete}")
		r.src.user("ann", true)
		r.sync(Full)
		r.src.user("ann", false)
		res := r.sync(Incremental)
		if got := opsOf(res.Plan, OpDeleteUser); len(got) != 1 {
			t.Fatalf("disabling ann planned deletes %v", got)
		}
		r.src.user("ann", false, "title", "Edited")
		r.src.user("bob", false)
		for _, mode := range []Mode{Incremental, Full, Full} {
			if res := r.sync(mode); len(res.Plan.Ops) != 0 {
				t.Errorf("%s cycle after the delete plans %+v", mode, res.Plan.Ops)
			}
		}
		if got := r.tgt.counts(); got.Users != 0 {
			t.Errorf("the tenant holds %+v, want no live user", got)
		}
	})
}

func TestOptionsReportSkipsOnce(t *testing.T) {
	tests := []struct {
		name    string
		options string
		change  func(r *rig)
		want    string
	}{
		{name: "an update skipped by userUpdate off is reported once, with the option", options: "{userUpdate: false}",
			change: func(r *rig) { r.src.user("ann", true, "title", "Architect") }, want: "updateUser skipped: jobTitle changed in the directory, but userUpdate is off"},
		{name: "a removal skipped by userDisableDelete off is reported once, with the option", options: "{userDisableDelete: false}",
			change: func(r *rig) { r.src.remove(guidOf("ann")) }, want: "but userDisableDelete is off"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, tt.options)
			r.src.user("ann", true, "title", "Engineer")
			r.src.user("bob", true)
			r.sync(Full)
			tt.change(r)
			res := r.sync(Incremental)
			if len(res.Plan.Skipped) != 1 || !strings.Contains(res.Plan.Skipped[0].Reason, tt.want) {
				t.Fatalf("skipped %+v, want one saying %q", res.Plan.Skipped, tt.want)
			}
			for _, mode := range []Mode{Full, Full} {
				if res := r.sync(mode); len(res.Plan.Skipped) != 0 {
					t.Errorf("a later %s cycle reports the skip again: %+v", mode, res.Plan.Skipped)
				}
			}
		})
	}
}
