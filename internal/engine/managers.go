package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/o365prov/o365prov/internal/state"
)

// managerIntent is a user's manager reference, resolved once every user of
// the cycle has been read (the manager may come later in the stream).
type managerIntent struct {
	su      *sourceUser
	value   string // the manager's pingSourceDN (its DN by default)
	applied string // the manager GUID state says was set
	after   int    // the operation the reference waits for
}

// references plans what a user points at: its licences now, its manager
// once the cycle's users are all known.
func (p *planner) references(ctx context.Context, su *sourceUser, applied map[string]string, after int) {
	if err := p.planLicences(ctx, su, applied, after); err != nil && p.err == nil {
		p.err = err
	}
	if _, mapped := su.desired.Fields["manager"]; !mapped && applied[keyManager] == "" {
		return
	}
	var current string
	if enc := applied[keyManager]; enc != "" {
		_ = decodeJSON(enc, &current)
	}
	p.managers = append(p.managers, managerIntent{su: su, value: su.desired.String("manager"), applied: current, after: after})
}

// planManagers resolves every manager reference of the cycle: the manager's
// DN through the users read this cycle, then through state. A manager not
// provisioned yet leaves the reference waiting (retried); a user who is
// their own manager, or a chain that comes back to the user, is an error.
func (p *planner) planManagers(ctx context.Context) error {
	resolved := make([]string, len(p.managers))
	for i, mi := range p.managers {
		if mi.value == "" {
			continue
		}
		g, err := p.resolveManager(ctx, mi.value)
		if err != nil {
			return err
		}
		resolved[i] = g
		if g != "" {
			p.managerOf[mi.su.entry.GUID] = g
		}
	}
	for i, mi := range p.managers {
		su, g := mi.su, resolved[i]
		switch {
		case mi.value == "" && mi.applied != "":
			p.b.add(Op{Type: OpRemoveManager, Kind: KindUser, GUID: su.entry.GUID, DN: su.entry.DN, Name: upnOf(su),
				Record: map[string]string{keyManager: ""}, DependsOn: ids(mi.after), Reason: "manager cleared in the directory"})
		case mi.value == "":
		case g == "":
			p.b.problem(KindUser, su.entry.GUID, su.entry.DN, "manager %s is not provisioned (yet): the reference waits and is retried", mi.value)
		case g == su.entry.GUID:
			p.b.problem(KindUser, su.entry.GUID, su.entry.DN, "is their own manager (manager %s)", mi.value)
		case g == mi.applied:
		default:
			if loop, err := p.managerLoop(ctx, su.entry.GUID); err != nil {
				return err
			} else if loop {
				p.b.problem(KindUser, su.entry.GUID, su.entry.DN, "manager chain comes back to this user (manager %s): not set", mi.value)
				continue
			}
			p.b.add(Op{Type: OpSetManager, Kind: KindUser, GUID: su.entry.GUID, DN: su.entry.DN, Name: upnOf(su), Target: g,
				Record: map[string]string{keyManager: canon(g)}, DependsOn: append(ids(mi.after), p.b.after(g)...),
				Reason: "manager set in the directory: " + mi.value})
		}
	}
	p.managers = nil
	return nil
}

// resolveManager finds the GUID of the user whose pingSourceDN is value:
// among the users read this cycle, then in state by DN, then — when
// pingSourceDN is mapped to something else than the DN — by the value
// recorded with each user.
func (p *planner) resolveManager(ctx context.Context, value string) (string, error) {
	if g, ok := p.userByDN[normDN(value)]; ok {
		return g, nil
	}
	o, err := p.store.ObjectByDN(ctx, p.channel(), state.KindUser, value)
	switch {
	case errors.Is(err, state.ErrNotFound):
		return p.resolveBySourceKey(ctx, value)
	case err != nil:
		return "", fmt.Errorf("resolve manager %s: %w", value, err)
	case o.GraphID == "" || o.Lifecycle == state.LifecycleDeleted || o.Lifecycle == state.LifecycleNone:
		return "", nil
	}
	return o.GUID, nil
}

// managerLoop follows the manager chain from a user, through this cycle's
// references and then state, and reports whether it returns to the user.
func (p *planner) managerLoop(ctx context.Context, start string) (bool, error) {
	seen := map[string]bool{start: true}
	g := start
	for depth := 0; depth < 1000; depth++ {
		next, ok := p.managerOf[g]
		if !ok {
			o, err := p.store.Object(ctx, p.channel(), state.KindUser, g)
			if errors.Is(err, state.ErrNotFound) {
				return false, nil
			}
			if err != nil {
				return false, fmt.Errorf("follow manager chain: %w", err)
			}
			if enc := o.Applied[keyManager]; enc == "" || decodeJSON(enc, &next) != nil {
				return false, nil
			}
		}
		if next == "" {
			return false, nil
		}
		if next == start {
			return true, nil
		}
		if seen[next] {
			return false, nil // a loop above this user: reported for its members
		}
		seen[next] = true
		g = next
	}
	return false, nil
}

// keySourceDN is where state keeps a user's pingSourceDN when it is not its
// DN (PingFederate lets it be any unique attribute).
const keySourceDN = "_pingSourceDN"

// withSourceKey adds to a record the user's pingSourceDN when it differs
// from the DN, or forgets one that no longer does.
func withSourceKey(record map[string]string, su *sourceUser, applied map[string]string) map[string]string {
	v := su.desired.String("pingSourceDN")
	switch {
	case v != "" && normDN(v) != normDN(su.entry.DN):
		if enc := canon(v); applied[keySourceDN] != enc {
			record[keySourceDN] = enc
		}
	case applied[keySourceDN] != "":
		record[keySourceDN] = ""
	}
	return record
}

// resolveBySourceKey finds a provisioned user by a recorded pingSourceDN,
// reading state once per cycle to index them.
func (p *planner) resolveBySourceKey(ctx context.Context, value string) (string, error) {
	if p.sourceKeys == nil {
		p.sourceKeys = map[string]string{}
		err := p.store.Objects(ctx, p.channel(), state.KindUser, func(o state.Object) error {
			if enc := o.Applied[keySourceDN]; enc != "" && isProvisioned(&o) {
				p.sourceKeys[normDN(jsonString(enc))] = o.GUID
			}
			return nil
		})
		if err != nil {
			return "", fmt.Errorf("index pingSourceDN of channel %s: %w", p.channel(), err)
		}
	}
	return p.sourceKeys[normDN(value)], nil
}
