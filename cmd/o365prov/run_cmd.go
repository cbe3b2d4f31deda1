package main

import (
	"context"
	"errors"

	"github.com/o365prov/o365prov/internal/engine"
	"github.com/o365prov/o365prov/internal/provision"
	"github.com/spf13/cobra"
)

func newRunCmd(a *app) *cobra.Command {
	var cfgPath, auditLog string
	var cpuProfile *string
	cmd := &cobra.Command{
		Use:   "run --config FILE",
		Short: "Run every active channel on its schedule until interrupted (the daemon)",
		Long: `Run every active channel: incremental cycles every interval (sooner when the
directory pushes a change), a full cycle every fullSyncInterval. A failed
cycle is logged and tried again on the next tick. A directory that cannot
be reached at start is logged for its channel and tried again with backoff
(1 s doubling to 5 min), so the daemon starts anyway. Every cycle first
gets a token for the app: a refused credential fails the cycle loudly.

With a PostgreSQL state, several nodes share the channels: each runs those
whose leases it holds, and takes over a dead node's within
state.failoverGrace (docs/deploy.md).

SIGINT or SIGTERM stops gracefully: the operations in flight finish and are
recorded, the channels' leases are released for another node to take at
once, and the process exits within 20 s. Exit status 2: a bad
configuration; 3: the state store cannot be opened.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) (err error) {
			stop, err := startCPUProfile(*cpuProfile)
			if err != nil {
				return err
			}
			defer stopCPUProfile(stop, &err)
			log, err := a.logger()
			if err != nil {
				return err
			}
			cfg, err := loadConfig(cfgPath)
			if err != nil {
				return err
			}
			ob, err := newObservability(cfg, auditLog, a.stdout, log)
			if err != nil {
				return err
			}
			defer ob.closeFn()
			sys, err := openLoaded(cmd, a, cfg, ob.options(provision.Options{Logger: log, RetryDirectory: true}))
			if err != nil {
				return err
			}
			defer sys.Close()
			ctx, cancel := context.WithCancel(cmd.Context())
			defer cancel()
			idpDone, err := startIdP(ctx, sys, log)
			if err != nil {
				return err
			}
			r := &engine.Runner{Engines: sys.Engines, Log: log, Cluster: sys.Cluster(buildVersion())}
			if cfg.Console != nil {
				lc, token := consoleListen(cfg.Console)
				if _, err := serveConsole(ctx, sys, r, ob, lc, token, log); err != nil {
					return err
				}
			}
			log.Info("o365prov running", "channels", len(sys.Engines), "config", cfgPath)
			err = r.Run(ctx)
			cancel()
			return errors.Join(err, idpDone())
		},
	}
	cpuProfile = cpuProfileFlag(cmd)
	cmd.Flags().StringVarP(&cfgPath, "config", "c", "", "configuration file")
	cmd.Flags().StringVar(&auditLog, "audit-log", "", "also write every audit entry as a JSON line to this file (- for standard output)")
	_ = cmd.MarkFlagRequired("config")
	return cmd
}
