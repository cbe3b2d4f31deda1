// Package provision assembles o365prov from a configuration: the state
// store, one Graph client for the tenant, and for each channel its
// directory and engine, joined through the engine's interfaces.
package provision

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/o365prov/o365prov/internal/config"
	"github.com/o365prov/o365prov/internal/directory"
	"github.com/o365prov/o365prov/internal/engine"
	"github.com/o365prov/o365prov/internal/graph"
	"github.com/o365prov/o365prov/internal/state"
	"github.com/o365prov/o365prov/internal/state/postgres"
	"github.com/o365prov/o365prov/internal/state/sqlite"
)

// Options tune how a System is assembled.
type Options struct {
	Logger *slog.Logger
	// HTTPClient carries Graph and token requests (tests trust the fake
	// tenant's certificate with it); default from the target's settings.
	HTTPClient *http.Client
	// Channels limits which channels are opened (all when empty).
	Channels []string
	// Clock is the engine's time; default the wall clock.
	Clock func() time.Time
	// Progress reports long applies (a bar on a terminal).
	Progress engine.Progress
	// GraphLimits overrides the client's pacing (benchmarks at a time scale).
	GraphLimits *graph.Limits
	// GraphRetry overrides the client's retry policy.
	GraphRetry *graph.RetryPolicy
	// Settle is how long references to a new object wait for Entra's
	// replicas (0: the engine's default).
	Settle time.Duration
	// RetryDirectory keeps a channel whose directory cannot be reached at
	// start: its cycles try again, with backoff, and fail until it answers
	// (the daemon). Without it Open fails.
	RetryDirectory bool
	// Metrics observes the Graph client (the console's monitor).
	Metrics graph.Metrics
	// WrapStore, when set, wraps the opened store; everything uses the
	// wrapped one (the console observes audit entries and cycles so).
	WrapStore func(state.Store) state.Store
	// ChannelProgress, when set, gives each channel's engine its own
	// progress report, alongside Progress.
	ChannelProgress func(channel string) engine.Progress
	// SignInMetrics, when set, counts the identity provider's sign-ins
	// and follows its signing certificates (the console's monitor).
	SignInMetrics SignInMetrics
}

func (o Options) clock() func() time.Time {
	if o.Clock != nil {
		return o.Clock
	}
	return time.Now
}

// System is an assembled o365prov: close it when done.
type System struct {
	Config        *config.Config
	Store         state.Store
	Graph         *graph.Client
	Engines       []*engine.Engine
	dirs          []*lazyDirectory
	cred          *credentialCheck
	sources       map[string]*source // by channel: the console reads entries through them
	tokens        graph.TokenSource  // for the console's readiness check
	signInMetrics SignInMetrics      // nil: none
}

// OpenStore opens the configured state store. A store that cannot be
// opened is a *PeerError saying what state.dsn needs.
func OpenStore(ctx context.Context, s config.State) (state.Store, error) {
	switch s.Driver {
	case "sqlite":
		st, err := sqlite.Open(ctx, s.DSN.Value())
		if err != nil {
			return nil, stateError(s, err)
		}
		return st, nil
	case "postgres":
		st, err := postgres.Open(ctx, s.DSN.Value())
		if err != nil {
			return nil, stateError(s, err)
		}
		return st, nil
	default:
		return nil, fmt.Errorf("state driver %q is unknown (sqlite or postgres)", s.Driver)
	}
}

// Open assembles the system. Each channel's directory is connected and
// bound here, so an unreachable server or a refused bind is reported at
// start with the channel's name, as a *PeerError that says what to do
// (unless o.RetryDirectory, when the channel keeps trying). A channel asked
// for that does not exist is an error wrapping ErrNoChannel.
func Open(ctx context.Context, cfg *config.Config, o Options) (*System, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if err := CheckChannels(cfg, o.Channels); err != nil {
		return nil, err
	}
	sys := &System{Config: cfg, signInMetrics: o.SignInMetrics}
	if err := sys.open(ctx, o); err != nil {
		// Close what was opened before the failure; the failure is what
		// the caller needs to hear of.
		_ = sys.Close()
		return nil, err
	}
	return sys, nil
}

func (s *System) open(ctx context.Context, o Options) error {
	cfg := s.Config
	var err error
	if s.Store, err = OpenStore(ctx, cfg.State); err != nil {
		return err
	}
	if o.WrapStore != nil {
		s.Store = o.WrapStore(s.Store)
	}
	if s.tokens, err = tokenSource(cfg, &o); err != nil {
		return err
	}
	gopts := graph.Options{HTTPClient: o.HTTPClient, MaxThreads: maxThreads(cfg), Timeout: graphTimeout(cfg), Logger: o.Logger.With("component", "graph"), Limits: o.GraphLimits, Metrics: o.Metrics, Tokens: s.tokens}
	if o.GraphRetry != nil {
		gopts.Retry = *o.GraphRetry
	}
	if s.Graph, err = graph.New(cfg.Target, gopts); err != nil {
		return fmt.Errorf("graph client: %w", err)
	}
	s.cred = &credentialCheck{c: s.Graph, store: s.Store, target: cfg.Target, now: o.clock(), log: o.Logger}
	for _, ch := range cfg.Channels {
		if !wanted(ch.Name, o.Channels) {
			continue
		}
		e, err := s.openChannel(ctx, ch, o)
		if err != nil {
			return err
		}
		s.Engines = append(s.Engines, e)
	}
	return nil
}

func (s *System) openChannel(ctx context.Context, ch config.Channel, o Options) (*engine.Engine, error) {
	log := o.Logger.With("channel", ch.Name)
	src := &source{groups: ch.Source.Groups != nil}
	dopts := []directory.Option{
		directory.WithLogger(log.With("component", "directory")),
		directory.WithProblemHandler(func(p directory.Problem) {
			log.Warn("directory entry skipped", "dn", p.DN, "reason", p.Reason)
			src.problem(p)
		}),
	}
	src.dir = &lazyDirectory{
		log:  log,
		now:  o.clock(),
		open: func(ctx context.Context) (*directory.Directory, error) { return OpenDirectory(ctx, ch, dopts...) },
	}
	s.dirs = append(s.dirs, src.dir)
	if s.sources == nil {
		s.sources = map[string]*source{}
	}
	s.sources[ch.Name] = src
	if _, err := src.dir.get(ctx); err != nil {
		if !o.RetryDirectory {
			return nil, err
		}
		log.Error("directory not usable at start; the channel keeps trying", "err", err, "retry_in", src.dir.retryIn())
	}
	eopts := []engine.Option{engine.WithLogger(o.Logger), engine.WithLeases(s.Store, holderName(), deadHolder),
		engine.WithFailoverGrace(s.Config.State.FailoverGrace), engine.WithSendGuard(graph.WithGuard)}
	if o.Clock != nil {
		eopts = append(eopts, engine.WithClock(o.Clock))
	}
	if p := progressFor(ch.Name, o); p != nil {
		eopts = append(eopts, engine.WithProgress(p))
	}
	if o.Settle > 0 {
		eopts = append(eopts, engine.WithSettle(o.Settle))
	}
	e, err := engine.New(ch, src, target{c: s.Graph, cred: s.cred, anchors: &anchors{c: s.Graph, appID: s.Config.Target.ClientID}}, s.Store, eopts...)
	if err != nil {
		return nil, err
	}
	return e, nil
}

// Authenticate gets a token for the app, as every cycle does first; a
// refusal is a *PeerError with Entra's reason and the fix.
func (s *System) Authenticate(ctx context.Context) error {
	return s.cred.authenticate(ctx)
}

// Engine returns a channel's engine.
func (s *System) Engine(name string) (*engine.Engine, bool) {
	for _, e := range s.Engines {
		if e.Name() == name {
			return e, true
		}
	}
	return nil, false
}

// Close releases everything Open took. A nil System has nothing to close.
func (s *System) Close() error {
	if s == nil {
		return nil
	}
	var errs []error
	for _, d := range s.dirs {
		errs = append(errs, d.close())
	}
	if s.Graph != nil {
		errs = append(errs, s.Graph.Close())
	}
	if s.Store != nil {
		errs = append(errs, s.Store.Close())
	}
	return errors.Join(errs...)
}

// maxThreads is the widest channel's maxThreads: the channels share one
// client, as they share the tenant's write budget.
func maxThreads(cfg *config.Config) int {
	n := 0
	for _, ch := range cfg.Channels {
		n = max(n, ch.MaxThreads)
	}
	return max(n, 1)
}

// NodeNameEnv, when set, names this node instead of the machine's host
// name (a Kubernetes pod's name, or several nodes on one machine).
const NodeNameEnv = "O365PROV_NODE_NAME"

// nodeHost is the first part of this process's holder name.
func nodeHost() string {
	if n := os.Getenv(NodeNameEnv); n != "" {
		return n
	}
	host, _ := os.Hostname()
	return host
}

// holderName names this process in channel leases and the nodes table:
// host/pid.
func holderName() string {
	return fmt.Sprintf("%s/%d", nodeHost(), os.Getpid())
}

// deadHolder reports whether a lease holder is a process of this machine
// that no longer runs. Holders on other machines are never judged dead:
// their leases expire.
func deadHolder(holder string) bool {
	host, pid, ok := strings.Cut(holder, "/")
	if !ok || host != nodeHost() {
		return false
	}
	n, err := strconv.Atoi(pid)
	if err != nil || n <= 0 || n == os.Getpid() {
		return false
	}
	return !processAlive(n)
}

func wanted(name string, only []string) bool {
	if len(only) == 0 {
		return true
	}
	for _, o := range only {
		if o == name {
			return true
		}
	}
	return false
}
