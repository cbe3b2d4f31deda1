// Package state is the record of what o365prov has applied to Microsoft 365:
// per channel, the directory objects it provisioned (source GUID ↔ Entra
// object id, the values it last wrote, retry bookkeeping), the memberships it
// added, the change-detection watermark, cycles, held plans, the audit log,
// small settings and the leases that make exactly one node run a channel.
//
// The engine records every write to Graph here before the next one depends on
// it, so a crash repeats at most one operation and never duplicates an object.
// Implementations therefore commit each call atomically and durably before it
// returns.
//
// Store is implemented by state/sqlite (one file, one process) and, later, by
// a PostgreSQL store shared by several nodes. Every implementation must pass
// state/conformance.
//
// Conventions every implementation follows, so that callers can rely on them:
//
//   - Times are the caller's (the engine injects its clock), except for
//     leases and node heartbeats, which run on the database's own clock so
//     that nodes whose clocks disagree still agree on who holds what. Times
//     come back in UTC,
//     truncated to the microsecond (PostgreSQL's precision); the zero time
//     round-trips as the zero time.
//   - An empty channel in a list query (Cycles, Plans, QueryAudit) means every
//     channel.
//   - A limit <= 0 means DefaultLimit.
//   - Errors match the sentinels below with errors.Is; they name the object
//     but never carry a setting's value or a connection secret.
package state

import (
	"errors"
	"time"
)

// Sentinel errors, matched with errors.Is.
var (
	// ErrNotFound: no object, plan, cycle or setting by that key.
	ErrNotFound = errors.New("not found")
	// ErrConflict: a compare-and-set lost (SetPlanStatus) or a plan ID is
	// already taken (PutPlan).
	ErrConflict = errors.New("conflict")
	// ErrLeaseHeld: another holder's lease has not expired.
	ErrLeaseHeld = errors.New("lease held by another node")
	// ErrLeaseLost: RenewLease found the lease expired, released or taken;
	// the caller must stop work it does under the lease. When another node
	// holds it, the error matches ErrLeaseHeld too.
	ErrLeaseLost = errors.New("lease lost")
	// ErrInvalid: the caller passed a value the store cannot record (an
	// unknown kind, an empty key, …). Nothing was written.
	ErrInvalid = errors.New("invalid")
)

// DefaultLimit is the number of rows a list query returns when its limit is
// zero or negative.
const DefaultLimit = 1000

// Kind is the kind of a provisioned directory object.
type Kind string

// The kinds of object o365prov provisions.
const (
	KindUser  Kind = "user"
	KindGroup Kind = "group"
)

// Status is the outcome of the last attempt on an object.
type Status string

// Statuses of the last attempt on an object.
const (
	StatusOK Status = "ok"
	// StatusPending: a write to Graph was started and its outcome not yet
	// recorded; after a crash the engine must find out what happened.
	StatusPending Status = "pending"
	StatusFailed  Status = "failed"
)

// Lifecycle is what o365prov has made of the object in Entra.
type Lifecycle string

// Lifecycles of an object in Entra.
const (
	LifecycleActive   Lifecycle = "active"
	LifecycleDisabled Lifecycle = "disabled"
	LifecycleDeleted  Lifecycle = "deleted"
	// LifecycleNone: known, never created (e.g. disabled in the source while
	// provisionDisabledUsers is off).
	LifecycleNone Lifecycle = "none"
)

// Object is what the engine knows of one provisioned directory object. It is
// keyed by Channel, Kind and GUID.
type Object struct {
	Channel string
	Kind    Kind
	GUID    string // source GUID, canonical text
	DN      string // current source DN; lookups by DN ignore case
	GraphID string // Entra object id, "" until created or linked

	// Applied is the last value o365prov applied to each mapped target field,
	// as canonical JSON encoded by the engine (compare bytes). It also holds
	// licences ("skuId", "disabledPlans"), the manager's source GUID, etc.
	// A put replaces it wholly; reads return a non-nil map.
	Applied map[string]string

	Lifecycle Lifecycle
	Status    Status
	Attempts  int       // consecutive failed attempts
	NextRetry time.Time // a failed or pending object is due from then (zero: at once)
	LastError string
	DeletedAt time.Time // when o365prov deleted it in Entra (start of the restore window)
	UpdatedAt time.Time // the caller's clock
}

// ChannelState is a channel's change-detection position and its schedule
// marks.
type ChannelState struct {
	Name         string
	Watermark    []byte // opaque, from the directory package
	LastCycle    time.Time
	LastFullSync time.Time
}

// Cycle kinds.
const (
	CycleIncremental = "incremental"
	CycleFull        = "full"
	CyclePush        = "push"
	CycleDryRun      = "dry-run"
	CycleApproved    = "approved" // applies a held plan an operator approved
)

// Cycle results.
const (
	CycleRunning = "running"
	CycleOK      = "ok"
	CyclePartial = "partial" // some objects failed
	CycleHeld    = "held"
	CycleAborted = "aborted"
	CycleFailed  = "failed"
)

// Cycle is one run of a channel.
type Cycle struct {
	ID       int64 // assigned by StartCycle
	Channel  string
	Kind     string // CycleIncremental, CycleFull, CyclePush, CycleDryRun or CycleApproved
	Started  time.Time
	Finished time.Time
	Result   string         // CycleRunning, CycleOK, CyclePartial, …
	Stats    map[string]int // counts by operation/outcome
	PlanID   string
	Error    string
}

// PlanStatus is where a stored plan stands.
type PlanStatus string

// Plan statuses.
const (
	PlanHeld       PlanStatus = "held"
	PlanApproved   PlanStatus = "approved"
	PlanRejected   PlanStatus = "rejected"
	PlanApplied    PlanStatus = "applied"
	PlanSuperseded PlanStatus = "superseded"
)

// Plan is a stored plan. The engine's plan is JSON in Body; held plans wait
// for an operator. A stored plan is immutable except for its status, which
// only SetPlanStatus changes.
type Plan struct {
	ID        string
	Channel   string
	Created   time.Time
	Status    PlanStatus
	Reason    string // why it is held, e.g. "would delete 812 users (threshold 500 or 10%)"
	Summary   map[string]int
	Body      []byte // JSON
	DecidedAt time.Time
	DecidedBy string
}

// AuditEntry is one operation o365prov attempted, or decided to skip.
type AuditEntry struct {
	ID        int64 // assigned by Audit; increases with insertion
	Time      time.Time
	Channel   string
	Cycle     int64
	Kind      Kind
	GUID      string
	DN        string
	Operation string // create, update, disable, enable, delete, restore, link, assignLicense, setManager, …
	Result    string // ok | failed | skipped
	RequestID string // Graph request-id
	Detail    string // what changed or why it failed; never a secret
}

// AuditQuery selects audit entries, newest first. Zero fields do not filter.
type AuditQuery struct {
	Channel   string
	GUID      string
	Cycle     int64
	Since     time.Time // entries at or after
	Operation string
	Result    string
	Limit     int   // <= 0: DefaultLimit
	BeforeID  int64 // paging: entries with a smaller ID (the last ID of the previous page)
}

// Lease says which node runs a channel, and until when unless renewed.
// Times are the database's: leases never depend on a node's clock.
type Lease struct {
	Name string
	// Holder is the node that holds it; "" once released.
	Holder string
	// Epoch increases with every grant (a release does not reset it): the
	// fencing token a holder's writes carry.
	Epoch int64
	// Expires is when the lease lapses unless renewed (database time).
	Expires time.Time
	// Remaining is Expires minus the database's time when the lease was
	// read: zero or less once it has lapsed.
	Remaining time.Duration
	// HandoverTo asks the holder to let go at the end of its cycle: the node
	// that should take it, or HandoverAny. After a release it says who the
	// lease is reserved for.
	HandoverTo string
}

// HandoverAny asks a holder to hand a lease over to any other node.
const HandoverAny = "*"

// Held reports whether someone holds the lease as of the read.
func (l Lease) Held() bool { return l.Holder != "" && l.Remaining > 0 }

// Node is one o365prov process sharing the store (clustered mode).
type Node struct {
	Name    string // unique per process: host/pid
	Address string // where its console or SSO listens, or its host
	Version string
	Serves  []string // what it serves: channels, sso, console
	// Started and LastSeen are the database's time of the first and the
	// last heartbeat.
	Started  time.Time
	LastSeen time.Time
	// Age is the database's time when the node was read minus LastSeen.
	Age time.Duration
}
