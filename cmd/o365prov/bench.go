package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/o365prov/o365prov/internal/bench"
)

type benchFlags struct {
	opts  bench.Options
	json  bool
	svg   string
	check bool
}

func newBenchCmd(a *app) *cobra.Command {
	f := benchFlags{opts: bench.Options{Users: 1000, TimeScale: 50, Latency: 150 * time.Millisecond, Changes: 50, NaiveUsers: 2000}}
	groups := -1
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure o365prov end to end against the fake tenant, the Graph write ceiling and a naive provisioner",
		Long: `bench generates an organisation (gen-ldif's generator) into the embedded
directory, starts the fake tenant with Graph's documented throttling
("entra") at --time-scale, and o365prov told that time scale, all in this
process. It measures the initial sync (time, writes per user, membership
requests per 20 memberships, write rate against the ceiling of 3,000 writes
per 150 s, 429s, peak RSS and CPU), no-change incremental and full cycles, a
1 % change, change-to-Graph latency in polling mode, and a naive
one-request-at-a-time provisioner against a fresh tenant. Times are tenant
(real Graph) time unless marked wall. docs/bench.md explains each figure.`,
		Example: "  o365prov bench --users 10000 --time-scale 50 --svg rate.svg\n  o365prov bench --users 1000 --check --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f.opts.Groups = groups
			if groups < 0 {
				f.opts.Groups = f.opts.Users / 20
			}
			return runBench(cmd, a, f)
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&f.opts.Users, "users", f.opts.Users, "people in the generated organisation (10 to 1000000)")
	fl.IntVar(&groups, "groups", -1, "groups in the organisation (default: users/20)")
	fl.Float64Var(&f.opts.TimeScale, "time-scale", f.opts.TimeScale, "the tenant's clock runs this many times faster than the wall (1 to 1000)")
	fl.DurationVar(&f.opts.Latency, "latency", f.opts.Latency, "mean Graph latency, tenant time")
	fl.IntVar(&f.opts.Changes, "changes", f.opts.Changes, "directory changes timed to Graph")
	fl.IntVar(&f.opts.NaiveUsers, "naive-users", f.opts.NaiveUsers, "at most this many users for the naive baseline (its rate is projected to the whole organisation)")
	fl.BoolVar(&f.json, "json", false, "print the report as JSON instead of a table")
	fl.StringVar(&f.svg, "svg", "", "write a plot of the initial sync's write rate against the ceiling to this file")
	fl.BoolVar(&f.check, "check", false, "exit 1 when writes per user exceed 3 or 1 % or more of requests are answered 429")
	return cmd
}

func runBench(cmd *cobra.Command, a *app, f benchFlags) error {
	if err := f.opts.Validate(); err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	start := time.Now()
	f.opts.Progress = newProgress(a.stderr, "initial sync")
	f.opts.Phase = func(s string) {
		fmt.Fprintf(a.stderr, "bench [%s]: %s…\n", time.Since(start).Round(time.Second), s)
	}
	r, err := bench.Run(cmd.Context(), f.opts)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	if f.svg != "" {
		if err := writeFileAtomically(f.svg, func(file *os.File) error { return r.WriteSVG(file) }); err != nil {
			return fmt.Errorf("bench --svg: %w", err)
		}
	}
	if f.json {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return err
		}
	} else {
		r.WriteTable(a.stdout)
	}
	if miss := r.Check(); len(miss) > 0 {
		msg := "goals missed: " + strings.Join(miss, "; ")
		if f.check {
			return errors.New(msg)
		}
		fmt.Fprintln(a.stderr, "bench:", msg)
	}
	return nil
}
