// Command o365prov keeps Microsoft 365 (Entra ID) in step with an LDAP
// directory and signs its people in with their directory passwords.
//
// This package only wires commands to the internal packages; the behaviour
// lives there.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/o365prov/o365prov/internal/config"
	"github.com/o365prov/o365prov/internal/provision"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// Exit statuses, as docs/operations.md documents them.
const (
	exitFailed      = 1 // any other error
	exitUsage       = 2 // a bad configuration or command line
	exitUnreachable = 3 // the directory, the tenant or the state could not be reached or used
	exitHeld        = 4 // a plan waits for approval
	exitPartial     = 5 // some objects failed; they are retried
)

// exitError carries a specific exit status out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRootCmd(stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	code := exitCode(err)
	var ps *config.Problems
	switch {
	case errors.As(err, &ps):
		// Problems already read FILE:LINE: field: message, one per line.
		fmt.Fprintln(stderr, ps.Error())
	case err.Error() != "":
		fmt.Fprintln(stderr, "o365prov:", err)
	}
	return code
}

// exitCode is the documented exit status of a command's error.
func exitCode(err error) int {
	var ee *exitError
	var se *provision.PeerError
	switch {
	case errors.As(err, &ee):
		return ee.code
	case errors.As(err, &se):
		return exitUnreachable
	case errors.Is(err, provision.ErrNoChannel), isCobraUsage(err):
		return exitUsage
	}
	return exitFailed
}

// isCobraUsage reports whether err is cobra's complaint about the command
// line (a missing required flag, an unknown command, a wrong number of
// arguments). Cobra gives these no type of their own, only their words.
func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"required flag(s) ", "unknown command ", "accepts ", "requires at least ", "requires at most ", "if any flags in the group ", "invalid argument "} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}
