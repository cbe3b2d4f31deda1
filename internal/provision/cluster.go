package provision

import (
	"net"
	"os"

	"github.com/o365prov/o365prov/internal/engine"
	"github.com/o365prov/o365prov/internal/state"
)

// Cluster is how this process shares the channels with the other nodes of
// a PostgreSQL store; nil with SQLite, which one process uses alone (its
// cycles take the channel's lease one at a time instead).
func (s *System) Cluster(version string) *engine.Cluster {
	if s.Config.State.Driver != "postgres" {
		return nil
	}
	return &engine.Cluster{
		Leases: s.Store,
		Nodes:  s.Store,
		Node:   s.node(version),
		Grace:  s.Config.State.FailoverGrace,
	}
}

// node describes this process in the nodes table: what it serves and where
// an operator finds it (the console's port on this host, else the host).
func (s *System) node(version string) state.Node {
	host, _ := os.Hostname()
	n := state.Node{Name: holderName(), Address: host, Version: version, Serves: []string{engine.ServesChannels}}
	if s.Config.SSO != nil {
		n.Serves = append(n.Serves, "sso")
	}
	if c := s.Config.Console; c != nil {
		n.Serves = append(n.Serves, "console")
		if _, port, err := net.SplitHostPort(c.Listen); err == nil {
			n.Address = net.JoinHostPort(host, port)
		}
	}
	return n
}
