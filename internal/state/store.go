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

	// AcquireLease takes the named lease for holder until now+ttl. It
	// succeeds when the lease is free, expired (expiry at or before now) or
	// already holder's (then it is extended); otherwise ErrLeaseHeld.
	AcquireLease(ctx context.Context, name, holder string, ttl time.Duration, now time.Time) error
	// RenewLease extends holder's unexpired lease to now+ttl; ErrLeaseLost
	// if holder does not hold it at now.
	RenewLease(ctx context.Context, name, holder string, ttl time.Duration, now time.Time) error
	// ReleaseLease drops holder's lease; a lease holder does not hold is left
	// alone, and that is not an error.
	ReleaseLease(ctx context.Context, name, holder string) error
	// Leases lists the recorded leases, expired ones included, by name.
	Leases(ctx context.Context) ([]Lease, error)

	// Close releases the store's resources.
	Close() error
}
