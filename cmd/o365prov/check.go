package main

import (
	"fmt"

	"github.com/o365prov/o365prov/internal/config"
	"github.com/o365prov/o365prov/internal/mapping"
	"github.com/o365prov/o365prov/internal/provision"
	"github.com/spf13/cobra"
)

func newCheckCmd(a *app) *cobra.Command {
	var path string
	var connect bool
	cmd := &cobra.Command{
		Use:   "check --config FILE [--connect]",
		Short: "Validate a configuration and report every problem with its line",
		Long: `Validate a configuration: the YAML, every field and value, secret references
(${env:NAME} must be set, ${file:PATH} readable) and mapping expressions.
Every problem is reported at once as FILE:LINE: field.path: what is wrong
(what is allowed). Exit status 2 means the configuration is bad.

With --connect it then tries what a cycle needs, reading only: it binds to
each channel's directory and runs its user and group searches for one
entry, gets a token for the app, and reads the tenant's domains,
subscribed SKUs and one user; the first user of each channel is mapped to
check its userPrincipalName's domain is verified and its licence names
exist. Each result is printed with what to do when it failed; exit status 3
when any failed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(path)
			if err != nil {
				return err
			}
			for _, w := range cfg.Warnings {
				fmt.Fprintf(a.stderr, "warning: %s\n", w)
			}
			fmt.Fprintf(a.stdout, "%s: ok (%d channel(s))\n", path, len(cfg.Channels))
			if connect {
				return checkConnections(cmd, a, cfg)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&path, "config", "c", "", "configuration file")
	cmd.Flags().BoolVar(&connect, "connect", false, "also connect to each directory and the tenant, reading only")
	_ = cmd.MarkFlagRequired("config")
	return cmd
}

// loadConfig loads and fully checks a configuration, mapping expressions
// included; a bad one becomes exit status 2 with every problem listed.
func loadConfig(path string) (*config.Config, error) {
	cfg, err := config.Load(path, config.WithMappingCheck(mapping.Check))
	if err != nil {
		return nil, &exitError{code: exitUsage, err: err}
	}
	return cfg, nil
}

// openSystem loads a configuration and assembles o365prov from it.
func openSystem(cmd *cobra.Command, a *app, cfgPath string, o provision.Options) (*provision.System, error) {
	cfg, err := loadConfig(cfgPath)
	if err != nil {
		return nil, err
	}
	return openLoaded(cmd, a, cfg, o)
}

// openLoaded opens a configuration already loaded, saying its warnings
// first.
func openLoaded(cmd *cobra.Command, a *app, cfg *config.Config, o provision.Options) (*provision.System, error) {
	var err error
	if o.Logger == nil {
		if o.Logger, err = a.logger(); err != nil {
			return nil, err
		}
	}
	// What check warns of is said at every start too: an operator who
	// never ran check still hears that a certificate is not checked.
	for _, w := range cfg.Warnings {
		o.Logger.Warn("configuration: " + w.String())
	}
	return provision.Open(cmd.Context(), cfg, o)
}
