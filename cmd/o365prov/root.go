package main

import (
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"
)

// globalFlags are the flags every command shares.
type globalFlags struct {
	logFormat string
	logLevel  string
}

// app is what commands share: output streams and the logger built from the
// global flags. It is created once per invocation, never global.
type app struct {
	stdout io.Writer
	stderr io.Writer
	flags  globalFlags
}

// logger returns a slog.Logger writing to stderr in the chosen format.
func (a *app) logger() (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(a.flags.logLevel)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", a.flags.logLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch strings.ToLower(a.flags.logFormat) {
	case "text", "":
		return slog.New(slog.NewTextHandler(a.stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(a.stderr, opts)), nil
	default:
		return nil, fmt.Errorf("--log-format %q: want text or json", a.flags.logFormat)
	}
}

// subcommands lists the constructors of every command; each lives in its own
// file so that work on one command does not touch another's.
var subcommands = []func(*app) *cobra.Command{
	newVersionCmd,
	newInitCmd,
	newCheckCmd,
	newSyncCmd,
	newPlanCmd,
	newRunCmd,
	newChannelCmd,
	newStatusCmd,
	newAuditCmd,
	newDemoCmd,
	newFakeTenantCmd,
	newGenLDIFCmd,
}

func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	a := &app{stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:           "o365prov",
		Short:         "Provision Microsoft 365 (Entra ID) from an LDAP directory",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.PersistentFlags().StringVar(&a.flags.logFormat, "log-format", "text", "log format: text or json")
	root.PersistentFlags().StringVar(&a.flags.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	for _, mk := range subcommands {
		root.AddCommand(mk(a))
	}
	return root
}
