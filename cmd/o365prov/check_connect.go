package main

import (
	"fmt"

	"github.com/o365prov/o365prov/internal/config"
	"github.com/o365prov/o365prov/internal/provision"
	"github.com/spf13/cobra"
)

// checkConnections runs check --connect's probes and prints each result;
// any failure is exit status 3.
func checkConnections(cmd *cobra.Command, a *app, cfg *config.Config) error {
	log, err := a.logger()
	if err != nil {
		return err
	}
	probes, err := provision.ProbeConnections(cmd.Context(), cfg, provision.Options{Logger: log})
	failed := 0
	for _, p := range probes {
		who := "tenant " + cfg.Target.Tenant
		if p.Channel != "" {
			who = "channel " + p.Channel
		}
		if p.Err == nil {
			fmt.Fprintf(a.stdout, "ok      %s: %s: %s\n", who, p.What, p.Found)
			continue
		}
		failed++
		fmt.Fprintf(a.stdout, "FAILED  %s: %s: %v\n", who, p.What, p.Err)
		if p.Fix != "" {
			fmt.Fprintf(a.stdout, "        to fix: %s\n", p.Fix)
		}
	}
	if err != nil {
		return err
	}
	if failed > 0 {
		return &exitError{code: exitUnreachable, err: fmt.Errorf("%d of %d connection checks failed", failed, len(probes))}
	}
	fmt.Fprintf(a.stdout, "all %d connection checks passed\n", len(probes))
	return nil
}
