package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/o365prov/o365prov/internal/config"
	"github.com/o365prov/o365prov/internal/mapping"
	"github.com/o365prov/o365prov/internal/state"
)

// planner computes one cycle's plan. It reads the target (to match existing
// users and resolve licence names) but never writes to it.
type planner struct {
	ch     *config.Channel
	store  Store
	target Target
	users  *mapping.Mapper
	groups *mapping.Mapper
	now    time.Time
	b      *builder

	// in-cycle indexes
	userByDN  map[string]string // normalised DN (or pingSourceDN) → GUID of source users seen this cycle
	managerOf map[string]string // user GUID → manager GUID, for cycle detection
	seen      map[string]bool   // GUIDs of source users read this cycle
	// provisioned are users read this cycle that exist in Entra already.
	provisioned map[string]bool
	// newUsers are entries created, linked or restored this cycle, whose
	// group memberships are looked up through memberOf.
	newUsers []Entry
	pending  []sourceUser // users without a target object yet: matched in bulk
	skus     *skuCatalog
	domains  *domainSet
	managers []managerIntent
	// sourceKeys are provisioned users by a pingSourceDN that is not their
	// DN, read from state when a manager is not found otherwise.
	sourceKeys map[string]string
	// targetByID is the tenant's users by id, read for a Verify cycle.
	targetByID map[string]*TargetUser
	population int
	// err is the first error of a read the plan depends on (subscribed
	// SKUs, state); the cycle fails with it rather than plan without.
	err error
}

// sourceUser is an in-scope directory user and the object wanted for it.
type sourceUser struct {
	entry   Entry
	desired mapping.Object
	enabled bool
	state   *state.Object // nil when o365prov has never seen it
}

func (p *planner) channel() string { return p.ch.Name }

// mapEntry turns a directory entry into a sourceUser, or records why not.
func (p *planner) mapUser(ctx context.Context, e Entry) (*sourceUser, error) {
	desired, err := p.users.Map(mapping.Entry{DN: e.DN, GUID: e.GUID, RawGUID: e.RawGUID, Enabled: e.Enabled, Attributes: e.Attributes})
	if err != nil {
		p.b.problem(KindUser, e.GUID, e.DN, "%v", err)
		return nil, nil
	}
	enabled := e.Enabled
	if v, ok := desired.Fields["accountEnabled"].(bool); ok {
		enabled = enabled && v
	}
	su := &sourceUser{entry: e, desired: desired, enabled: enabled}
	st, err := p.store.Object(ctx, p.channel(), state.KindUser, e.GUID)
	switch {
	case err == nil:
		su.state = &st
	case !errors.Is(err, state.ErrNotFound):
		return nil, fmt.Errorf("read state of %s: %w", e.DN, err)
	}
	return su, nil
}

// index records a user read this cycle for manager resolution.
func (p *planner) index(su *sourceUser) {
	p.seen[su.entry.GUID] = true
	key := su.entry.DN
	if v := su.desired.String("pingSourceDN"); v != "" {
		key = v
	}
	p.userByDN[normDN(key)] = su.entry.GUID
	if su.state != nil && isProvisioned(su.state) {
		p.provisioned[su.entry.GUID] = true
	}
}

// mappedKinds lists the mapped user fields with their kinds.
func mappedKinds(m *mapping.Mapper, kind func(string) (string, bool)) map[string]string {
	out := map[string]string{}
	for _, f := range m.Fields() {
		k, _ := kind(f)
		out[f] = k
	}
	return out
}
