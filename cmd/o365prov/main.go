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
	"syscall"

	"github.com/o365prov/o365prov/internal/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// exitError carries a specific exit status out of a command (2 for a bad
// configuration, as `check` documents).
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
	code := 1
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
	}
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
