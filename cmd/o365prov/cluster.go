package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/o365prov/o365prov/internal/config"
	"github.com/o365prov/o365prov/internal/state"
	"github.com/spf13/cobra"
)

// leaseName is a channel's lease (the engine's naming).
func leaseName(channel string) string { return "channel/" + channel }

// printCluster lists the nodes sharing the store and who runs each
// channel. A store no node ever ran on prints nothing.
func printCluster(ctx context.Context, w io.Writer, cfg *config.Config, st state.Store) error {
	nodes, err := st.Nodes(ctx)
	if err != nil {
		return err
	}
	leases, err := st.Leases(ctx)
	if err != nil {
		return err
	}
	held := map[string][]string{}
	byName := map[string]state.Lease{}
	for _, l := range leases {
		byName[l.Name] = l
		if l.Held() {
			held[l.Holder] = append(held[l.Holder], strings.TrimPrefix(l.Name, "channel/"))
		}
	}
	// A released lease keeps its row (its epoch must never go back): with
	// no node and nothing held there is no cluster to show.
	if len(nodes) == 0 && len(held) == 0 {
		return nil
	}
	grace := cfg.State.FailoverGrace
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nNODE\tADDRESS\tVERSION\tSTARTED\tLAST SEEN\tSTATE\tSERVES\tCHANNELS")
	for _, n := range nodes {
		alive := "alive"
		if n.Age >= grace {
			alive = "gone"
		}
		channels := "-"
		if len(held[n.Name]) > 0 {
			channels = strings.Join(held[n.Name], ",")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s ago\t%s\t%s\t%s\n", n.Name, orDash(n.Address), orDash(n.Version),
			n.Started.Local().Format(time.DateTime), n.Age.Round(time.Second), alive, orDash(strings.Join(n.Serves, ",")), channels)
	}
	fmt.Fprintln(tw, "\nCHANNEL\tRUN BY\tEPOCH\tLEASE")
	for _, ch := range cfg.Channels {
		l, ok := byName[leaseName(ch.Name)]
		switch {
		case !ok:
			fmt.Fprintf(tw, "%s\t-\t-\tnever taken\n", ch.Name)
		case l.Held():
			lease := fmt.Sprintf("renewed, %s left", l.Remaining.Round(time.Second))
			if l.HandoverTo != "" {
				lease += ", handover to " + handoverTarget(l.HandoverTo) + " asked"
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", ch.Name, l.Holder, l.Epoch, lease)
		default:
			fmt.Fprintf(tw, "%s\t-\t%d\tfree for %s\n", ch.Name, l.Epoch, (-l.Remaining).Round(time.Second))
		}
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func handoverTarget(to string) string {
	if to == state.HandoverAny {
		return "any other node"
	}
	return to
}

func newChannelHandoverCmd(a *app) *cobra.Command {
	var cfgPath, channel, to string
	var wait time.Duration
	cmd := &cobra.Command{
		Use:   "handover --config FILE --channel NAME [--to NODE] [--wait 2m]",
		Short: "Move a channel to another node of a cluster at the end of its current cycle",
		Long: `Ask the node that runs the channel to let it go at the end of its current
cycle: the operations in flight finish and are recorded, then the lease is
released for NODE (a name from 'o365prov status'), or for any other node
without --to. With --wait, wait until another node runs the channel and
print which.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStore(cmd, cfgPath, func(cfg *config.Config, st state.Store) error {
				return handover(cmd.Context(), a.stdout, cfg, st, channel, to, wait)
			})
		},
	}
	cmd.Flags().StringVarP(&cfgPath, "config", "c", "", "configuration file")
	cmd.Flags().StringVar(&channel, "channel", "", "channel to move")
	cmd.Flags().StringVar(&to, "to", "", "node to move it to (default: any other node)")
	cmd.Flags().DurationVar(&wait, "wait", 0, "wait this long for another node to run it (0: do not wait)")
	_ = cmd.MarkFlagRequired("config")
	_ = cmd.MarkFlagRequired("channel")
	return cmd
}

func handover(ctx context.Context, w io.Writer, cfg *config.Config, st state.Store, channel, to string, wait time.Duration) error {
	if _, ok := cfg.Channel(channel); !ok {
		return fmt.Errorf("no channel %q in %s", channel, cfg.File)
	}
	if to != "" {
		if err := checkNode(ctx, cfg, st, to); err != nil {
			return err
		}
	}
	target := to
	if target == "" {
		target = state.HandoverAny
	}
	from, err := holderOf(ctx, st, channel)
	if err != nil {
		return err
	}
	switch {
	case from == "":
		return fmt.Errorf("no node runs channel %s now (see o365prov status)", channel)
	case from == to:
		return fmt.Errorf("node %s already runs channel %s", to, channel)
	}
	if err := st.HandOverLease(ctx, leaseName(channel), target); err != nil {
		if errors.Is(err, state.ErrNotFound) {
			return fmt.Errorf("no node runs channel %s now (see o365prov status): %w", channel, err)
		}
		return err
	}
	fmt.Fprintf(w, "channel %s: asked %s to hand it over to %s at the end of its current cycle\n", channel, from, handoverTarget(target))
	if wait <= 0 {
		return nil
	}
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
		now, err := holderOf(ctx, st, channel)
		if err != nil {
			return err
		}
		if now != "" && now != from {
			fmt.Fprintf(w, "channel %s: now run by %s\n", channel, now)
			return nil
		}
	}
	return fmt.Errorf("channel %s: no other node took it within %v (its cycle may still be running; see o365prov status)", channel, wait)
}

// holderOf is the node that holds the channel's lease, "" if none.
func holderOf(ctx context.Context, st state.Store, channel string) (string, error) {
	leases, err := st.Leases(ctx)
	if err != nil {
		return "", err
	}
	for _, l := range leases {
		if l.Name == leaseName(channel) && l.Held() {
			return l.Holder, nil
		}
	}
	return "", nil
}

// checkNode refuses a node that is not alive and running channels.
func checkNode(ctx context.Context, cfg *config.Config, st state.Store, name string) error {
	nodes, err := st.Nodes(ctx)
	if err != nil {
		return err
	}
	var alive []string
	for _, n := range nodes {
		if n.Age < cfg.State.FailoverGrace && slices.Contains(n.Serves, "channels") {
			if n.Name == name {
				return nil
			}
			alive = append(alive, n.Name)
		}
	}
	if len(alive) == 0 {
		return fmt.Errorf("--to %s: no node is alive and running channels", name)
	}
	return fmt.Errorf("--to %s: not a live node running channels (alive: %s)", name, strings.Join(alive, ", "))
}
