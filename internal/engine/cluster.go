package engine

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/o365prov/o365prov/internal/state"
)

// Nodes is what a cluster needs of the store to know its members.
type Nodes interface {
	Heartbeat(ctx context.Context, n state.Node) error
	Nodes(ctx context.Context) ([]state.Node, error)
	RemoveNode(ctx context.Context, name string) error
}

// ServesChannels is the service a node that runs channels lists.
const ServesChannels = "channels"

// Cluster divides the channels among the nodes sharing a store. Each node
// holds a channel's lease for as long as it runs the channel — not just for
// a cycle — renewing it on the store's clock; the others stand by and take
// it over within the failover grace when the holder dies, is stopped, or
// is asked to hand it over. A node takes a channel only while it holds
// fewer than its share (the channels divided by the live nodes, rounded
// up), unless no other node is alive or the channel has stayed free for a
// whole grace; a node holding more than its share lets one go, between
// cycles, while another holds less.
type Cluster struct {
	Leases Leases
	Nodes  Nodes
	// Node is this node; its Name is the holder of its leases, and must be
	// the holder its engines were given (WithLeases).
	Node  state.Node
	Grace time.Duration
	Log   *slog.Logger

	mu sync.Mutex
	// gaveUp is when this node last let a channel go (handover, share):
	// it leaves it to the others for a grace.
	gaveUp map[string]time.Time
	// freeSince is when this node first saw a channel with no lease row.
	freeSince map[string]time.Time
}

func (c *Cluster) timing() leaseTiming {
	if c.Grace <= 0 {
		return timingFor(DefaultFailoverGrace)
	}
	return timingFor(c.Grace)
}

func (c *Cluster) grace() time.Duration {
	if c.Grace <= 0 {
		return DefaultFailoverGrace
	}
	return c.Grace
}

// heartbeat records this node every poll until ctx ends, then removes it.
func (c *Cluster) heartbeat(ctx context.Context) {
	tick := time.NewTicker(c.timing().poll)
	defer tick.Stop()
	for {
		if err := c.Nodes.Heartbeat(ctx, c.Node); err != nil && ctx.Err() == nil {
			c.Log.Warn("record this node's heartbeat", "node", c.Node.Name, "err", err)
		}
		select {
		case <-ctx.Done():
			if err := c.Nodes.RemoveNode(context.WithoutCancel(ctx), c.Node.Name); err != nil {
				c.Log.Warn("remove this node from the store", "node", c.Node.Name, "err", err)
			}
			return
		case <-tick.C:
		}
	}
}

// view is what the cluster looks like to this node at one moment.
type view struct {
	lease    state.Lease // the channel's (zero when never taken)
	found    bool
	mine     []string // names of the leases this node holds
	live     int      // live nodes that run channels, this one included
	others   int      // of which others
	under    bool     // some other live node holds fewer than its share
	liveName map[string]bool
}

// look reads the leases and nodes.
func (c *Cluster) look(ctx context.Context, name string, channels int) (view, int, error) {
	leases, err := c.Leases.Leases(ctx)
	if err != nil {
		return view{}, 0, err
	}
	nodes, err := c.Nodes.Nodes(ctx)
	if err != nil {
		return view{}, 0, err
	}
	v := view{liveName: map[string]bool{c.Node.Name: true}}
	for _, n := range nodes {
		if n.Name != c.Node.Name && n.Age < c.grace() && slices.Contains(n.Serves, ServesChannels) {
			v.liveName[n.Name] = true
			v.others++
		}
	}
	v.live = v.others + 1
	share := (channels + v.live - 1) / v.live
	held := map[string]int{}
	for _, l := range leases {
		if l.Name == name {
			v.lease, v.found = l, true
		}
		if l.Held() {
			held[l.Holder]++
			if l.Holder == c.Node.Name {
				v.mine = append(v.mine, l.Name)
			}
		}
	}
	for n := range v.liveName {
		if n != c.Node.Name && held[n] < share {
			v.under = true
		}
	}
	return v, share, nil
}

// freeFor is how long the channel's lease has been free, as far as this
// node can tell.
func (c *Cluster) freeFor(v view, name string) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	if v.found {
		delete(c.freeSince, name)
		return -v.lease.Remaining
	}
	if c.freeSince == nil {
		c.freeSince = map[string]time.Time{}
	}
	if _, ok := c.freeSince[name]; !ok {
		c.freeSince[name] = time.Now()
	}
	return time.Since(c.freeSince[name])
}

// ourTurn decides whether this node should try to take the channel now.
func (c *Cluster) ourTurn(ctx context.Context, e *Engine, channels int) bool {
	name := e.leaseName()
	v, share, err := c.look(ctx, name, channels)
	if err != nil {
		c.Log.Warn("read the cluster's leases and nodes", "channel", e.ch.Name, "err", err)
		return false
	}
	if v.lease.Held() {
		// Our own (a lease we did not know we held) or a dead process's
		// on this machine is taken at once; another's is not.
		return v.lease.Holder == c.Node.Name || (e.lease.dead != nil && e.lease.dead(v.lease.Holder))
	}
	if v.others == 0 {
		return true
	}
	free := c.freeFor(v, name)
	if free >= c.grace() {
		return true // no one else took it: whoever is left must
	}
	if to := v.lease.HandoverTo; to != "" && to != state.HandoverAny && to != c.Node.Name && v.liveName[to] {
		return false // reserved for the node an operator named
	}
	c.mu.Lock()
	gave, ok := c.gaveUp[name]
	c.mu.Unlock()
	if ok && time.Since(gave) < c.grace() {
		return false
	}
	return len(v.mine) < share
}

// shouldLetGo reports whether this node should hand the channel to
// another between cycles: asked by an operator, or holding more than its
// share while another node holds less (one channel at a time: the last by
// name).
func (c *Cluster) shouldLetGo(ctx context.Context, e *Engine, h *held, channels int) (bool, string) {
	if to := h.handoverTo(); to != "" {
		return true, "an operator asked to hand it over to " + to
	}
	v, share, err := c.look(ctx, e.leaseName(), channels)
	if err != nil || len(v.mine) <= share || !v.under {
		return false, ""
	}
	slices.Sort(v.mine)
	if v.mine[len(v.mine)-1] != e.leaseName() {
		return false, ""
	}
	return true, "this node holds more than its share of the channels"
}

// lead runs a channel on this node whenever it is this node's to run:
// run gets a context that ends when the lease is lost (or a stop overran
// stopTimeout) and a channel closed when it should finish its cycle and
// return (the process stops, or the channel goes to another node).
func (c *Cluster) lead(ctx context.Context, e *Engine, channels int, stopTimeout time.Duration, run func(hard context.Context, stop <-chan struct{})) {
	t := c.timing()
	for ctx.Err() == nil {
		if c.ourTurn(ctx, e, channels) {
			h, err := e.acquire(ctx, t.ttl)
			switch {
			case err == nil:
				c.Log.Info("this node runs the channel now", "channel", e.ch.Name, "node", c.Node.Name, "epoch", h.fence.Epoch)
				c.runHeld(ctx, e, h, channels, stopTimeout, run)
				continue
			case ctx.Err() == nil && !isBusy(err):
				c.Log.Warn("take the channel's lease", "channel", e.ch.Name, "err", err)
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(t.poll):
		}
	}
}

// runHeld runs the channel under h until the lease is lost, the process
// stops or the channel should go to another node, then releases the lease
// (unless lost).
func (c *Cluster) runHeld(ctx context.Context, e *Engine, h *held, channels int, stopTimeout time.Duration, run func(context.Context, <-chan struct{})) {
	t := c.timing()
	hard, cancel := context.WithCancelCause(e.under(context.WithoutCancel(ctx), h))
	defer cancel(nil)
	stop := make(chan struct{})
	var once sync.Once
	letGo := func(why string) {
		once.Do(func() {
			c.Log.Info("letting the channel go at the end of its cycle", "channel", e.ch.Name, "why", why)
			close(stop)
		})
	}
	e.lease.leading.Store(h)
	defer e.lease.leading.Store(nil)
	done := make(chan struct{})
	go func() {
		tick := time.NewTicker(t.renew)
		defer tick.Stop()
		var stopping <-chan time.Time
		terminate := ctx.Done()
		for {
			select {
			case <-done:
				return
			case <-terminate:
				letGo("this node is stopping")
				stopping, terminate = time.After(stopTimeout), nil
			case <-stopping:
				cancel(ErrStopped)
			case <-tick.C:
				err := h.renew(hard)
				if isLost(err) {
					c.Log.Error("lost the channel's lease; stopping its work at once", "channel", e.ch.Name, "err", err)
					cancel(err)
					return
				}
				if err != nil {
					c.Log.Warn("renew the channel's lease", "channel", e.ch.Name, "err", err)
					continue
				}
				if ok, why := c.shouldLetGo(hard, e, h, channels); ok {
					letGo(why)
				}
			}
		}
	}()
	run(hard, stop)
	close(done)
	if h.check(context.WithoutCancel(hard)) != nil {
		return // lost: nothing of ours to release
	}
	select {
	case <-stop:
		c.mu.Lock()
		if c.gaveUp == nil {
			c.gaveUp = map[string]time.Time{}
		}
		c.gaveUp[e.leaseName()] = time.Now()
		c.mu.Unlock()
	default:
	}
	if err := c.Leases.ReleaseLease(context.WithoutCancel(ctx), h.fence.Lease, h.fence.Holder); err != nil {
		c.Log.Warn("release the channel's lease", "channel", e.ch.Name, "err", err)
	}
}
