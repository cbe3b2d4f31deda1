package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/o365prov/o365prov/internal/config"
	"github.com/o365prov/o365prov/internal/console"
	"github.com/o365prov/o365prov/internal/provision"
	"github.com/o365prov/o365prov/internal/state"
	"github.com/spf13/cobra"
)

// writeStatusJSON prints the console's overview, from the store alone.
func writeStatusJSON(ctx context.Context, w io.Writer, cfg *config.Config, st state.Store) error {
	ov, err := console.BuildOverview(ctx, st, provision.ConsoleChannels(cfg), nil, time.Now())
	if err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(ov)
}

func newObjectCmd(a *app) *cobra.Command {
	var cfgPath string
	var l console.Lookup
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "object --config FILE (--upn UPN | --dn DN | --guid GUID | --graph-id ID) [--channel NAME] [--json]",
		Short: "Show what o365prov knows of one user or group: last applied values, Graph id, licences, manager, groups, history",
		Long: `Find one object in the state store by userPrincipalName, source DN, source
GUID or Entra object id, and print what o365prov last applied to it, its
Graph id, licences, manager and groups o365prov added it to, its last
error, and its audit history with Graph's request-ids. It reads the store
only (the console's object page also reads the directory entry).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			n := 0
			for _, v := range []string{l.UPN, l.DN, l.GUID, l.GraphID} {
				if v != "" {
					n++
				}
			}
			if n != 1 {
				return &exitError{code: 2, err: fmt.Errorf("give exactly one of --upn, --dn, --guid or --graph-id")}
			}
			return withStore(cmd, cfgPath, func(cfg *config.Config, st state.Store) error {
				if l.Channel != "" {
					if _, ok := cfg.Channel(l.Channel); !ok {
						return &exitError{code: 2, err: fmt.Errorf("no channel %q in %s", l.Channel, cfg.File)}
					}
				}
				o, err := console.FindObject(cmd.Context(), st, provision.ConsoleChannels(cfg), nil, l)
				if err != nil {
					return err
				}
				if asJSON {
					enc := json.NewEncoder(a.stdout)
					enc.SetIndent("", "  ")
					return enc.Encode(o)
				}
				return writeObject(a.stdout, o)
			})
		},
	}
	cmd.Flags().StringVarP(&cfgPath, "config", "c", "", "configuration file")
	cmd.Flags().StringVar(&l.UPN, "upn", "", "userPrincipalName (any case)")
	cmd.Flags().StringVar(&l.DN, "dn", "", "source DN (any case)")
	cmd.Flags().StringVar(&l.GUID, "guid", "", "source GUID")
	cmd.Flags().StringVar(&l.GraphID, "graph-id", "", "Entra object id")
	cmd.Flags().StringVar(&l.Channel, "channel", "", "only this channel")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON (the admin API's /api/v1/objects)")
	_ = cmd.MarkFlagRequired("config")
	return cmd
}

func writeObject(w io.Writer, o console.ObjectView) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s\t%s\n", k, v)
		}
	}
	row("Name", o.Name)
	row("Kind", o.Kind)
	row("Channel", o.Channel)
	row("DN", o.DN)
	row("GUID", o.GUID)
	row("Graph id", o.GraphID)
	row("Lifecycle", o.Lifecycle)
	row("Status", o.Status)
	row("Last error", o.LastError)
	if o.NextRetry != nil {
		row("Next retry", o.NextRetry.Local().Format(time.DateTime))
	}
	for _, k := range sortedKeys(o.Applied) {
		row("  "+k, fmt.Sprint(o.Applied[k]))
	}
	for _, l := range o.Licences {
		row("Licence", fmt.Sprintf("%s (%d plans disabled)", l.SkuID, len(l.DisabledPlans)))
	}
	if o.Manager != nil {
		row("Manager", firstOf(o.Manager.Name, o.Manager.DN, o.Manager.GUID))
	}
	for _, g := range o.Groups {
		row("Group", firstOf(g.Name, g.DN, g.GUID))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nHistory:")
	tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tCYCLE\tOPERATION\tRESULT\tDETAIL\tREQUEST-ID")
	for _, e := range o.History {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", e.Time.Local().Format(time.DateTime), e.Cycle, e.Operation, e.Result, e.Detail, e.RequestID)
	}
	return tw.Flush()
}

func firstOf(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
