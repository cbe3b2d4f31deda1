package provision

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/o365prov/o365prov/internal/engine"
	"github.com/o365prov/o365prov/internal/graph"
)

// target is the engine's view of Entra ID over the Graph client. It turns
// Graph's errors into the engine's sentinels, so the engine decides on a
// conflict or a lost answer without knowing Graph.
type target struct {
	c       *graph.Client
	cred    *credentialCheck
	anchors *anchors
}

// Authenticate proves, before a cycle plans, that the app can still get a
// token: a wrong or expired secret fails the cycle even when it has
// nothing to write.
func (t target) Authenticate(ctx context.Context) error {
	return t.cred.authenticate(ctx)
}

// userSelect is what a user listing or lookup always reads besides the
// mapped properties.
var userSelect = []string{"id", "userPrincipalName", "onPremisesImmutableId", "accountEnabled", "assignedLicenses", "usageLocation"}

func (t target) ListUsers(ctx context.Context, props []string, fn func(engine.TargetUser) error) error {
	for u, err := range t.c.ListUsers(ctx, graph.Query{Select: selectProps(props), Top: 999}) {
		if err != nil {
			return fmt.Errorf("list users: %w", err)
		}
		if err := fn(toTargetUser(u, props)); err != nil {
			return err
		}
	}
	return nil
}

func (t target) FindUser(ctx context.Context, immutableID, upn string, props []string) (*engine.TargetUser, error) {
	sel := selectProps(props)
	if immutableID != "" {
		u, err := t.c.FindUserByImmutableID(ctx, immutableID, sel...)
		switch {
		case err == nil:
			tu := toTargetUser(u, props)
			return &tu, nil
		case !graph.IsNotFound(err):
			return nil, fmt.Errorf("find user by onPremisesImmutableId: %w", err)
		}
	}
	if upn == "" {
		return nil, nil
	}
	u, err := t.c.FindUserByUPN(ctx, upn, sel...)
	switch {
	case err == nil:
		tu := toTargetUser(u, props)
		return &tu, nil
	case graph.IsNotFound(err):
		return nil, nil
	default:
		return nil, fmt.Errorf("find user %s: %w", upn, err)
	}
}

// deletedSelect is what matching needs of a deleted user: Graph's default
// properties of deleted items leave the anchor out.
var deletedSelect = []string{"id", "userPrincipalName", "onPremisesImmutableId", "accountEnabled", "displayName", "deletedDateTime"}

func (t target) ListDeletedUsers(ctx context.Context, fn func(engine.TargetUser) error) error {
	for d, err := range t.c.ListDeleted(ctx, graph.DeletedUsers, graph.Query{Select: deletedSelect}) {
		if err != nil {
			return fmt.Errorf("list deleted users: %w", err)
		}
		tu := engine.TargetUser{ID: d.ID, UserPrincipalName: d.UserPrincipalName, ImmutableID: d.OnPremisesImmutableID, Properties: rawProps(d.Property, nil)}
		if d.DeletedDateTime != nil {
			tu.DeletedDateTime = d.DeletedDateTime.String()
		}
		var enabled bool
		if ok, _ := d.Property("accountEnabled", &enabled); ok {
			tu.AccountEnabled = enabled
		}
		if err := fn(tu); err != nil {
			return err
		}
	}
	return nil
}

func (t target) SKUs(ctx context.Context) ([]engine.SKU, error) {
	skus, err := t.c.SubscribedSkus(ctx)
	if err != nil {
		return nil, fmt.Errorf("read subscribed SKUs: %w", err)
	}
	out := make([]engine.SKU, len(skus))
	for i, s := range skus {
		plans := make(map[string]string, len(s.ServicePlans))
		for _, p := range s.ServicePlans {
			plans[p.ServicePlanName] = p.ServicePlanID
		}
		out[i] = engine.SKU{SkuID: s.SkuID, SkuPartNumber: s.SkuPartNumber, Plans: plans, Enabled: s.PrepaidUnits.Enabled, Consumed: s.ConsumedUnits}
	}
	return out, nil
}

// InFlight is how many operations the engine should run at once for the
// client to reach Graph's write rate at Graph's measured latency.
func (t target) InFlight() int { return t.c.InFlight() }

// write sends one write and returns Graph's request-id for the audit log.
func (t target) write(ctx context.Context, r *graph.Request, what string) (engine.WriteResult, error) {
	resp, err := t.c.Do(ctx, r)
	if err != nil {
		return engine.WriteResult{}, classify(fmt.Errorf("%s: %w", what, err))
	}
	return engine.WriteResult{RequestID: resp.RequestID}, nil
}

// create sends a create and reads the new object's id from the answer. An
// answer without one leaves the outcome unknown: the object may exist.
func (t target) create(ctx context.Context, r *graph.Request, what string) (engine.WriteResult, error) {
	resp, err := t.c.Do(ctx, r)
	if err != nil {
		return engine.WriteResult{}, classify(fmt.Errorf("%s: %w", what, err))
	}
	var made struct {
		ID string `json:"id"`
	}
	if err := resp.Decode(&made); err != nil || made.ID == "" {
		return engine.WriteResult{}, fmt.Errorf("%w: %s: Graph answered %d without the new object's id", engine.ErrOutcomeUnknown, what, resp.Status)
	}
	return engine.WriteResult{ID: made.ID, RequestID: resp.RequestID}, nil
}

func (t target) CreateUser(ctx context.Context, props map[string]any) (engine.WriteResult, error) {
	return t.create(ctx, graph.CreateUserRequest(graph.Properties(props)), "create user")
}

func (t target) UpdateUser(ctx context.Context, id string, props map[string]any) (engine.WriteResult, error) {
	return t.write(ctx, graph.PatchUserRequest(id, graph.Properties(props)), "patch user "+id)
}

func (t target) DeleteUser(ctx context.Context, id string) (engine.WriteResult, error) {
	return t.write(ctx, graph.DeleteUserRequest(id), "delete user "+id)
}

func (t target) RestoreUser(ctx context.Context, id string) (engine.WriteResult, error) {
	return t.write(ctx, graph.RestoreRequest(id), "restore user "+id)
}

func (t target) AssignLicense(ctx context.Context, id string, add []engine.Assignment, remove []string) (engine.WriteResult, error) {
	ga := make([]graph.AssignedLicense, len(add))
	for i, a := range add {
		ga[i] = graph.AssignedLicense{SkuID: a.SkuID, DisabledPlans: a.DisabledPlans}
	}
	if remove == nil {
		remove = []string{}
	}
	return t.write(ctx, graph.AssignLicenseRequest(id, ga, remove), "assign licence to "+id)
}

func (t target) SetManager(ctx context.Context, id, managerID string) (engine.WriteResult, error) {
	return t.write(ctx, t.c.SetManagerRequest(id, managerID), "set manager of "+id)
}

func (t target) RemoveManager(ctx context.Context, id string) (engine.WriteResult, error) {
	return t.write(ctx, graph.RemoveManagerRequest(id), "remove manager of "+id)
}

func (t target) DeleteGroup(ctx context.Context, id string) (engine.WriteResult, error) {
	return t.write(ctx, graph.DeleteGroupRequest(id), "delete group "+id)
}

// AddMembers goes through the client's AddMembers, which redoes a chunk
// member by member when Graph refuses it whole for one member already there.
func (t target) AddMembers(ctx context.Context, groupID string, memberIDs []string) (engine.WriteResult, error) {
	ids, err := t.c.AddMembersTraced(ctx, groupID, memberIDs)
	return engine.WriteResult{RequestID: strings.Join(ids, " ")}, classify(err)
}

func (t target) RemoveMember(ctx context.Context, groupID, memberID string) (engine.WriteResult, error) {
	return t.write(ctx, graph.RemoveMemberRequest(groupID, memberID), "remove member "+memberID+" from group "+groupID)
}

// classify wraps a Graph error in the engine's sentinel for it, keeping the
// Graph error (and its request-id) reachable.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var ge *graph.Error
	isGraph := errors.As(err, &ge)
	msg := ""
	if isGraph {
		msg = strings.ToLower(ge.Message)
	}
	switch {
	case errors.Is(err, graph.ErrOutcomeUnknown):
		return fmt.Errorf("%w: %w", engine.ErrOutcomeUnknown, err)
	case graph.IsNotFound(err):
		return fmt.Errorf("%w: %w", engine.ErrNotFound, err)
	case strings.Contains(msg, "invalid usage location"):
		return fmt.Errorf("%w: %w", engine.ErrNoUsageLocation, err)
	case strings.Contains(msg, "does not have any available licenses"):
		return fmt.Errorf("%w: %w", engine.ErrNoFreeLicenses, err)
	}
	if _, ok := graph.IsConflict(err); ok {
		return fmt.Errorf("%w: %w", engine.ErrConflict, err)
	}
	if isGraph && ge.Status >= 400 && ge.Status < 500 && ge.Status != 429 {
		return fmt.Errorf("%w: %w", engine.ErrRejected, err)
	}
	return err
}

// selectProps is what to $select: the mapped properties and what matching
// needs.
func selectProps(props []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, l := range [][]string{userSelect, props} {
		for _, p := range l {
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	return out
}

func toTargetUser(u graph.User, props []string) engine.TargetUser {
	tu := engine.TargetUser{
		ID: u.ID, UserPrincipalName: u.UserPrincipalName, ImmutableID: u.OnPremisesImmutableID,
		AccountEnabled: u.AccountEnabled != nil && *u.AccountEnabled,
		Properties:     rawProps(u.Property, props),
	}
	for _, l := range u.AssignedLicenses {
		tu.Licenses = append(tu.Licenses, engine.Assignment{SkuID: l.SkuID, DisabledPlans: l.DisabledPlans})
	}
	return tu
}

// rawProps reads the named properties of a Graph object as JSON values.
func rawProps(get func(string, any) (bool, error), names []string) map[string]any {
	out := map[string]any{}
	for _, n := range names {
		var v any
		if ok, err := get(n, &v); ok && err == nil && v != nil {
			out[n] = normalise(v)
		}
	}
	return out
}

// normalise turns JSON arrays of strings into []string, as the mapping
// produces them, so canonical forms compare equal.
func normalise(v any) any {
	l, ok := v.([]any)
	if !ok {
		return v
	}
	out := make([]string, 0, len(l))
	for _, x := range l {
		s, ok := x.(string)
		if !ok {
			return v
		}
		out = append(out, s)
	}
	return out
}
