package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/o365prov/o365prov/internal/config"
	"github.com/o365prov/o365prov/internal/state"
)

// An option that turns a kind of change off (userCreate, userUpdate,
// userDisableDelete, groupCreate) makes the plan skip it, and the skip is
// reported with the option that made it — once: state remembers the last
// skip reported for an object, so a user removed cycles ago, or a change
// still waiting, is not listed again by every cycle. A new change is a new
// skip and is reported.

// keySkipped is the Applied key of the last skip reported for an object.
const keySkipped = "_skipped"

func skipKey(reason string) string {
	sum := sha256.Sum256([]byte(reason))
	return hex.EncodeToString(sum[:8])
}

// skipOnce adds a skip to the plan unless st says it was reported.
func (p *planner) skipOnce(kind Kind, st *state.Object, guid, dn, reason string) {
	if st != nil && st.Applied[keySkipped] == skipKey(reason) {
		return
	}
	p.b.plan.Skipped = append(p.b.plan.Skipped, Problem{Kind: kind, GUID: guid, DN: dn, Reason: reason})
}

// updateOrSkip plans an update of a provisioned user, or, when userUpdate
// is off, reports the changes it skips.
func (p *planner) updateOrSkip(ctx context.Context, su *sourceUser, reason string) {
	if p.ch.Options.UserUpdate {
		p.updateUser(ctx, su, su.state.Applied, OpUpdateUser, reason)
		return
	}
	write, _ := fieldDiff(su.desired.Fields, su.desired.CreateOnly, su.state.Applied, mappedKinds(p.users, config.UserFieldKind))
	if len(write) == 0 {
		return
	}
	p.skipOnce(KindUser, su.state, su.entry.GUID, su.entry.DN, "updateUser skipped: "+strings.TrimPrefix(changedList(write), ": ")+" changed in the directory, but userUpdate is off")
}

// skips records in state the skips a plan reported, for objects state
// holds, so they are not reported again.
func (rc *recorder) skips(ctx context.Context, plan *Plan) error {
	for _, s := range plan.Skipped {
		if s.GUID == "" {
			continue
		}
		_, err := rc.e.store.Object(ctx, rc.e.ch.Name, stateKind(s.Kind), s.GUID)
		if err != nil {
			continue // not provisioned (a skipped create): nothing to remember it on
		}
		o, err := rc.object(ctx, s.Kind, s.GUID, "")
		if err != nil {
			return err
		}
		o.Applied[keySkipped] = skipKey(s.Reason)
	}
	return nil
}
