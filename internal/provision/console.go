package provision

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/o365prov/o365prov/internal/config"
	"github.com/o365prov/o365prov/internal/console"
	"github.com/o365prov/o365prov/internal/engine"
	"github.com/o365prov/o365prov/internal/graph"
	"github.com/o365prov/o365prov/internal/mapping"
	"github.com/o365prov/o365prov/internal/state"
)

// tokenSource builds the Graph token source here rather than in the graph
// client, so the console's readiness check can ask it for a token too.
func tokenSource(cfg *config.Config, o *Options) (graph.TokenSource, error) {
	if o.HTTPClient == nil {
		hc, err := graph.NewHTTPClient(cfg.Target, maxThreads(cfg))
		if err != nil {
			return nil, fmt.Errorf("graph client: %w", err)
		}
		o.HTTPClient = hc
	}
	ts, err := graph.NewMSALTokenSource(cfg.Target, o.HTTPClient)
	if err != nil {
		return nil, fmt.Errorf("graph client: %w", err)
	}
	return ts, nil
}

// progressFor is a channel's progress report: the shared one (a bar on a
// terminal) and the channel's own (the console's), when set.
func progressFor(channel string, o Options) engine.Progress {
	var ps []engine.Progress
	if o.Progress != nil {
		ps = append(ps, o.Progress)
	}
	if o.ChannelProgress != nil {
		if p := o.ChannelProgress(channel); p != nil {
			ps = append(ps, p)
		}
	}
	switch len(ps) {
	case 0:
		return nil
	case 1:
		return ps[0]
	}
	return progresses(ps)
}

type progresses []engine.Progress

func (ps progresses) Start(n int) {
	for _, p := range ps {
		p.Start(n)
	}
}

func (ps progresses) Done(n int) {
	for _, p := range ps {
		p.Done(n)
	}
}

func (ps progresses) Finish() {
	for _, p := range ps {
		p.Finish()
	}
}

// ConsoleChannels describes the configured channels for the console.
func ConsoleChannels(cfg *config.Config) []console.ChannelInfo {
	out := make([]console.ChannelInfo, len(cfg.Channels))
	for i, ch := range cfg.Channels {
		out[i] = console.ChannelInfo{Name: ch.Name, Active: ch.Active, Interval: ch.Interval, FullSyncInterval: ch.FullSyncInterval}
	}
	return out
}

// ConsoleSessions is where the console keeps sign-in sessions: the state
// store's items when it has them (keys "console/session/" and a hash of
// the token), so a person signed in on one node is signed in on every node
// and a restart signs nobody out; else this process's memory.
func ConsoleSessions(st state.Store) console.SessionStore {
	if is, ok := st.(state.ItemStore); ok {
		return is
	}
	return console.NewMemorySessions()
}

// ConsoleChecks are /readyz's probes: the store, a Graph token, and each
// channel's directory.
func (s *System) ConsoleChecks() []console.Check {
	checks := []console.Check{
		{Name: "store", Probe: func(ctx context.Context) error {
			if _, err := s.Store.Leases(ctx); err != nil {
				return fmt.Errorf("read the state store: %w", err)
			}
			return nil
		}},
		{Name: "token", Probe: func(ctx context.Context) error {
			if _, err := s.tokens.Token(ctx); err != nil {
				return fmt.Errorf("obtain a Graph token: %w", err)
			}
			return nil
		}},
	}
	names := make([]string, 0, len(s.sources))
	for name := range s.sources {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		src := s.sources[name]
		checks = append(checks, console.Check{Name: "directory " + name, Probe: func(ctx context.Context) error {
			if _, err := src.Watermark(ctx); err != nil {
				return fmt.Errorf("read the directory's position: %w", err)
			}
			return nil
		}})
	}
	return checks
}

// ConsoleControl adapts the runner and engines to the console's Controller.
func (s *System) ConsoleControl(r *engine.Runner, clock func() time.Time) console.Controller {
	if clock == nil {
		clock = time.Now
	}
	return &control{s: s, r: r, clock: clock}
}

type control struct {
	s     *System
	r     *engine.Runner
	clock func() time.Time
}

func (c *control) engine(channel string) (*engine.Engine, error) {
	e, ok := c.s.Engine(channel)
	if !ok {
		return nil, fmt.Errorf("%w %q", console.ErrUnknownChannel, channel)
	}
	return e, nil
}

func (c *control) Sync(_ context.Context, channel string, mode console.SyncMode) error {
	if _, err := c.engine(channel); err != nil {
		return err
	}
	m := engine.Incremental
	switch mode {
	case console.SyncFull:
		m = engine.Full
	case console.SyncVerify:
		m = engine.Verify
	}
	return c.r.Trigger(channel, m)
}

func (c *control) Approve(ctx context.Context, channel, id, by string) error {
	return engine.Approve(ctx, c.s.Store, channel, id, by, c.clock())
}

func (c *control) Reject(ctx context.Context, channel, id, by string) error {
	return engine.Reject(ctx, c.s.Store, channel, id, by, c.clock())
}

func (c *control) Preview(ctx context.Context, channel string) (console.Preview, error) {
	e, err := c.engine(channel)
	if err != nil {
		return console.Preview{}, err
	}
	p, err := e.Plan(ctx, engine.Incremental)
	if err != nil {
		return console.Preview{}, err
	}
	pv := console.Preview{ID: p.ID, Mode: p.Mode, Held: p.Held, Counts: p.Counts(), Ops: make([]console.PlanOp, len(p.Ops))}
	for i, op := range p.Ops {
		pv.Ops[i] = console.PlanOp{Type: string(op.Type), Kind: string(op.Kind), Name: op.Name, DN: op.DN, Reason: op.Reason}
	}
	for _, pr := range p.Problems {
		pv.Problems = append(pv.Problems, pr.DN+": "+pr.Reason)
	}
	return pv, nil
}

// Source reads the entry with the attributes the channel's mapping reads,
// and maps it as the engine would.
func (c *control) Source(ctx context.Context, channel string, kind state.Kind, dn string) (console.SourceEntry, error) {
	src, ok := c.s.sources[channel]
	ch, found := c.s.Config.Channel(channel)
	if !ok || !found {
		return console.SourceEntry{}, fmt.Errorf("%w %q", console.ErrUnknownChannel, channel)
	}
	mk, fields, ek := mapping.User, ch.Mapping.User, engine.KindUser
	if kind == state.KindGroup {
		mk, fields, ek = mapping.Group, ch.Mapping.Group, engine.KindGroup
	}
	m, errs := mapping.Compile(mk, fields, mapping.Options{Base64ImmutableID: ch.Options.Base64ImmutableID})
	if len(errs) > 0 {
		return console.SourceEntry{}, fmt.Errorf("channel %s: %s mapping: %v", channel, kind, errs[0])
	}
	attrs := m.Attributes()
	if m.AllAttributes() {
		attrs = []string{"*"}
	}
	e, err := src.Lookup(ctx, ek, dn, attrs)
	if errors.Is(err, engine.ErrNotInSource) {
		return console.SourceEntry{}, fmt.Errorf("%s is no longer in the channel's scope", dn)
	}
	if err != nil {
		return console.SourceEntry{}, fmt.Errorf("read %s: %w", dn, err)
	}
	se := console.SourceEntry{DN: e.DN, Enabled: e.Enabled, Attributes: e.Attributes}
	obj, err := m.Map(mapping.Entry{DN: e.DN, GUID: e.GUID, RawGUID: e.RawGUID, Enabled: e.Enabled, Attributes: e.Attributes})
	if err != nil {
		se.Error = err.Error()
	} else {
		se.Mapped = obj.Fields
	}
	return se, nil
}
