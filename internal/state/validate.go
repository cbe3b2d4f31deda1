package state

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Stores validate what they are given with these functions before writing,
// so that every implementation rejects the same input with the same words.

// The allowed values, for messages.
const (
	kindList        = "user, group"
	statusList      = "ok, pending, failed"
	lifecycleList   = "active, disabled, deleted, none"
	planStatusList  = "held, approved, rejected, applied, superseded"
	cycleKindList   = "incremental, full, push, dry-run, approved"
	cycleResultList = "running, ok, partial, held, aborted, failed"
)

// Valid reports whether k is one of the kinds.
func (k Kind) Valid() bool { return k == KindUser || k == KindGroup }

// Valid reports whether s is one of the statuses.
func (s Status) Valid() bool {
	switch s {
	case StatusOK, StatusPending, StatusFailed:
		return true
	}
	return false
}

// Valid reports whether l is one of the lifecycles.
func (l Lifecycle) Valid() bool {
	switch l {
	case LifecycleActive, LifecycleDisabled, LifecycleDeleted, LifecycleNone:
		return true
	}
	return false
}

// Valid reports whether s is one of the plan statuses.
func (s PlanStatus) Valid() bool {
	switch s {
	case PlanHeld, PlanApproved, PlanRejected, PlanApplied, PlanSuperseded:
		return true
	}
	return false
}

func validCycleKind(k string) bool {
	switch k {
	case CycleIncremental, CycleFull, CyclePush, CycleDryRun, CycleApproved:
		return true
	}
	return false
}

func validCycleResult(r string) bool {
	switch r {
	case CycleRunning, CycleOK, CyclePartial, CycleHeld, CycleAborted, CycleFailed:
		return true
	}
	return false
}

// String names the object for messages: channel/kind/guid.
func (o Object) String() string { return ObjectKey(o.Channel, o.Kind, o.GUID) }

// ObjectKey names an object for messages: channel/kind/guid.
func ObjectKey(channel string, kind Kind, guid string) string {
	return channel + "/" + string(kind) + "/" + guid
}

// Validate reports why o cannot be stored, with ErrInvalid.
func (o Object) Validate() error {
	switch {
	case o.Channel == "":
		return invalid("object %s: empty channel", o)
	case !o.Kind.Valid():
		return invalid("object %s: kind %q is not one of %s", o, o.Kind, kindList)
	case o.GUID == "":
		return invalid("object %s: empty GUID", o)
	case !o.Lifecycle.Valid():
		return invalid("object %s: lifecycle %q is not one of %s", o, o.Lifecycle, lifecycleList)
	case !o.Status.Valid():
		return invalid("object %s: status %q is not one of %s", o, o.Status, statusList)
	case o.Attempts < 0:
		return invalid("object %s: attempts %d is negative", o, o.Attempts)
	}
	return nil
}

// ValidateObjectKey reports why channel, kind and guid cannot name an object.
func ValidateObjectKey(channel string, kind Kind, guid string) error {
	return ValidateChannelKind(channel, kind, guid == "", "GUID")
}

// ValidateChannelKind reports why channel and kind cannot select objects;
// emptyKey and keyName check the key that comes with them (DN, GUID, …).
func ValidateChannelKind(channel string, kind Kind, emptyKey bool, keyName string) error {
	switch {
	case channel == "":
		return invalid("empty channel")
	case !kind.Valid():
		return invalid("kind %q is not one of %s", kind, kindList)
	case emptyKey:
		return invalid("empty %s", keyName)
	}
	return nil
}

// ValidateMembers reports why a membership change cannot be recorded.
func ValidateMembers(channel, groupGUID string, memberGUIDs []string) error {
	switch {
	case channel == "":
		return invalid("empty channel")
	case groupGUID == "":
		return invalid("empty group GUID")
	case slices.Contains(memberGUIDs, ""):
		return invalid("group %s: empty member GUID", groupGUID)
	}
	return nil
}

// Validate reports why c cannot be stored, with ErrInvalid.
func (c ChannelState) Validate() error {
	if c.Name == "" {
		return invalid("channel: empty name")
	}
	return nil
}

// ValidateStart reports why c cannot be recorded by StartCycle.
func (c Cycle) ValidateStart() error {
	switch {
	case c.Channel == "":
		return invalid("cycle: empty channel")
	case !validCycleKind(c.Kind):
		return invalid("cycle of %s: kind %q is not one of %s", c.Channel, c.Kind, cycleKindList)
	case c.Started.IsZero():
		return invalid("cycle of %s: zero start time", c.Channel)
	case c.Result != "" && !validCycleResult(c.Result):
		return invalid("cycle of %s: result %q is not one of %s", c.Channel, c.Result, cycleResultList)
	}
	return nil
}

// ValidateFinish reports why c cannot be recorded by FinishCycle.
func (c Cycle) ValidateFinish() error {
	switch {
	case c.ID <= 0:
		return invalid("cycle %d: no such ID", c.ID)
	case !validCycleResult(c.Result):
		return invalid("cycle %d: result %q is not one of %s", c.ID, c.Result, cycleResultList)
	}
	return nil
}

// Validate reports why p cannot be stored, with ErrInvalid.
func (p Plan) Validate() error {
	switch {
	case p.ID == "":
		return invalid("plan: empty ID")
	case p.Channel == "":
		return invalid("plan %s: empty channel", p.ID)
	case !p.Status.Valid():
		return invalid("plan %s: status %q is not one of %s", p.ID, p.Status, planStatusList)
	case p.Created.IsZero():
		return invalid("plan %s: zero creation time", p.ID)
	}
	return nil
}

// ValidatePlanStatuses reports why a plan status (as in SetPlanStatus or
// Plans) is not one of the plan statuses.
func ValidatePlanStatuses(ss ...PlanStatus) error {
	for _, s := range ss {
		if !s.Valid() {
			return invalid("plan status %q is not one of %s", s, planStatusList)
		}
	}
	return nil
}

// Validate reports why e cannot be appended to the audit log.
func (e AuditEntry) Validate() error {
	switch {
	case e.Time.IsZero():
		return invalid("audit entry %s %s: zero time", e.Operation, e.GUID)
	case e.Operation == "":
		return invalid("audit entry for %s: empty operation", e.GUID)
	case e.Kind != "" && !e.Kind.Valid():
		return invalid("audit entry %s %s: kind %q is not empty or one of %s", e.Operation, e.GUID, e.Kind, kindList)
	}
	return nil
}

// ValidateLease reports why a lease cannot be taken or renewed.
func ValidateLease(name, holder string, ttl time.Duration) error {
	switch {
	case name == "":
		return invalid("lease: empty name")
	case holder == "":
		return invalid("lease %s: empty holder", name)
	case ttl <= 0:
		return invalid("lease %s: ttl %v is not positive", name, ttl)
	}
	return nil
}

// ValidateNode reports why a node cannot be recorded.
func ValidateNode(n Node) error {
	if n.Name == "" {
		return invalid("node: empty name")
	}
	for _, s := range n.Serves {
		if s == "" || strings.Contains(s, ",") {
			return invalid("node %s: serves %q (want a word without commas)", n.Name, s)
		}
	}
	return nil
}

// ValidateSettingKey reports why key cannot name a setting.
func ValidateSettingKey(key string) error {
	if key == "" {
		return invalid("setting: empty key")
	}
	return nil
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w "+format, append([]any{ErrInvalid}, args...)...)
}
