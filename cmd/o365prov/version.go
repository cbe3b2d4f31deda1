package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// The build stamps these with -ldflags (see `make release`):
//
//	-X main.version=v1.2.3 -X main.commit=<git sha> -X main.date=<RFC 3339 UTC>
//
// A plain `go build` leaves them empty, and the module version or the VCS
// information Go records stands in.
var (
	version = ""
	commit  = ""
	date    = ""
)

// stamp is what a build knows of itself.
type stamp struct {
	Version, Commit, Date string
}

func buildStamp() stamp {
	s := stamp{Version: version, Commit: commit, Date: date}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return s.orUnknown()
	}
	if s.Version == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
		s.Version = info.Main.Version
	}
	for _, kv := range info.Settings {
		switch {
		case kv.Key == "vcs.revision" && s.Commit == "":
			s.Commit = kv.Value
		case kv.Key == "vcs.time" && s.Date == "":
			s.Date = kv.Value
		}
	}
	if s.Version == "" && len(s.Commit) >= 12 {
		s.Version = "devel-" + s.Commit[:12]
	}
	return s.orUnknown()
}

func (s stamp) orUnknown() stamp {
	for _, f := range []*string{&s.Version, &s.Commit, &s.Date} {
		if *f == "" {
			*f = "unknown"
		}
	}
	if s.Version == "unknown" {
		s.Version = "devel"
	}
	return s
}

// buildVersion is the version alone (nodes report it to the cluster).
func buildVersion() string { return buildStamp().Version }

func newVersionCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and build date of o365prov",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s := buildStamp()
			_, err := fmt.Fprintf(a.stdout, "o365prov %s\ncommit: %s\nbuilt: %s\ngo: %s %s/%s\n",
				s.Version, s.Commit, s.Date, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return err
		},
	}
}
