package main

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/o365prov/o365prov/internal/config"
	"github.com/o365prov/o365prov/internal/provision"
	"github.com/o365prov/o365prov/internal/state"
	"github.com/spf13/cobra"
)

func newChannelCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "channel",
		Short: "Reset a channel's state, or move it to another node",
	}
	cmd.AddCommand(newChannelResetCmd(a), newChannelHandoverCmd(a))
	return cmd
}

func newChannelResetCmd(a *app) *cobra.Command {
	var cfgPath, channel string
	var all, watermark bool
	cmd := &cobra.Command{
		Use:   "reset --config FILE --channel NAME (--watermark | --all)",
		Short: "Forget a channel's watermark (next cycle reads everything) or all its state",
		Long: `--watermark forgets where the channel's change detection stood, so the next
cycle reads every entry (PingFederate's provmgr --reset-group-timestamp).
--all also forgets every object, membership and plan of the channel
(provmgr --reset-all): the next cycle matches each user again by
onPremisesImmutableId or userPrincipalName, so nothing is created twice,
but every object costs a read again.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if all == watermark {
				return &exitError{code: exitUsage, err: fmt.Errorf("give exactly one of --watermark or --all")}
			}
			return withStore(cmd, cfgPath, func(cfg *config.Config, st state.Store) error {
				if err := provision.CheckChannels(cfg, []string{channel}); err != nil {
					return err
				}
				if err := st.ResetChannel(cmd.Context(), channel, all); err != nil {
					return fmt.Errorf("reset channel %s: %w", channel, err)
				}
				what := "watermark"
				if all {
					what = "state"
				}
				fmt.Fprintf(a.stdout, "channel %s: %s reset; the next cycle reads every entry\n", channel, what)
				return nil
			})
		},
	}
	cmd.Flags().StringVarP(&cfgPath, "config", "c", "", "configuration file")
	cmd.Flags().StringVar(&channel, "channel", "", "channel to reset")
	cmd.Flags().BoolVar(&all, "all", false, "forget objects, memberships and plans too")
	cmd.Flags().BoolVar(&watermark, "watermark", false, "forget only the change-detection position")
	_ = cmd.MarkFlagRequired("config")
	_ = cmd.MarkFlagRequired("channel")
	return cmd
}

func newStatusCmd(a *app) *cobra.Command {
	var cfgPath string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status --config FILE [--json]",
		Short: "Show each channel's last cycles, objects, failures and held plans, the app credential's health and the cluster's nodes",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStore(cmd, cfgPath, func(cfg *config.Config, st state.Store) error {
				ctx := cmd.Context()
				if asJSON {
					return writeStatusJSON(ctx, a.stdout, cfg, st)
				}
				tw := tabwriter.NewWriter(a.stdout, 2, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "CHANNEL\tUSERS\tGROUPS\tFAILING\tLAST CYCLE\tRESULT\tLAST FULL\tHELD PLANS")
				for _, ch := range cfg.Channels {
					users, err := st.CountObjects(ctx, ch.Name, state.KindUser)
					if err != nil {
						return err
					}
					groups, err := st.CountObjects(ctx, ch.Name, state.KindGroup)
					if err != nil {
						return err
					}
					failing, err := st.DueRetries(ctx, ch.Name, time.Now().Add(100*365*24*time.Hour), 100000)
					if err != nil {
						return err
					}
					cs, err := st.Channel(ctx, ch.Name)
					if err != nil {
						return err
					}
					cycles, err := st.Cycles(ctx, ch.Name, 1)
					if err != nil {
						return err
					}
					held, err := st.Plans(ctx, ch.Name, state.PlanHeld)
					if err != nil {
						return err
					}
					last, result := "never", "-"
					if len(cycles) > 0 {
						last, result = cycles[0].Started.Local().Format(time.DateTime), cycles[0].Result
					}
					full := "never"
					if !cs.LastFullSync.IsZero() {
						full = cs.LastFullSync.Local().Format(time.DateTime)
					}
					heldIDs := "-"
					if len(held) > 0 {
						heldIDs = held[0].ID
						if len(held) > 1 {
							heldIDs += fmt.Sprintf(" (+%d)", len(held)-1)
						}
					}
					fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%s\t%s\t%s\n", ch.Name, users, groups, len(failing), last, result, full, heldIDs)
				}
				if err := tw.Flush(); err != nil {
					return err
				}
				if err := printCredentialHealth(ctx, a.stdout, cfg, st, time.Now()); err != nil {
					return err
				}
				return printCluster(ctx, a.stdout, cfg, st)
			})
		},
	}
	cmd.Flags().StringVarP(&cfgPath, "config", "c", "", "configuration file")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print what the console's overview shows, as JSON (the admin API's /api/v1/overview)")
	_ = cmd.MarkFlagRequired("config")
	return cmd
}
