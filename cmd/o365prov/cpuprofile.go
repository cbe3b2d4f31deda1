package main

import (
	"errors"
	"fmt"
	"os"
	"runtime/pprof"

	"github.com/spf13/cobra"
)

// cpuProfileFlag adds --cpuprofile to a command that runs cycles, for users
// who report slowness: the profile shows where the time went (the pacer,
// the state store, the directory read, JSON) without a debugger.
func cpuProfileFlag(cmd *cobra.Command) *string {
	path := new(string)
	cmd.Flags().StringVar(path, "cpuprofile", "", "write a CPU profile (pprof format) to this file until the command ends")
	return path
}

// startCPUProfile writes a CPU profile to path until the returned stop is
// called; with no path it does nothing. The file is created before any work
// starts, so a path that cannot be written fails the command at once
// (exit status 2: a bad argument).
func startCPUProfile(path string) (stop func() error, err error) {
	if path == "" {
		return func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, &exitError{code: 2, err: fmt.Errorf("--cpuprofile: %w", err)}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		return nil, &exitError{code: 2, err: errors.Join(fmt.Errorf("--cpuprofile %s: %w", path, err), f.Close())}
	}
	return func() error {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			return fmt.Errorf("--cpuprofile %s: %w", path, err)
		}
		return nil
	}, nil
}

// stopCPUProfile ends a profile started by startCPUProfile, deferred by a
// command: the profile is complete even when the command fails, and a
// profile that cannot be written fails a command that did not.
func stopCPUProfile(stop func() error, err *error) {
	if serr := stop(); serr != nil && *err == nil {
		*err = serr
	}
}
