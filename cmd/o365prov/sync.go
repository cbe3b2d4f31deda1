package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/o365prov/o365prov/internal/engine"
	"github.com/o365prov/o365prov/internal/provision"
	"github.com/spf13/cobra"
)

// Exit statuses of sync, for scripts.
const (
	exitHeld    = 4 // a plan waits for approval
	exitPartial = 5 // some objects failed; they are retried
)

func newSyncCmd(a *app) *cobra.Command {
	var cfgPath, channel string
	var once, full, verify, dryRun bool
	cmd := &cobra.Command{
		Use:   "sync --config FILE --channel NAME [--once] [--full] [--dry-run]",
		Short: "Provision one channel: one cycle with --once, else on its schedule",
		Long: `Provision one channel. With --once, run one cycle and exit: 0 when it
applied everything, 4 when the plan is held for approval (o365prov plan
approve), 5 when some objects failed or are still failing from an earlier
cycle, their retry due or not (they are retried on later cycles),
1 on an error (nothing is deprovisioned after a failed directory read).
Without --once, run the channel on its interval until interrupted.
--full reads every entry (catching deletions); --verify (a full cycle) also
reads every user from the tenant and repairs what was changed there by
hand; --dry-run prints the plan and applies nothing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := a.logger()
			if err != nil {
				return err
			}
			sys, err := openSystem(cmd, a, cfgPath, provision.Options{
				Logger: log, Channels: []string{channel}, Progress: newProgress(a.stderr, channel),
			})
			if err != nil {
				return err
			}
			defer sys.Close()
			e := sys.Engines[0]
			mode := cycleMode(full, verify)
			if !once {
				r := &engine.Runner{Engines: sys.Engines, Log: log}
				return r.Run(cmd.Context())
			}
			res, err := e.Sync(cmd.Context(), engine.SyncOptions{Mode: mode, DryRun: dryRun})
			return reportSync(a.stdout, channel, res, err, dryRun)
		},
	}
	cmd.Flags().StringVarP(&cfgPath, "config", "c", "", "configuration file")
	cmd.Flags().StringVar(&channel, "channel", "", "channel to run")
	cmd.Flags().BoolVar(&once, "once", false, "run one cycle and exit")
	cmd.Flags().BoolVar(&full, "full", false, "read every entry (find deletions) instead of the changes since the last cycle")
	cmd.Flags().BoolVar(&verify, "verify", false, "a full cycle that also reads the tenant and repairs drift made there")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the plan, apply nothing")
	_ = cmd.MarkFlagRequired("config")
	_ = cmd.MarkFlagRequired("channel")
	return cmd
}

// cycleMode is the mode the --full and --verify flags ask for.
func cycleMode(full, verify bool) engine.Mode {
	switch {
	case verify:
		return engine.Verify
	case full:
		return engine.Full
	}
	return engine.Incremental
}

// reportSync prints a cycle's outcome and turns it into an exit status.
func reportSync(w io.Writer, channel string, res *engine.Result, err error, dryRun bool) error {
	if res != nil && res.Plan != nil && (dryRun || errors.Is(err, engine.ErrHeld)) {
		if perr := res.Plan.WriteTable(w); perr != nil {
			return perr
		}
	}
	switch {
	case errors.Is(err, engine.ErrHeld):
		return &exitError{code: exitHeld, err: err}
	case err != nil:
		return err
	case dryRun:
		return nil
	}
	p := res.Plan
	fmt.Fprintf(w, "%s: %s cycle, %d operations: %d succeeded, %d failed, %d waiting; %d writes\n",
		channel, p.Mode, len(p.Ops), res.Succeeded, res.Failed, res.Blocked, res.Writes)
	for _, f := range res.Failures {
		fmt.Fprintf(w, "  failed #%d %s: %s\n", f.Op, f.DN, f.Err)
	}
	for _, pr := range p.Problems {
		fmt.Fprintf(w, "  problem %s: %s\n", pr.DN, pr.Reason)
	}
	for _, s := range p.Skipped {
		fmt.Fprintf(w, "  skipped %s: %s\n", s.DN, s.Reason)
	}
	if res.Failing > 0 {
		fmt.Fprintf(w, "  %d objects are failing and retried on later cycles (o365prov status shows them)\n", res.Failing)
	}
	if res.Failed > 0 || res.Blocked > 0 || len(p.Problems) > 0 || res.Failing > 0 {
		return &exitError{code: exitPartial, err: fmt.Errorf("%s: some objects were not provisioned; they are retried on later cycles", channel)}
	}
	return nil
}
