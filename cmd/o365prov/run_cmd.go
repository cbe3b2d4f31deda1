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
cycle is logged and tried again on the next tick. A directory that cannot
be reached at start is logged for its channel and tried again with backoff
(1 s doubling to 5 min), so the daemon starts anyway. Every cycle first
gets a token for the app: a refused credential fails the cycle loudly.
SIGINT or SIGTERM stops after the operations in flight. Exit status 2: a
bad configuration; 3: the state store cannot be opened.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := a.logger()
			if err != nil {
				return err
			}
			sys, err := openSystem(cmd, a, cfgPath, provision.Options{Logger: log, RetryDirectory: true})
			if err != nil {
				return err
			}
			defer sys.Close()
			r := &engine.Runner{Engines: sys.Engines, Log: log}
			log.Info("o365prov running", "channels", len(sys.Engines), "config", cfgPath)
			return r.Run(cmd.Context())
		},
	}
	cmd.Flags().StringVarP(&cfgPath, "config", "c", "", "configuration file")
	_ = cmd.MarkFlagRequired("config")
	return cmd
}
