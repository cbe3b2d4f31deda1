package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/o365prov/o365prov/internal/config"
	"github.com/spf13/cobra"
)

func newInitCmd(a *app) *cobra.Command {
	var typ, out string
	var force bool
	cmd := &cobra.Command{
		Use:   "init --type TYPE [--out FILE]",
		Short: "Write a commented configuration for a directory type (the quick connection template)",
		Long: `Write a configuration with every option, its default for the directory type
and a line on what it does. Types: ` + strings.Join(config.Types(), ", ") + `.
Without --out the configuration goes to standard output.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := config.WriteTemplate(typ)
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			if out == "" || out == "-" {
				_, err := a.stdout.Write(b)
				return err
			}
			flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
			if force {
				flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
			}
			f, err := os.OpenFile(out, flags, 0o600)
			if errors.Is(err, os.ErrExist) {
				return fmt.Errorf("%s exists (use --force to overwrite it)", out)
			}
			if err != nil {
				return err
			}
			if _, err := f.Write(b); err != nil {
				f.Close()
				return fmt.Errorf("write %s: %w", out, err)
			}
			if err := f.Close(); err != nil {
				return fmt.Errorf("write %s: %w", out, err)
			}
			fmt.Fprintf(a.stderr, "Wrote %s. Edit tenant, clientId and the source, set O365PROV_CLIENT_SECRET and O365PROV_LDAP_PASSWORD, then run:\n  o365prov check --config %s\n", out, out)
			return nil
		},
	}
	cmd.Flags().StringVar(&typ, "type", "", "directory type: "+strings.Join(config.Types(), ", "))
	cmd.Flags().StringVarP(&out, "out", "o", "", "file to write (default: standard output)")
	cmd.Flags().BoolVar(&force, "force", false, "overwrite --out if it exists")
	_ = cmd.MarkFlagRequired("type")
	return cmd
}
