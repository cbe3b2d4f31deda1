package engine

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// OpType is what one operation does in Entra ID.
type OpType string

// Operation types, in the order a plan applies them.
const (
	OpCreateUser    OpType = "createUser"
	OpLinkUser      OpType = "linkUser"
	OpRestoreUser   OpType = "restoreUser"
	OpUpdateUser    OpType = "updateUser"
	OpEnableUser    OpType = "enableUser"
	OpAssignLicense OpType = "assignLicense"
	OpSetManager    OpType = "setManager"
	OpRemoveManager OpType = "removeManager"
	OpCreateGroup   OpType = "createGroup"
	OpLinkGroup     OpType = "linkGroup"
	OpUpdateGroup   OpType = "updateGroup"
	OpAddMembers    OpType = "addMembers"
	OpRemoveMember  OpType = "removeMember"
	OpDeleteGroup   OpType = "deleteGroup"
	OpDisableUser   OpType = "disableUser"
	OpDeleteUser    OpType = "deleteUser"
	OpForgetGroup   OpType = "forgetGroup"
)

// Deprovisions reports whether the operation takes access away: the kind the
// delete threshold counts.
func (t OpType) Deprovisions() bool {
	return t == OpDisableUser || t == OpDeleteUser || t == OpDeleteGroup
}

// Writes is how many Graph writes the operation costs (reads cost none).
func (op Op) Writes() int {
	patch := 0
	if len(op.Fields) > 0 {
		patch = 1
	}
	switch op.Type {
	case OpLinkUser, OpLinkGroup:
		return patch
	case OpRestoreUser:
		return 1 + patch
	case OpForgetGroup:
		return 0
	}
	return 1
}

// Op is one operation of a plan. It carries everything needed to apply it
// and to record the result, so a stored plan is applied exactly as it was
// approved.
type Op struct {
	ID      int    `json:"id"`
	Type    OpType `json:"type"`
	Kind    Kind   `json:"kind"`
	GUID    string `json:"guid"`              // the object's source GUID
	DN      string `json:"dn"`                // its source DN
	Name    string `json:"name"`              // UPN or group name, for people
	GraphID string `json:"graphId,omitempty"` // known target id (link, restore, update…)

	// Fields are the Graph properties to write: every property on create,
	// the changed ones on update; a nil value clears a property.
	Fields map[string]any `json:"fields,omitempty"`
	// Licenses are the licence changes of an assignLicense.
	Licenses *LicenseChange `json:"licenses,omitempty"`
	// Target is the source GUID the operation points at: the manager of a
	// setManager, the member of a removeMember.
	Target string `json:"target,omitempty"`
	// Members are the member source GUIDs of an addMembers (at most 20).
	Members []string `json:"members,omitempty"`
	// Password is set for a create when the configuration maps none; it is
	// generated when the plan is applied and never stored.
	NeedsPassword bool `json:"needsPassword,omitempty"`
	// password is a mapped initial password: never serialised, so a stored
	// plan falls back to the global default or a random one.
	password string

	Reason    string `json:"reason"`
	DependsOn []int  `json:"dependsOn,omitempty"`

	// Record is what state learns when the operation succeeds: mapped field
	// name → canonical JSON of the value now applied ("" forgets a field).
	Record map[string]string `json:"record,omitempty"`
	// Lifecycle is the object's lifecycle after the operation ("" leaves it).
	Lifecycle string `json:"lifecycle,omitempty"`
}

// Kind is the kind of object an operation is about.
type Kind string

// Object kinds.
const (
	KindUser  Kind = "user"
	KindGroup Kind = "group"
)

// LicenseChange is one assignLicense call: everything to add and remove for
// one user.
type LicenseChange struct {
	Add    []Assignment `json:"add,omitempty"`
	Remove []string     `json:"remove,omitempty"` // skuIds
	// Names maps skuIds and plan ids to names, for people.
	Names map[string]string `json:"names,omitempty"`
}

// Assignment is one licence: a SKU and the plans of it switched off.
type Assignment struct {
	SkuID         string   `json:"skuId"`
	DisabledPlans []string `json:"disabledPlans"`
}

// Problem is an entry the plan leaves out, and why: a mapping that failed,
// a licence with no usageLocation, a manager cycle. It is recorded on the
// object and retried on a later cycle.
type Problem struct {
	Kind   Kind   `json:"kind"`
	GUID   string `json:"guid,omitempty"`
	DN     string `json:"dn"`
	Reason string `json:"reason"`
}

// Plan is every operation a cycle would perform, in order, with its reason.
type Plan struct {
	ID       string    `json:"id"`
	Channel  string    `json:"channel"`
	Mode     string    `json:"mode"` // full | incremental | push | approved
	Created  time.Time `json:"created"`
	Ops      []Op      `json:"ops"`
	Problems []Problem `json:"problems,omitempty"`
	// Skipped are changes an option turned off (userCreate, userUpdate,
	// userDisableDelete…): reported, not retried.
	Skipped []Problem `json:"skipped,omitempty"`
	// Abandoned are failed objects never provisioned that the directory no
	// longer has in scope: nothing is left to retry, and applying the plan
	// forgets them.
	Abandoned []Problem `json:"abandoned,omitempty"`

	// Population is the number of users the channel manages, the base of
	// the threshold's percentage.
	Population int `json:"population"`
	// Watermark is the directory position to commit once the plan is
	// applied; opaque.
	Watermark []byte `json:"watermark,omitempty"`
	// Held says why the plan waits for an operator ("" when it does not).
	Held string `json:"held,omitempty"`
}

// Counts returns the number of operations of each type.
func (p *Plan) Counts() map[string]int {
	c := map[string]int{}
	for _, op := range p.Ops {
		c[string(op.Type)]++
	}
	if len(p.Problems) > 0 {
		c["problems"] = len(p.Problems)
	}
	return c
}

// Deprovisions is the number of operations that take access away.
func (p *Plan) Deprovisions() int {
	n := 0
	for _, op := range p.Ops {
		if op.Type.Deprovisions() {
			n++
		}
	}
	return n
}

// Writes is the number of Graph writes the plan costs.
func (p *Plan) Writes() int {
	n := 0
	for _, op := range p.Ops {
		n += op.Writes()
	}
	return n
}

// Empty reports whether the plan changes nothing.
func (p *Plan) Empty() bool { return len(p.Ops) == 0 }

// WriteJSON writes the plan as indented JSON.
func (p *Plan) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(p)
}

// WriteTable writes the plan for people: a summary, then one line per
// operation with its reason, then the problems.
func (p *Plan) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "Plan %s for channel %s (%s): %s\n", p.ID, p.Channel, p.Mode, p.summary())
	if p.Held != "" {
		fmt.Fprintf(w, "HELD: %s\n", p.Held)
	}
	if len(p.Ops) > 0 {
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "#\tOPERATION\tOBJECT\tCHANGE\tREASON")
		for _, op := range p.Ops {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", op.ID, op.Type, op.Name, op.describe(), op.Reason)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	for _, pr := range p.Problems {
		fmt.Fprintf(w, "problem: %s %s: %s\n", pr.Kind, pr.DN, pr.Reason)
	}
	return nil
}

func (p *Plan) summary() string {
	if p.Empty() && len(p.Problems) == 0 {
		return "nothing to do"
	}
	c := p.Counts()
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys)+1)
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%d %s", c[k], k))
	}
	parts = append(parts, fmt.Sprintf("%d writes", p.Writes()))
	return strings.Join(parts, ", ")
}

// detail is what the audit log keeps of an operation: the change and why.
func (op Op) detail() string {
	d := op.describe()
	if d == "" {
		return op.Reason
	}
	return d + " — " + op.Reason
}

// describe is the CHANGE column: which fields, licences, members.
func (op Op) describe() string {
	switch op.Type {
	case OpAssignLicense:
		return op.Licenses.describe()
	case OpSetManager:
		return "manager → " + op.Target
	case OpAddMembers:
		return fmt.Sprintf("+%d members", len(op.Members))
	case OpRemoveMember:
		return "-member " + op.Target
	}
	if len(op.Fields) == 0 {
		return ""
	}
	names := make([]string, 0, len(op.Fields))
	for k, v := range op.Fields {
		if v == nil {
			k += "=∅"
		}
		names = append(names, k)
	}
	sort.Strings(names)
	if op.Type == OpCreateUser || op.Type == OpCreateGroup {
		if len(op.Members) > 0 {
			return fmt.Sprintf("%d fields, %d members", len(names), len(op.Members))
		}
		return fmt.Sprintf("%d fields", len(names))
	}
	return strings.Join(names, ",")
}

func (l *LicenseChange) describe() string {
	if l == nil {
		return ""
	}
	name := func(id string) string {
		if n := l.Names[id]; n != "" {
			return n
		}
		return id
	}
	var parts []string
	for _, a := range l.Add {
		s := "+" + name(a.SkuID)
		if len(a.DisabledPlans) > 0 {
			var plans []string
			for _, p := range a.DisabledPlans {
				plans = append(plans, name(p))
			}
			s += " (without " + strings.Join(plans, ",") + ")"
		}
		parts = append(parts, s)
	}
	for _, r := range l.Remove {
		parts = append(parts, "-"+name(r))
	}
	return strings.Join(parts, " ")
}
