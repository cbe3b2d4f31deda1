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
	switch strings.ToLower(a.flags.logLevel) {
	case "debug":
		level = slog.LevelDebug
	case "info", "":
		level = slog.LevelInfo
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	default:
		return nil, usageError("--log-level %q is not a log level (allowed: debug, info, warn, error)", a.flags.logLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch strings.ToLower(a.flags.logFormat) {
	case "text", "":
		return slog.New(slog.NewTextHandler(a.stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(a.stderr, opts)), nil
	default:
		return nil, usageError("--log-format %q is not a log format (allowed: text, json)", a.flags.logFormat)
	}
}

// usageError is a bad command line: exit status 2.
func usageError(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
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
	newObjectCmd,
	newDemoCmd,
	newBenchCmd,
	newFakeTenantCmd,
	newGenLDIFCmd,
	newFederateCmd,
	newSSOCmd,
	newHealthcheckCmd,
}

func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	a := &app{stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:           "o365prov",
		Short:         "Provision Microsoft 365 (Entra ID) from an LDAP directory",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	// The global flags are checked before any command runs, so every
	// command — version and status too — refuses a bad one.
	root.PersistentPreRunE = func(*cobra.Command, []string) error {
		_, err := a.logger()
		return err
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &exitError{code: exitUsage, err: err}
	})
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.PersistentFlags().StringVar(&a.flags.logFormat, "log-format", "text", "log format: text or json")
	root.PersistentFlags().StringVar(&a.flags.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	for _, mk := range subcommands {
		root.AddCommand(mk(a))
	}
	return root
}
