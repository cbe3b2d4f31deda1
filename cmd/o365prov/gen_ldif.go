package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/o365prov/o365prov/internal/ldapserver/fakeorg"
)

func newGenLDIFCmd(a *app) *cobra.Command {
	opts := fakeorg.Contoso()
	var out string
	cmd := &cobra.Command{
		Use:   "gen-ldif",
		Short: "Write a generated organisation (people, managers, licences, groups) as LDIF",
		Long: `gen-ldif writes a fictional organisation as LDIF for the embedded directory,
slapadd or ldapadd: people with an org chart, offices, licences (o365Sku), a few
disabled accounts (nsAccountLock), and groups including a nested one. The same
flags always give the same file; the defaults give examples/contoso.ldif.
The file's header documents the demo passwords and attributes.`,
		Example: "  o365prov gen-ldif --users 10000 --groups 50 --out /tmp/big.ldif",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" || out == "-" {
				return fakeorg.Generate(cmd.Context(), a.stdout, opts)
			}
			return writeFileAtomically(out, func(f *os.File) error {
				return fakeorg.Generate(cmd.Context(), f, opts)
			})
		},
	}
	f := cmd.Flags()
	f.IntVar(&opts.Users, "users", opts.Users, fmt.Sprintf("number of people (1 to %d)", fakeorg.MaxUsers))
	f.IntVar(&opts.Groups, "groups", opts.Groups, "number of groups")
	f.Uint64Var(&opts.Seed, "seed", opts.Seed, "seed of the generator: the same seed gives the same file")
	f.StringVar(&opts.Domain, "domain", opts.Domain, "mail domain; the base DN is made of its labels")
	f.StringVar(&out, "out", "", "file to write (default: standard output)")
	return cmd
}

// writeFileAtomically writes through a temporary file in the target's
// directory and renames it into place, so that a failed or interrupted run
// leaves no half-written LDIF behind.
func writeFileAtomically(path string, write func(*os.File) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("--out %s: %w", path, err)
	}
	werr := write(tmp)
	// CreateTemp makes the file private; the LDIF is an ordinary output.
	cerr := errors.Join(tmp.Chmod(0o644), tmp.Close())
	if err := errors.Join(werr, cerr); err != nil {
		_ = os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("--out %s: %w", path, err)
	}
	return nil
}
