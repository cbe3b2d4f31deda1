package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// memTarget is a tenant held in memory. fault, when set, is asked before
// each call: an error fails the call; applied says whether a write was
// nevertheless done (its answer lost).
type memTarget struct {
	mu      sync.Mutex
	n       int
	users   map[string]*TargetUser
	groups  map[string]*TargetGroup
	members map[string]map[string]bool
	manager map[string]string
	fault   func(call string) (err error, applied bool)
	calls   map[string]int
}

func newMemTarget() *memTarget {
	return &memTarget{users: map[string]*TargetUser{}, groups: map[string]*TargetGroup{}, members: map[string]map[string]bool{}, manager: map[string]string{}, calls: map[string]int{}}
}

// check asks the fault hook; it holds no lock.
func (t *memTarget) check(call string) (error, bool) {
	t.mu.Lock()
	t.calls[call]++
	f := t.fault
	t.mu.Unlock()
	if f == nil {
		return nil, true
	}
	return f(call)
}

func (t *memTarget) read(call string) error {
	err, _ := t.check(call)
	return err
}

// write runs do unless the fault hook fails the call without applying it.
func (t *memTarget) write(call string, do func() (WriteResult, error)) (WriteResult, error) {
	ferr, applied := t.check(call)
	if ferr != nil && !applied {
		return WriteResult{}, ferr
	}
	t.mu.Lock()
	w, err := do()
	t.mu.Unlock()
	if ferr != nil {
		return WriteResult{}, ferr
	}
	return w, err
}

func (t *memTarget) id() string { t.n++; return fmt.Sprintf("id-%04d", t.n) }

func (t *memTarget) ListUsers(_ context.Context, _ []string, fn func(TargetUser) error) error {
	if err := t.read("ListUsers"); err != nil {
		return err
	}
	for _, u := range t.liveUsers() {
		if err := fn(u); err != nil {
			return err
		}
	}
	return nil
}

func (t *memTarget) liveUsers() []TargetUser {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []TargetUser
	for _, u := range t.users {
		if u.DeletedDateTime == "" {
			out = append(out, *u)
		}
	}
	return out
}

func (t *memTarget) FindUser(_ context.Context, iid, upn string, _ []string) (*TargetUser, error) {
	if err := t.read("FindUser"); err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, u := range t.users {
		if u.DeletedDateTime == "" && iid != "" && u.ImmutableID == iid {
			c := *u
			return &c, nil
		}
	}
	for _, u := range t.users {
		if u.DeletedDateTime == "" && upn != "" && strings.EqualFold(u.UserPrincipalName, upn) {
			c := *u
			return &c, nil
		}
	}
	return nil, nil
}

func (t *memTarget) ListDeletedUsers(_ context.Context, fn func(TargetUser) error) error {
	if err := t.read("ListDeletedUsers"); err != nil {
		return err
	}
	t.mu.Lock()
	var out []TargetUser
	for _, u := range t.users {
		if u.DeletedDateTime != "" {
			out = append(out, *u)
		}
	}
	t.mu.Unlock()
	for _, u := range out {
		if err := fn(u); err != nil {
			return err
		}
	}
	return nil
}

func (t *memTarget) ListGroups(_ context.Context, fn func(TargetGroup) error) error {
	if err := t.read("ListGroups"); err != nil {
		return err
	}
	t.mu.Lock()
	var out []TargetGroup
	for _, g := range t.groups {
		out = append(out, *g)
	}
	t.mu.Unlock()
	for _, g := range out {
		if err := fn(g); err != nil {
			return err
		}
	}
	return nil
}

func (t *memTarget) FindGroups(_ context.Context, sourceID string) ([]TargetGroup, error) {
	if err := t.read("FindGroups"); err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []TargetGroup
	for _, g := range t.groups {
		if g.SourceID == sourceID {
			out = append(out, *g)
		}
	}
	return out, nil
}

func (t *memTarget) SKUs(context.Context) ([]SKU, error) {
	if err := t.read("SKUs"); err != nil {
		return nil, err
	}
	return []SKU{{SkuID: testSKU, SkuPartNumber: "ENTERPRISEPACK", Plans: map[string]string{}, Enabled: 1000}}, nil
}

func (t *memTarget) VerifiedDomains(context.Context) ([]string, error) {
	if err := t.read("VerifiedDomains"); err != nil {
		return nil, err
	}
	return []string{"example.com"}, nil
}

func str(v any) string { s, _ := v.(string); return s }

func (t *memTarget) CreateUser(_ context.Context, props map[string]any) (WriteResult, error) {
	return t.write("CreateUser", func() (WriteResult, error) {
		upn, iid := str(props["userPrincipalName"]), str(props["onPremisesImmutableId"])
		for _, u := range t.users {
			if strings.EqualFold(u.UserPrincipalName, upn) || (iid != "" && u.ImmutableID == iid) {
				return WriteResult{}, fmt.Errorf("create %s: %w", upn, ErrConflict)
			}
		}
		enabled, _ := props["accountEnabled"].(bool)
		u := &TargetUser{ID: t.id(), UserPrincipalName: upn, ImmutableID: iid, AccountEnabled: enabled, Properties: map[string]any{}}
		for k, v := range props {
			u.Properties[k] = v
		}
		t.users[u.ID] = u
		return WriteResult{ID: u.ID}, nil
	})
}

func (t *memTarget) UpdateUser(_ context.Context, id string, props map[string]any) (WriteResult, error) {
	return t.write("UpdateUser", func() (WriteResult, error) {
		u := t.users[id]
		if u == nil || u.DeletedDateTime != "" {
			return WriteResult{}, fmt.Errorf("user %s: %w", id, ErrNotFound)
		}
		for k, v := range props {
			switch k {
			case "accountEnabled":
				u.AccountEnabled, _ = v.(bool)
			case "userPrincipalName":
				u.UserPrincipalName = str(v)
			case "onPremisesImmutableId":
				u.ImmutableID = str(v)
			}
			u.Properties[k] = v
		}
		return WriteResult{}, nil
	})
}

func (t *memTarget) DeleteUser(_ context.Context, id string) (WriteResult, error) {
	return t.write("DeleteUser", func() (WriteResult, error) {
		u := t.users[id]
		if u == nil || u.DeletedDateTime != "" {
			return WriteResult{}, ErrNotFound
		}
		u.DeletedDateTime = "2026-01-01T00:00:00Z"
		return WriteResult{}, nil
	})
}

func (t *memTarget) RestoreUser(_ context.Context, id string) (WriteResult, error) {
	return t.write("RestoreUser", func() (WriteResult, error) {
		u := t.users[id]
		if u == nil || u.DeletedDateTime == "" {
			return WriteResult{}, ErrNotFound
		}
		u.DeletedDateTime = ""
		return WriteResult{}, nil
	})
}

func (t *memTarget) AssignLicense(_ context.Context, id string, add []Assignment, remove []string) (WriteResult, error) {
	return t.write("AssignLicense", func() (WriteResult, error) {
		u := t.users[id]
		if u == nil {
			return WriteResult{}, ErrNotFound
		}
		var keep []Assignment
		for _, l := range u.Licenses {
			if !slices.Contains(remove, l.SkuID) {
				keep = append(keep, l)
			}
		}
		for _, a := range add {
			keep = slices.DeleteFunc(keep, func(l Assignment) bool { return l.SkuID == a.SkuID })
			keep = append(keep, a)
		}
		u.Licenses = keep
		return WriteResult{}, nil
	})
}

func (t *memTarget) SetManager(_ context.Context, id, managerID string) (WriteResult, error) {
	return t.write("SetManager", func() (WriteResult, error) {
		if t.users[id] == nil || t.users[managerID] == nil {
			return WriteResult{}, ErrNotFound
		}
		t.manager[id] = managerID
		return WriteResult{}, nil
	})
}

func (t *memTarget) RemoveManager(_ context.Context, id string) (WriteResult, error) {
	return t.write("RemoveManager", func() (WriteResult, error) {
		delete(t.manager, id)
		return WriteResult{}, nil
	})
}

func (t *memTarget) CreateGroup(_ context.Context, sourceID string, props map[string]any, memberIDs []string) (WriteResult, error) {
	return t.write("CreateGroup", func() (WriteResult, error) {
		g := &TargetGroup{ID: t.id(), DisplayName: str(props["displayName"]), MailNickname: str(props["mailNickname"]), SourceID: sourceID}
		t.groups[g.ID] = g
		t.members[g.ID] = map[string]bool{}
		for _, m := range memberIDs {
			t.members[g.ID][m] = true
		}
		return WriteResult{ID: g.ID}, nil
	})
}

func (t *memTarget) UpdateGroup(_ context.Context, id string, props map[string]any) (WriteResult, error) {
	return t.write("UpdateGroup", func() (WriteResult, error) {
		g := t.groups[id]
		if g == nil {
			return WriteResult{}, ErrNotFound
		}
		if v, ok := props["displayName"]; ok {
			g.DisplayName = str(v)
		}
		if v, ok := props["mailNickname"]; ok {
			g.MailNickname = str(v)
		}
		if v, ok := props[AnchorField]; ok {
			g.SourceID = str(v)
		}
		return WriteResult{}, nil
	})
}

func (t *memTarget) DeleteGroup(_ context.Context, id string) (WriteResult, error) {
	return t.write("DeleteGroup", func() (WriteResult, error) {
		if t.groups[id] == nil {
			return WriteResult{}, ErrNotFound
		}
		delete(t.groups, id)
		delete(t.members, id)
		return WriteResult{}, nil
	})
}

func (t *memTarget) AddMembers(_ context.Context, groupID string, memberIDs []string) (WriteResult, error) {
	return t.write("AddMembers", func() (WriteResult, error) {
		if t.members[groupID] == nil {
			return WriteResult{}, ErrNotFound
		}
		for _, m := range memberIDs {
			t.members[groupID][m] = true
		}
		return WriteResult{}, nil
	})
}

func (t *memTarget) RemoveMember(_ context.Context, groupID, memberID string) (WriteResult, error) {
	return t.write("RemoveMember", func() (WriteResult, error) {
		delete(t.members[groupID], memberID)
		return WriteResult{}, nil
	})
}

// counts is what the tenant holds: the numbers every fault test checks.
type counts struct{ Users, Enabled, Groups, Memberships, Licences, Managers int }

func (t *memTarget) counts() counts {
	t.mu.Lock()
	defer t.mu.Unlock()
	var c counts
	for _, u := range t.users {
		if u.DeletedDateTime != "" {
			continue
		}
		c.Users++
		if u.AccountEnabled {
			c.Enabled++
		}
		c.Licences += len(u.Licenses)
		if t.manager[u.ID] != "" {
			c.Managers++
		}
	}
	c.Groups = len(t.groups)
	for _, m := range t.members {
		c.Memberships += len(m)
	}
	return c
}

func (t *memTarget) userByUPN(upn string) *TargetUser {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, u := range t.users {
		if u.DeletedDateTime == "" && strings.EqualFold(u.UserPrincipalName, upn) {
			c := *u
			return &c
		}
	}
	return nil
}
