package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/o365prov/o365prov/internal/config"
	"github.com/o365prov/o365prov/internal/console"
	"github.com/o365prov/o365prov/internal/engine"
	"github.com/o365prov/o365prov/internal/graph"
	"github.com/o365prov/o365prov/internal/provision"
	"github.com/o365prov/o365prov/internal/state"
)

// observability is the console's monitor and the audit log's JSON lines,
// made before the system opens so that its Graph client and store report
// to them.
type observability struct {
	monitor *console.Monitor
	lines   *console.AuditLines
	closeFn func() error
}

// newObservability opens the audit lines (auditPath: a file, "-" for
// standard output, "" for none).
func newObservability(cfg *config.Config, auditPath string, stdout io.Writer, log *slog.Logger) (*observability, error) {
	ceiling := cfg.Target.WriteRate
	if ceiling <= 0 {
		l := graph.EntraLimits()
		ceiling = float64(l.Writes) / l.WriteWindow.Seconds()
	}
	ob := &observability{monitor: console.NewMonitor(ceiling, nil), closeFn: func() error { return nil }}
	onError := func(err error) { log.Error("audit log", "err", err) }
	switch auditPath {
	case "":
	case "-":
		ob.lines = console.NewAuditLines(stdout, onError)
	default:
		f, err := os.OpenFile(auditPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return nil, fmt.Errorf("--audit-log: %w", err)
		}
		ob.lines, ob.closeFn = console.NewAuditLines(f, onError), f.Close
	}
	return ob, nil
}

// options adds the monitor's hooks to the system's options.
func (ob *observability) options(o provision.Options) provision.Options {
	o.Metrics = ob.monitor
	o.WrapStore = func(st state.Store) state.Store { return console.Observe(st, ob.monitor, ob.lines) }
	o.ChannelProgress = func(ch string) engine.Progress { return ob.monitor.Progress(ch) }
	o.SignInMetrics = ob.monitor
	return o
}

// serveConsole starts the console on lc in the background; it stops with
// ctx. It returns the console's URL.
func serveConsole(ctx context.Context, sys *provision.System, r *engine.Runner, ob *observability, lc console.ListenConfig, token string, log *slog.Logger) (string, error) {
	channels := provision.ConsoleChannels(sys.Config)
	if err := ob.monitor.WatchObjects(sys.Store, channels); err != nil {
		return "", fmt.Errorf("console metrics: %w", err)
	}
	srv, err := console.New(console.Options{
		Channels: channels, Store: sys.Store, Control: sys.ConsoleControl(r, nil), Checks: sys.ConsoleChecks(), Monitor: ob.monitor,
		SignIns: sys.ConsoleSignIns(nil), Sessions: provision.ConsoleSessions(sys.Store),
		Token: token, Secure: lc.Certificate != "", Logger: log.With("component", "console"), Version: buildVersion(),
	})
	if err != nil {
		return "", err
	}
	l, err := console.Listen(ctx, lc, log.With("component", "console"))
	if err != nil {
		return "", err
	}
	go provision.PruneSSOItems(ctx, sys.Store, 10*time.Minute, log)
	go func() {
		if err := console.Serve(ctx, l, srv); err != nil {
			log.Error("console stopped", "err", err)
		}
	}()
	scheme := "http"
	if lc.Certificate != "" {
		scheme = "https"
	}
	return scheme + "://" + l.Addr().String() + "/", nil
}

// consoleListen reads the configuration's console section.
func consoleListen(c *config.Console) (console.ListenConfig, string) {
	lc := console.ListenConfig{Addr: c.Listen, TokenSet: c.AdminToken.IsSet()}
	if c.TLS != nil {
		lc.Certificate, lc.Key = c.TLS.Certificate, c.TLS.Key
	}
	return lc, c.AdminToken.Value()
}
