// Package engine is o365prov's provisioning spine: it reads a channel's
// directory, maps entries to the objects wanted in Entra ID, diffs them
// against what state says was applied, and turns the difference into a Plan
// — typed, ordered operations, each with its reason. A guard holds plans
// that would take access away from too many people; an executor applies the
// rest through Graph, recording every result in state before anything
// depends on it.
//
// The engine knows the directory, Graph and the store only through the small
// interfaces declared here, so each side is tested alone and swapped in
// tests.
package engine

import (
	"context"
	"errors"
	"time"

	"github.com/o365prov/o365prov/internal/state"
)

// Entry is a directory entry as the engine reads it.
type Entry struct {
	DN         string
	GUID       string
	RawGUID    []byte
	Enabled    bool
	Attributes map[string][]string
	Members    []string // groups: member DNs
	// Skip is set, with only DN, for an entry in scope that the directory
	// could not use (no GUID, an unparsable status): it is reported, and
	// whatever o365prov provisioned at that DN is left as it is — an entry
	// that cannot be read is not an entry that is gone.
	Skip string
}

// Change is one thing the directory reports since a watermark.
type Change struct {
	Kind  ChangeKind
	Entry Entry // for ChangedUser and ChangedGroup
	GUID  string
}

// ChangeKind says what changed.
type ChangeKind int

// Change kinds.
const (
	ChangedUser ChangeKind = iota
	ChangedGroup
	// DeletedObject: the directory reports an entry deleted (DirSync); GUID set.
	DeletedObject
	// ScopeChanged: the membership of a scope group changed, so who is in
	// scope must be enumerated again.
	ScopeChanged
)

// Source is the channel's directory.
type Source interface {
	// Users and Groups stream every in-scope entry. A nil error means the
	// read was complete.
	Users(ctx context.Context, attrs []string, fn func(Entry) error) error
	Groups(ctx context.Context, attrs []string, fn func(Entry) error) error
	// Watermark is the directory's current position; Changes streams what
	// changed since one and returns the next.
	Watermark(ctx context.Context) ([]byte, error)
	Changes(ctx context.Context, since []byte, attrs []string, fn func(Change) error) ([]byte, error)
	// Enumerate lists the GUID and DN of every in-scope user or group; a nil
	// error means every page came back. An entry without a usable GUID
	// comes with an empty guid.
	Enumerate(ctx context.Context, kind Kind, fn func(guid, dn string) error) error
	// Lookup reads one in-scope entry by DN (to retry an object that
	// failed); an entry gone or out of scope is an error wrapping
	// ErrNotInSource.
	Lookup(ctx context.Context, kind Kind, dn string, attrs []string) (Entry, error)
}

// ErrNotInSource: Lookup found no in-scope entry at that DN.
var ErrNotInSource = errors.New("not in the directory's scope")

// ErrStaleWatermark: the directory cannot continue from the watermark
// (another server, algorithm or scope); the cycle reads everything.
var ErrStaleWatermark = errors.New("watermark cannot be continued")

// Store is what the engine needs of state.
type Store interface {
	Channel(ctx context.Context, name string) (state.ChannelState, error)
	PutChannel(ctx context.Context, c state.ChannelState) error
	Object(ctx context.Context, channel string, kind state.Kind, guid string) (state.Object, error)
	ObjectByDN(ctx context.Context, channel string, kind state.Kind, dn string) (state.Object, error)
	PutObject(ctx context.Context, o state.Object) error
	PutObjects(ctx context.Context, os []state.Object) error
	DeleteObject(ctx context.Context, channel string, kind state.Kind, guid string) error
	Objects(ctx context.Context, channel string, kind state.Kind, fn func(state.Object) error) error
	CountObjects(ctx context.Context, channel string, kind state.Kind) (int, error)
	DueRetries(ctx context.Context, channel string, now time.Time, limit int) ([]state.Object, error)
	Members(ctx context.Context, channel, groupGUID string, fn func(memberGUID string) error) error
	AddMembers(ctx context.Context, channel, groupGUID string, memberGUIDs []string) error
	RemoveMembers(ctx context.Context, channel, groupGUID string, memberGUIDs []string) error
	StartCycle(ctx context.Context, c state.Cycle) (int64, error)
	FinishCycle(ctx context.Context, c state.Cycle) error
	PutPlan(ctx context.Context, p state.Plan) error
	Plan(ctx context.Context, id string) (state.Plan, error)
	Plans(ctx context.Context, channel string, statuses ...state.PlanStatus) ([]state.Plan, error)
	SetPlanStatus(ctx context.Context, id string, from, to state.PlanStatus, by string, at time.Time) error
	Audit(ctx context.Context, entries ...state.AuditEntry) error
}

// Clock is the engine's time; tests drive it.
type Clock func() time.Time

// ErrAborted is returned when a cycle stops before planning because the
// source could not be trusted (a failed, partial or suspiciously empty
// read). Nothing is deprovisioned.
var ErrAborted = errors.New("cycle aborted")

// ErrHeld is returned when a plan waits for an operator's approval.
var ErrHeld = errors.New("plan held for approval")
