package engine

import (
	"errors"
	"testing"
)

func TestPushedDepartures(t *testing.T) {
	t.Run("a departure the directory pushes is deprovisioned by the next incremental cycle", func(t *testing.T) {
		r := newRig(t, "")
		r.src.silentDeletes = true
		r.src.user("boss", true)
		ann := r.src.user("ann", true)
		r.sync(Full)
		r.src.remove(ann.GUID)
		if res := r.sync(Incremental); len(res.Plan.Ops) != 0 {
			t.Fatalf("without a push the delete was seen: %+v", res.Plan.Ops)
		}
		r.e.noteGone()
		res := r.sync(Incremental)
		if got := opsOf(res.Plan, OpDisableUser); len(got) != 1 {
			t.Errorf("after the push the cycle disables %v, want ann", got)
		}
	})
	t.Run("a pushed departure survives a cycle that fails", func(t *testing.T) {
		r := newRig(t, "")
		r.src.silentDeletes = true
		r.src.user("boss", true)
		ann := r.src.user("ann", true)
		r.sync(Full)
		r.src.remove(ann.GUID)
		r.e.noteGone()
		r.src.enumerateErr = errors.New("connection reset")
		if _, err := r.e.Sync(r.ctx, SyncOptions{Mode: Incremental}); err == nil {
			t.Fatal("the cycle did not fail")
		}
		r.src.enumerateErr = nil
		res := r.sync(Incremental)
		if got := opsOf(res.Plan, OpDisableUser); len(got) != 1 {
			t.Errorf("after the failed cycle the next disables %v, want ann", got)
		}
	})
}
