package state

import (
	"context"
	"time"
)

// Store records what o365prov has applied. It is safe for concurrent use by
// several goroutines. Each method is atomic: it is committed, durably, when
// it returns nil, and it has written nothing when it returns an error.
type Store interface {
	// Channel returns the channel's state, or ChannelState{Name: name} when
	// the channel is unknown.
	Channel(ctx context.Context, name string) (ChannelState, error)
	// PutChannel replaces the channel's state.
	PutChannel(ctx context.Context, c ChannelState) error
	// ResetChannel clears the watermark and LastFullSync, so the next cycle
	// is a full one (provmgr --reset-group-timestamp). With all, the channel's
	// objects, memberships and plans go too (provmgr --reset-all); cycles,
	// the audit log and leases stay. Resetting an unknown channel is not an
	// error.
	ResetChannel(ctx context.Context, name string, all bool) error

	// Object returns one object, or ErrNotFound.
	Object(ctx context.Context, channel string, kind Kind, guid string) (Object, error)
	// ObjectByDN finds an object by its DN, ignoring case, or ErrNotFound.
	// When several share a DN (a rename not yet recorded for one of them) it
	// returns the one updated last.
	ObjectByDN(ctx context.Context, channel string, kind Kind, dn string) (Object, error)
	// ObjectByGraphID finds an object of either kind by its Entra id, or
	// ErrNotFound. When several share the id it returns the one updated last.
	ObjectByGraphID(ctx context.Context, channel string, graphID string) (Object, error)
	// PutObject inserts or wholly replaces an object (Applied included).
	PutObject(ctx context.Context, o Object) error
	// PutObjects puts many objects in one transaction: all or none.
	PutObjects(ctx context.Context, objects []Object) error
	// DeleteObject forgets an object and its memberships, as a group and as
	// a member. Deleting an unknown object is not an error.
	DeleteObject(ctx context.Context, channel string, kind Kind, guid string) error
	// Objects calls fn for each object of the kind, in GUID order (bytewise),
	// while reading them. An error from fn stops the walk and is returned as
	// is. fn may call the store, writes included. The walk is not a
	// snapshot: the SQL stores read pages of 1,000 in order, so a write past
	// the walk's position may be seen.
	Objects(ctx context.Context, channel string, kind Kind, fn func(Object) error) error
	// CountObjects counts the channel's objects of the kind.
	CountObjects(ctx context.Context, channel string, kind Kind) (int, error)
	// DueRetries returns up to limit objects of the channel whose Status is
	// failed or pending and whose NextRetry is at or before now, earliest
	// NextRetry first (then kind, then GUID).
	DueRetries(ctx context.Context, channel string, now time.Time, limit int) ([]Object, error)

	// Members calls fn with each member GUID o365prov added to the group, in
	// GUID order (bytewise), while reading them; fn's error stops the walk
	// and is returned as is. Memberships are source GUIDs; only those
	// o365prov added in Entra are recorded.
	Members(ctx context.Context, channel, groupGUID string, fn func(memberGUID string) error) error
	// AddMembers records memberships in one transaction; already recorded
	// ones are left as they are.
	AddMembers(ctx context.Context, channel, groupGUID string, memberGUIDs []string) error
	// RemoveMembers forgets memberships in one transaction; unknown ones are
	// ignored.
	RemoveMembers(ctx context.Context, channel, groupGUID string, memberGUIDs []string) error
	// GroupsOf returns the GUIDs of the groups o365prov added the member to,
	// in GUID order.
	GroupsOf(ctx context.Context, channel, memberGUID string) ([]string, error)

	// StartCycle records a cycle and returns its ID. An empty Result is
	// recorded as CycleRunning.
	StartCycle(ctx context.Context, c Cycle) (int64, error)
	// FinishCycle records the end of cycle c.ID: Finished, Result, Stats,
	// PlanID, Error and, when set, Kind (an incremental cycle that had to
	// read everything is a full one). ErrNotFound if there is no such cycle.
	FinishCycle(ctx context.Context, c Cycle) error
	// Cycles returns up to limit cycles, newest first.
	Cycles(ctx context.Context, channel string, limit int) ([]Cycle, error)

	// PutPlan stores a new plan; ErrConflict if its ID is taken.
	PutPlan(ctx context.Context, p Plan) error
	// Plan returns a plan, or ErrNotFound.
	Plan(ctx context.Context, id string) (Plan, error)
	// Plans returns the plans in any of statuses (all plans when none are
	// given), newest first.
	Plans(ctx context.Context, channel string, statuses ...PlanStatus) ([]Plan, error)
	// SetPlanStatus moves a plan from status from to status to, recording who
	// decided and when. It is a compare-and-set: ErrConflict if the plan is
	// not in from, ErrNotFound if there is no such plan.
	SetPlanStatus(ctx context.Context, id string, from, to PlanStatus, by string, at time.Time) error

	// Audit appends entries in one transaction. IDs are assigned by the store.
	Audit(ctx context.Context, entries ...AuditEntry) error
	// QueryAudit returns matching entries, newest (highest ID) first.
	QueryAudit(ctx context.Context, q AuditQuery) ([]AuditEntry, error)
	// PruneHistory deletes audit entries older than before, finished cycles
	// started before it, and plans created before it that were rejected,
	// applied or superseded. It returns how many rows went.
	PruneHistory(ctx context.Context, before time.Time) (int64, error)

	// Setting returns a small named value, or ErrNotFound. Values may be
	// secret (the SSO signing key): they never appear in errors.
	Setting(ctx context.Context, key string) ([]byte, error)
	// PutSetting replaces a setting.
	PutSetting(ctx context.Context, key string, value []byte) error

	// Leases run on the database's clock (PostgreSQL's now(), SQLite's own
	// time), never a node's, so nodes whose clocks disagree still agree on
	// who holds what. Every grant gets a new, higher Epoch: the fencing
	// token. A context carrying a Fence (WithFence) makes every write of
	// the store check, in the write's own transaction, that the fence's
	// holder still holds the lease with that epoch; otherwise the write
	// fails with ErrLeaseLost and writes nothing.

	// AcquireLease grants the named lease to holder for ttl, with a new
	// epoch, when it is free, lapsed or already holder's; otherwise
	// ErrLeaseHeld.
	AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (Lease, error)
	// RenewLease extends holder's unlapsed lease of that epoch by ttl from
	// now, keeping the epoch; ErrLeaseLost if holder no longer holds it
	// (and ErrLeaseHeld too when another does). The lease returned shows
	// any handover an operator asked for.
	RenewLease(ctx context.Context, name, holder string, epoch int64, ttl time.Duration) (Lease, error)
	// CheckLease is nil when holder holds the lease, unlapsed, with epoch;
	// otherwise ErrLeaseLost as RenewLease has it.
	CheckLease(ctx context.Context, name, holder string, epoch int64) error
	// ReleaseLease frees holder's lease at once (its epoch stays); a lease
	// holder does not hold is left alone, and that is not an error.
	ReleaseLease(ctx context.Context, name, holder string) error
	// HandOverLease asks the lease's holder to let it go at the end of its
	// cycle, to node to, or to any other node when to is HandoverAny.
	// ErrNotFound when no one holds the lease.
	HandOverLease(ctx context.Context, name, to string) error
	// Leases lists the recorded leases, lapsed and released ones included,
	// by name.
	Leases(ctx context.Context) ([]Lease, error)

	// Heartbeat records that node n is alive, at the database's time
	// (Started is set by the first heartbeat; n's times are ignored).
	// Nodes not seen for NodeRetention are forgotten.
	Heartbeat(ctx context.Context, n Node) error
	// Nodes lists the nodes by name.
	Nodes(ctx context.Context) ([]Node, error)
	// RemoveNode forgets a node that stopped; an unknown one is not an
	// error.
	RemoveNode(ctx context.Context, name string) error

	// Close releases the store's resources.
	Close() error
}
