package engine

import (
	"context"
	"errors"
)

// Target is Entra ID as the engine uses it. Writes return the Graph
// request-id for the audit log; their errors wrap the sentinels below so the
// engine can tell a conflict from a lost response without knowing Graph.
type Target interface {
	ListUsers(ctx context.Context, props []string, fn func(TargetUser) error) error
	// FindUser looks a user up by onPremisesImmutableId, then by
	// userPrincipalName; nil when neither exists.
	FindUser(ctx context.Context, immutableID, upn string, props []string) (*TargetUser, error)
	ListDeletedUsers(ctx context.Context, fn func(TargetUser) error) error
	ListGroups(ctx context.Context, fn func(TargetGroup) error) error
	// FindGroups returns the groups that carry sourceID as their source
	// anchor: the groups o365prov created for that directory entry.
	FindGroups(ctx context.Context, sourceID string) ([]TargetGroup, error)
	SKUs(ctx context.Context) ([]SKU, error)
	// VerifiedDomains lists the tenant's verified domain names: the only
	// domains a userPrincipalName may be in.
	VerifiedDomains(ctx context.Context) ([]string, error)

	CreateUser(ctx context.Context, props map[string]any) (WriteResult, error)
	UpdateUser(ctx context.Context, id string, props map[string]any) (WriteResult, error)
	DeleteUser(ctx context.Context, id string) (WriteResult, error)
	RestoreUser(ctx context.Context, id string) (WriteResult, error)
	AssignLicense(ctx context.Context, id string, add []Assignment, remove []string) (WriteResult, error)
	SetManager(ctx context.Context, id, managerID string) (WriteResult, error)
	RemoveManager(ctx context.Context, id string) (WriteResult, error)
	// CreateGroup creates a group with up to 20 first members, marked with
	// sourceID as its source anchor (read back by FindGroups).
	CreateGroup(ctx context.Context, sourceID string, props map[string]any, memberIDs []string) (WriteResult, error)
	UpdateGroup(ctx context.Context, id string, props map[string]any) (WriteResult, error)
	DeleteGroup(ctx context.Context, id string) (WriteResult, error)
	AddMembers(ctx context.Context, groupID string, memberIDs []string) (WriteResult, error)
	RemoveMember(ctx context.Context, groupID, memberID string) (WriteResult, error)
}

// WriteResult is what a successful write tells: the new object's id (on
// create) and the request-id to audit.
type WriteResult struct {
	ID        string
	RequestID string
}

// TargetUser is a user as Entra holds it.
type TargetUser struct {
	ID                string
	UserPrincipalName string
	ImmutableID       string
	AccountEnabled    bool
	Properties        map[string]any // the mapped properties that were asked for
	Licenses          []Assignment
	DeletedDateTime   string
}

// TargetGroup is a group as Entra holds it.
type TargetGroup struct {
	ID           string
	DisplayName  string
	MailNickname string
	// SourceID is the source anchor o365prov wrote when it created the
	// group; empty for a group it did not create.
	SourceID string
}

// SKU is a subscribed licence with its plans.
type SKU struct {
	SkuID         string
	SkuPartNumber string
	Plans         map[string]string // servicePlanName → servicePlanId
	Enabled       int
	Consumed      int
}

// Errors a Target wraps so the engine can act on them.
var (
	ErrNotFound        = errors.New("not found in Entra")
	ErrConflict        = errors.New("conflicts with an existing object")
	ErrOutcomeUnknown  = errors.New("outcome unknown")
	ErrNoUsageLocation = errors.New("no usage location")
	ErrNoFreeLicenses  = errors.New("no free licences")
	ErrRejected        = errors.New("rejected by Entra")
)
