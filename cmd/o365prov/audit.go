package main

import (
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/o365prov/o365prov/internal/config"
	"github.com/o365prov/o365prov/internal/provision"
	"github.com/o365prov/o365prov/internal/state"
	"github.com/spf13/cobra"
)

// auditResults are the results the audit log records.
var auditResults = []string{"ok", "failed", "skipped"}

func newAuditCmd(a *app) *cobra.Command {
	var cfgPath string
	var q state.AuditQuery
	var since time.Duration
	cmd := &cobra.Command{
		Use:   "audit --config FILE [--channel NAME] [--guid GUID] [--operation OP] [--result ok|failed|skipped] [--since 24h] [--limit 100]",
		Short: "Show what o365prov did to which object, when, why, and Graph's request-id",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !slices.Contains(auditResults, q.Result) && q.Result != "" {
				return usageError("--result %q is not a result (allowed: %s)", q.Result, strings.Join(auditResults, ", "))
			}
			if since < 0 || q.Limit < 1 {
				return usageError("--since must be a positive duration and --limit at least 1")
			}
			if since > 0 {
				q.Since = time.Now().Add(-since)
			}
			return withStore(cmd, cfgPath, func(cfg *config.Config, st state.Store) error {
				if q.Channel != "" {
					if err := provision.CheckChannels(cfg, []string{q.Channel}); err != nil {
						return err
					}
				}
				entries, err := st.QueryAudit(cmd.Context(), q)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(a.stdout, 2, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "TIME\tCHANNEL\tCYCLE\tOPERATION\tRESULT\tOBJECT\tDETAIL\tREQUEST-ID")
				for _, e := range entries {
					fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n", e.Time.Local().Format(time.DateTime), e.Channel, e.Cycle, e.Operation, e.Result, e.DN, e.Detail, e.RequestID)
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().StringVarP(&cfgPath, "config", "c", "", "configuration file")
	cmd.Flags().StringVar(&q.Channel, "channel", "", "only this channel")
	cmd.Flags().StringVar(&q.GUID, "guid", "", "only this object (source GUID)")
	cmd.Flags().StringVar(&q.Operation, "operation", "", "only this operation (createUser, disableUser, assignLicense, …)")
	cmd.Flags().StringVar(&q.Result, "result", "", "only this result: ok, failed or skipped")
	cmd.Flags().DurationVar(&since, "since", 0, "only entries newer than this (e.g. 24h)")
	cmd.Flags().IntVar(&q.Limit, "limit", 100, "at most this many entries, newest first")
	_ = cmd.MarkFlagRequired("config")
	return cmd
}
