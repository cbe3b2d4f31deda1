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
	cmd := &cobra.Command{
		Use:   "check --config FILE",
		Short: "Validate a configuration and report every problem with its line",
		Long: `Validate a configuration: the YAML, every field and value, secret references
(${env:NAME} must be set, ${file:PATH} readable) and mapping expressions.
Every problem is reported at once as FILE:LINE: field.path: what is wrong
(what is allowed). Exit status 2 means the configuration is bad.`,
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
			return nil
		},
	}
	cmd.Flags().StringVarP(&path, "config", "c", "", "configuration file")
	_ = cmd.MarkFlagRequired("config")
	return cmd
}

// loadConfig loads and fully checks a configuration, mapping expressions
// included; a bad one becomes exit status 2 with every problem listed.
func loadConfig(path string) (*config.Config, error) {
	cfg, err := config.Load(path, config.WithMappingCheck(mapping.Check))
	if err != nil {
		return nil, &exitError{code: 2, err: err}
	}
	return cfg, nil
}

// openSystem loads a configuration and assembles o365prov from it.
func openSystem(cmd *cobra.Command, a *app, cfgPath string, o provision.Options) (*provision.System, error) {
	cfg, err := loadConfig(cfgPath)
	if err != nil {
		return nil, err
	}
	if o.Logger == nil {
		if o.Logger, err = a.logger(); err != nil {
			return nil, err
		}
	}
	return provision.Open(cmd.Context(), cfg, o)
}
