package main

import (
	"github.com/o365prov/o365prov/internal/engine"
	"github.com/o365prov/o365prov/internal/provision"
	"github.com/spf13/cobra"
)

func newRunCmd(a *app) *cobra.Command {
	var cfgPath string
	cmd := &cobra.Command{
		Use:   "run --config FILE",
		Short: "Run every active channel on its schedule until interrupted (the daemon)",
		Long: `Run every active channel: incremental cycles every interval (sooner when the
directory pushes a change), a full cycle every fullSyncInterval. A failed
cycle is logged and tried again on the next tick.

With a PostgreSQL state, several nodes share the channels: each runs those
whose leases it holds, and takes over a dead node's within
state.failoverGrace (docs/deploy.md).

SIGINT or SIGTERM stops gracefully: the operations in flight finish and are
recorded, the channels' leases are released for another node to take at
once, and the process exits within 20 s.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := a.logger()
			if err != nil {
				return err
			}
			sys, err := openSystem(cmd, a, cfgPath, provision.Options{Logger: log})
			if err != nil {
				return err
			}
			defer sys.Close()
			r := &engine.Runner{Engines: sys.Engines, Log: log, Cluster: sys.Cluster(buildVersion())}
			log.Info("o365prov running", "channels", len(sys.Engines), "config", cfgPath)
			return r.Run(cmd.Context())
		},
	}
	cmd.Flags().StringVarP(&cfgPath, "config", "c", "", "configuration file")
	_ = cmd.MarkFlagRequired("config")
	return cmd
}
