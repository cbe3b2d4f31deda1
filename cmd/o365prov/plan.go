package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os/user"
	"time"

	"github.com/o365prov/o365prov/internal/config"
	"github.com/o365prov/o365prov/internal/engine"
	"github.com/o365prov/o365prov/internal/provision"
	"github.com/o365prov/o365prov/internal/state"
	"github.com/spf13/cobra"
)

func newPlanCmd(a *app) *cobra.Command {
	var cfgPath, channel string
	var full, verify, asJSON bool
	cmd := &cobra.Command{
		Use:   "plan --config FILE [--channel NAME] [--full] [--json]",
		Short: "Print what a sync would do, applying nothing",
		Long: `Compute the plan of each channel (or one) — every operation with its reason —
and print it, applying nothing. It reads the directory and, to match
existing users and resolve licence names, the tenant; it writes nothing.
Subcommands list, show, approve and reject held plans.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var only []string
			if channel != "" {
				only = []string{channel}
			}
			sys, err := openSystem(cmd, a, cfgPath, provision.Options{Channels: only})
			if err != nil {
				return err
			}
			defer sys.Close()
			// plan reads the tenant: a refused credential is said once,
			// plainly, rather than as the failure of the first read.
			if err := sys.Authenticate(cmd.Context()); err != nil {
				return err
			}
			mode := cycleMode(full, verify)
			for _, e := range sys.Engines {
				p, err := e.Plan(cmd.Context(), mode)
				if err != nil {
					return fmt.Errorf("plan channel %s: %w", e.Name(), err)
				}
				if asJSON {
					err = p.WriteJSON(a.stdout)
				} else {
					err = p.WriteTable(a.stdout)
				}
				if err != nil {
					return err
				}
				if p.Held != "" && !asJSON {
					if err := printHeldHint(cmd.Context(), a, e, p, cfgPath); err != nil {
						return err
					}
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&cfgPath, "config", "c", "", "configuration file")
	cmd.Flags().StringVar(&channel, "channel", "", "only this channel")
	cmd.Flags().BoolVar(&full, "full", false, "plan a full cycle (every entry, deletions)")
	cmd.Flags().BoolVar(&verify, "verify", false, "plan a full cycle that also reads the tenant to find drift")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the plan as JSON")
	_ = cmd.MarkFlagRequired("config")
	cmd.AddCommand(newPlanListCmd(a), newPlanShowCmd(a), newPlanDecideCmd(a, "approve"), newPlanDecideCmd(a, "reject"))
	return cmd
}

func newPlanListCmd(a *app) *cobra.Command {
	var cfgPath, channel string
	cmd := &cobra.Command{
		Use:   "list --config FILE [--channel NAME]",
		Short: "List held plans",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStore(cmd, cfgPath, func(cfg *config.Config, st state.Store) error {
				if channel != "" {
					if err := provision.CheckChannels(cfg, []string{channel}); err != nil {
						return err
					}
				}
				n := 0
				for _, ch := range cfg.Channels {
					if channel != "" && ch.Name != channel {
						continue
					}
					plans, err := st.Plans(cmd.Context(), ch.Name, state.PlanHeld, state.PlanApproved)
					if err != nil {
						return err
					}
					for _, p := range plans {
						n++
						fmt.Fprintf(a.stdout, "%s  %-8s  %-9s  %s  %s\n", p.ID, ch.Name, p.Status, p.Created.Format(time.RFC3339), p.Reason)
					}
				}
				if n == 0 {
					fmt.Fprintln(a.stdout, "no held plans")
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVarP(&cfgPath, "config", "c", "", "configuration file")
	cmd.Flags().StringVar(&channel, "channel", "", "only this channel")
	_ = cmd.MarkFlagRequired("config")
	return cmd
}

func newPlanShowCmd(a *app) *cobra.Command {
	var cfgPath string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show --config FILE PLAN-ID",
		Short: "Print a stored plan",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withStore(cmd, cfgPath, func(_ *config.Config, st state.Store) error {
				sp, err := st.Plan(cmd.Context(), args[0])
				if err != nil {
					return fmt.Errorf("plan %s: %w", args[0], err)
				}
				var p engine.Plan
				if err := json.Unmarshal(sp.Body, &p); err != nil {
					return fmt.Errorf("decode plan %s: %w", sp.ID, err)
				}
				fmt.Fprintf(a.stdout, "status: %s\n", sp.Status)
				if asJSON {
					return p.WriteJSON(a.stdout)
				}
				if err := p.WriteTable(a.stdout); err != nil {
					return err
				}
				if sp.Status == state.PlanHeld {
					fmt.Fprintf(a.stdout, "approve with: %s\n", approveCommand(cfgPath, sp.Channel, sp.ID))
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVarP(&cfgPath, "config", "c", "", "configuration file")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the plan as JSON")
	_ = cmd.MarkFlagRequired("config")
	return cmd
}

func newPlanDecideCmd(a *app, verb string) *cobra.Command {
	var cfgPath, channel, by string
	cmd := &cobra.Command{
		Use:   verb + " --config FILE --channel NAME PLAN-ID",
		Short: map[string]string{"approve": "Approve a held plan: the channel's next cycle applies it exactly", "reject": "Reject a held plan"}[verb],
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if by == "" {
				if u, err := user.Current(); err == nil {
					by = u.Username
				}
			}
			return withStore(cmd, cfgPath, func(_ *config.Config, st state.Store) error {
				decide := engine.Approve
				if verb == "reject" {
					decide = engine.Reject
				}
				if err := decide(cmd.Context(), st, channel, args[0], by, time.Now()); err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "plan %s %s by %s\n", args[0], map[string]string{"approve": "approved", "reject": "rejected"}[verb], by)
				if verb == "approve" {
					fmt.Fprintf(a.stdout, "the channel's next cycle applies it: o365prov sync --once --config %s --channel %s\n", shellQuote(cfgPath), shellQuote(channel))
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVarP(&cfgPath, "config", "c", "", "configuration file")
	cmd.Flags().StringVar(&channel, "channel", "", "the plan's channel")
	cmd.Flags().StringVar(&by, "by", "", "who decides (default: the current user), recorded with the plan")
	_ = cmd.MarkFlagRequired("config")
	_ = cmd.MarkFlagRequired("channel")
	return cmd
}

// withStore opens only the state of a configuration.
func withStore(cmd *cobra.Command, cfgPath string, fn func(*config.Config, state.Store) error) error {
	cfg, err := loadConfig(cfgPath)
	if err != nil {
		return err
	}
	st, err := provision.OpenStore(cmd.Context(), cfg.State)
	if err != nil {
		return err
	}
	defer st.Close()
	return fn(cfg, st)
}

// printHeldHint says how to approve a plan that a cycle would hold. plan
// stores nothing: when the same plan is already held, its stored id is
// named; otherwise a cycle must hold it first.
func printHeldHint(ctx context.Context, a *app, e *engine.Engine, p *engine.Plan, cfgPath string) error {
	id, err := e.HeldPlanID(ctx, p)
	if err != nil {
		return err
	}
	if id != "" {
		fmt.Fprintf(a.stdout, "held as plan %s; approve with: %s\n", id, approveCommand(cfgPath, e.Name(), id))
		return nil
	}
	fmt.Fprintf(a.stdout, "a cycle would hold this plan for approval: `o365prov sync --once --config %s --channel %s` holds it and prints the command that approves it\n", shellQuote(cfgPath), shellQuote(e.Name()))
	return nil
}
