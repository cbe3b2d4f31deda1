package provision

import (
	"context"

	"github.com/o365prov/o365prov/internal/engine"
	"github.com/o365prov/o365prov/internal/graph"
)

var _ engine.ReconcilingRestorer = target{}

// RestoreUserAs restores a soft-deleted user under upn (its own when
// empty), dropping the proxy addresses other objects now hold.
func (t target) RestoreUserAs(ctx context.Context, id, upn string) (engine.WriteResult, error) {
	o := graph.RestoreOptions{NewUserPrincipalName: upn, AutoReconcileProxyConflict: true}
	return t.write(ctx, graph.RestoreWithOptionsRequest(id, o), "restore user "+id+" reconciling conflicts")
}
