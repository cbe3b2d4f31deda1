package provision_test

import (
	"errors"
	"testing"
	"time"

	"github.com/o365prov/o365prov/internal/engine"
	"github.com/o365prov/o365prov/internal/ldapserver"
)

// TestPostgresStateRunsEachChannelOnOneNode provisions with state in
// PostgreSQL (clustered mode) and shows a channel's lease keeps a second
// node from running the same channel at the same time.
func TestPostgresStateRunsEachChannelOnOneNode(t *testing.T) {
	w := newWorld(t, withPostgres())
	res := w.sync(engine.Full)
	if res.Failed > 0 || countOps(res, engine.OpCreateUser) != 8 {
		t.Fatalf("first sync on PostgreSQL: %+v %v", res.Plan.Counts(), res.Failures)
	}
	w.modify(userDN(3), ldapserver.Replace("title", "Architect"))

	// Another node (on another machine, so it is never judged dead) holds
	// the channel.
	if _, err := w.sys.Store.AcquireLease(w.ctx, "channel/staff", "node-b.example/4242", time.Minute); err != nil {
		t.Fatal(err)
	}
	_, err := w.engine().Sync(w.ctx, engine.SyncOptions{Mode: engine.Incremental})
	if !errors.Is(err, engine.ErrBusy) {
		t.Fatalf("err = %v, want ErrBusy while another node runs the channel", err)
	}
	if w.mustUser(userUPN(3)).Properties["jobTitle"] != "Engineer" {
		t.Fatal("applied while another node held the channel")
	}
	if err := w.sys.Store.ReleaseLease(w.ctx, "channel/staff", "node-b.example/4242"); err != nil {
		t.Fatal(err)
	}
	w.sync(engine.Incremental)
	if w.mustUser(userUPN(3)).Properties["jobTitle"] != "Architect" {
		t.Error("the change was not applied once the other node let go")
	}
}
