package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/o365prov/o365prov/internal/engine"
	"github.com/o365prov/o365prov/internal/provision"
	"github.com/spf13/cobra"
)

func newSyncCmd(a *app) *cobra.Command {
	var cfgPath, channel string
	var once, full, verify, dryRun bool
	var cpuProfile *string
	cmd := &cobra.Command{
		Use:   "sync --config FILE --channel NAME [--once] [--full] [--dry-run]",
		Short: "Provision one channel: one cycle with --once, else on its schedule",
		Long: `Provision one channel. With --once, run one cycle and exit: 0 when it
applied everything, 3 when the directory, the state store or the tenant
could not be reached or refused o365prov (the message says what to do),
4 when the plan is held for approval (the approve command is printed),
5 when some objects failed or are still failing from an earlier cycle,
their retry due or not (they are retried on later cycles; an approved plan
the cycle applied first counts), 1 on another error (nothing is
deprovisioned after a failed directory read).
Without --once, run the channel on its interval until interrupted.
--full reads every entry (catching deletions); --verify (a full cycle) also
reads every user from the tenant and repairs what was changed there by
hand; --dry-run prints the plan and applies nothing.`,
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
			sys, err := openSystem(cmd, a, cfgPath, provision.Options{
				Logger: log, Channels: []string{channel}, Progress: newProgress(a.stderr, channel),
				RetryDirectory: !once,
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
			return reportSync(a.stdout, cfgPath, channel, res, err, dryRun)
		},
	}
	cpuProfile = cpuProfileFlag(cmd)
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

// reportSync prints a cycle's outcome — the approved plans it applied
// first, then its own plan — and turns it into an exit status.
func reportSync(w io.Writer, cfgPath, channel string, res *engine.Result, err error, dryRun bool) error {
	failed := false
	if res != nil {
		for _, ar := range res.Approved {
			fmt.Fprintf(w, "%s: applied approved plan %s: ", channel, ar.Plan.ID)
			failed = reportResult(w, ar) || failed
		}
	}
	if res != nil && res.Plan != nil && (dryRun || errors.Is(err, engine.ErrHeld)) {
		if perr := res.Plan.WriteTable(w); perr != nil {
			return perr
		}
	}
	switch {
	case errors.Is(err, engine.ErrHeld):
		fmt.Fprintf(w, "approve with: %s\n", approveCommand(cfgPath, channel, res.Plan.ID))
		return &exitError{code: exitHeld, err: err}
	case err != nil:
		return err
	case dryRun:
		return nil
	}
	fmt.Fprintf(w, "%s: %s cycle, ", channel, res.Plan.Mode)
	failed = reportResult(w, res) || failed
	if failed {
		return &exitError{code: exitPartial, err: fmt.Errorf("%s: some objects were not provisioned; they are retried on later cycles", channel)}
	}
	return nil
}

// reportResult prints what an applied plan did, after a prefix naming it,
// and reports whether anything in it failed.
func reportResult(w io.Writer, res *engine.Result) bool {
	p := res.Plan
	fmt.Fprintf(w, "%d operations: %d succeeded, %d failed, %d waiting; %d writes\n",
		len(p.Ops), res.Succeeded, res.Failed, res.Blocked, res.Writes)
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
	return res.Failed > 0 || res.Blocked > 0 || len(p.Problems) > 0 || res.Failing > 0
}

// approveCommand is the command that approves a held plan, ready to paste.
func approveCommand(cfgPath, channel, id string) string {
	return fmt.Sprintf("o365prov plan approve --config %s --channel %s %s", shellQuote(cfgPath), shellQuote(channel), id)
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@,+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
