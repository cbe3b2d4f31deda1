package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// ReconcilingRestorer is a Target that can restore a user under a given
// userPrincipalName, dropping the proxy addresses other objects now hold.
// Entra lets an active user take a soft-deleted user's UPN and addresses,
// and the plain restore then fails with a conflict (docs/graph.md §14).
type ReconcilingRestorer interface {
	RestoreUserAs(ctx context.Context, id, upn string) (WriteResult, error)
}

// restoreUser restores a soft-deleted user. When the plain restore
// conflicts and the target can, it restores again under the UPN the
// directory wants now, without the addresses others took. If someone else
// holds that UPN too, the conflict is reported and nothing changes: the
// other user is never touched. It returns the writes it made.
func (e *Engine) restoreUser(ctx context.Context, id, upn string) (WriteResult, int, error) {
	w, err := e.target.RestoreUser(ctx, id)
	if err == nil || !errors.Is(err, ErrConflict) {
		return w, 1, err
	}
	rr, ok := e.target.(ReconcilingRestorer)
	if !ok {
		return w, 1, err
	}
	if !strings.Contains(upn, "@") {
		upn = "" // no UPN known: keep the deleted user's own
	}
	w, rerr := rr.RestoreUserAs(ctx, id, upn)
	if rerr != nil {
		return w, 2, fmt.Errorf("%w (restoring as %s without the addresses others hold: %w)", err, upn, rerr)
	}
	return w, 2, nil
}

// desiredUPN is the userPrincipalName an operation gives a user: the
// written field, else its name when that is a UPN.
func desiredUPN(op *Op) string {
	if u, _ := op.Fields["userPrincipalName"].(string); u != "" {
		return u
	}
	return op.Name
}
