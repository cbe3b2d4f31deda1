package engine

import (
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/o365prov/o365prov/internal/config"
	"github.com/o365prov/o365prov/internal/mapping"
)

// Engine provisions one channel.
type Engine struct {
	ch       config.Channel
	source   Source
	target   Target
	store    Store
	users    *mapping.Mapper
	groups   *mapping.Mapper
	clock    Clock
	rand     io.Reader
	log      *slog.Logger
	progress Progress
	workers  int
	settle   time.Duration
	lease    leasing

	// gone is set when the directory pushed that an entry left the scope:
	// the next incremental cycle enumerates the scope.
	goneMu sync.Mutex
	gone   bool
}

// noteGone records that the directory pushed a departure.
func (e *Engine) noteGone() {
	e.goneMu.Lock()
	e.gone = true
	e.goneMu.Unlock()
}

// takeGone reports, and clears, a pushed departure.
func (e *Engine) takeGone() bool {
	e.goneMu.Lock()
	defer e.goneMu.Unlock()
	g := e.gone
	e.gone = false
	return g
}

// Option configures an Engine.
type Option func(*Engine)

// WithClock sets the engine's time.
func WithClock(c Clock) Option { return func(e *Engine) { e.clock = c } }

// WithRand sets the randomness of generated passwords and plan ids.
func WithRand(r io.Reader) Option { return func(e *Engine) { e.rand = r } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(e *Engine) { e.log = l } }

// WithProgress reports the progress of long applies.
func WithProgress(p Progress) Option { return func(e *Engine) { e.progress = p } }

// WithSettle sets how long references to a new object wait for Entra's
// replicas to know it (default 2 s).
func WithSettle(d time.Duration) Option { return func(e *Engine) { e.settle = d } }

// WithWorkers sets how many operations run at once, at least: a target
// whose latency calls for more (InFlight, the Graph client) gets more. The
// Graph client bounds and batches the requests underneath.
func WithWorkers(n int) Option { return func(e *Engine) { e.workers = n } }

// defaultSettle is how long references to a new object wait: Entra's
// replicas usually know a new object within a second or two.
const defaultSettle = 2 * time.Second

// Progress is told how an apply advances.
type Progress interface {
	Start(total int)
	Done(n int)
	Finish()
}

type noProgress struct{}

func (noProgress) Start(int) {}
func (noProgress) Done(int)  {}
func (noProgress) Finish()   {}

// New compiles a channel's mappings and returns its engine.
func New(ch config.Channel, source Source, target Target, store Store, opts ...Option) (*Engine, error) {
	mopts := mapping.Options{Base64ImmutableID: ch.Options.Base64ImmutableID}
	users, errs := mapping.Compile(mapping.User, ch.Mapping.User, mopts)
	if len(errs) > 0 {
		return nil, fmt.Errorf("channel %s: user mapping: %v", ch.Name, errs[0])
	}
	groups, errs := mapping.Compile(mapping.Group, ch.Mapping.Group, mopts)
	if len(errs) > 0 {
		return nil, fmt.Errorf("channel %s: group mapping: %v", ch.Name, errs[0])
	}
	e := &Engine{
		ch: ch, source: source, target: target, store: store, users: users, groups: groups,
		clock: time.Now, rand: rand.Reader, log: slog.New(slog.DiscardHandler), progress: noProgress{},
		workers: max(ch.MaxThreads*5, 20), settle: defaultSettle,
	}
	for _, o := range opts {
		o(e)
	}
	// Every line the engine logs names its channel, once.
	e.log = e.log.With("channel", ch.Name)
	return e, nil
}

// Name is the channel's name.
func (e *Engine) Name() string { return e.ch.Name }

// userAttrs are the source attributes the user mapping reads, and memberOf
// when groups are provisioned.
func (e *Engine) userAttrs() []string {
	if e.users.AllAttributes() {
		return []string{"*"}
	}
	attrs := e.users.Attributes()
	if e.groupsEnabled() && e.ch.Source.MemberOfAttribute != "" {
		attrs = append(attrs, e.ch.Source.MemberOfAttribute)
	}
	return attrs
}

func (e *Engine) groupAttrs() []string {
	if e.groups.AllAttributes() {
		return []string{"*"}
	}
	attrs := e.groups.Attributes()
	if e.ch.Options.FlattenNested && e.ch.Source.MemberOfAttribute != "" {
		attrs = append(attrs, e.ch.Source.MemberOfAttribute) // parents of nested groups
	}
	return attrs
}

// newPlanner starts a plan.
func (e *Engine) newPlanner(mode string) (*planner, error) {
	id, err := e.planID()
	if err != nil {
		return nil, err
	}
	plan := &Plan{ID: id, Channel: e.ch.Name, Mode: mode, Created: e.clock().UTC()}
	return &planner{
		ch: &e.ch, store: e.store, target: e.target, users: e.users, groups: e.groups, now: e.clock(),
		b: newBuilder(plan), userByDN: map[string]string{}, managerOf: map[string]string{},
		seen: map[string]bool{}, provisioned: map[string]bool{}, skus: &skuCatalog{target: e.target}, domains: &domainSet{target: e.target},
	}, nil
}

// planID is a short random id operators can type.
func (e *Engine) planID() (string, error) {
	b := make([]byte, 6)
	if _, err := io.ReadFull(e.rand, b); err != nil {
		return "", fmt.Errorf("plan id: %w", err)
	}
	return fmt.Sprintf("%x", b), nil
}
