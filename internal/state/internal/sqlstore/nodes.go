package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/o365prov/o365prov/internal/state"
)

// Heartbeat implements state.Store.
func (s *Store) Heartbeat(ctx context.Context, n state.Node) error {
	ctx = state.WithoutFence(ctx)
	if err := state.ValidateNode(n); err != nil {
		return fmt.Errorf("heartbeat: %w", err)
	}
	err := s.inTx(ctx, func(tx tx) error {
		if _, err := tx.exec(ctx, `
			INSERT INTO nodes (name, address, version, serves, started, last_seen) VALUES ($1, $2, $3, $4, `+s.now()+`, `+s.now()+`)
			ON CONFLICT (name) DO UPDATE
			SET address = excluded.address, version = excluded.version, serves = excluded.serves, last_seen = excluded.last_seen`,
			n.Name, n.Address, n.Version, strings.Join(n.Serves, ",")); err != nil {
			return err
		}
		_, err := tx.exec(ctx, `DELETE FROM nodes WHERE last_seen < `+s.nowPlus("$1"), -state.NodeRetention.Microseconds())
		return err
	})
	if err != nil {
		return fmt.Errorf("heartbeat of node %s: %w", n.Name, err)
	}
	return nil
}

// Nodes implements state.Store.
func (s *Store) Nodes(ctx context.Context) ([]state.Node, error) {
	rows, err := s.query(ctx, `SELECT name, address, version, serves, started, last_seen, `+s.now()+` FROM nodes ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("nodes: %w", err)
	}
	defer rows.Close()
	var nodes []state.Node
	for rows.Next() {
		var (
			n                      state.Node
			serves                 string
			started, lastSeen, now nullTime
		)
		if err := rows.Scan(&n.Name, &n.Address, &n.Version, &serves, &started, &lastSeen, &now); err != nil {
			return nil, fmt.Errorf("nodes: %w", err)
		}
		if serves != "" {
			n.Serves = strings.Split(serves, ",")
		}
		n.Started, n.LastSeen, n.Age = started.t, lastSeen.t, now.t.Sub(lastSeen.t)
		nodes = append(nodes, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("nodes: %w", err)
	}
	return nodes, nil
}

// RemoveNode implements state.Store.
func (s *Store) RemoveNode(ctx context.Context, name string) error {
	if _, err := s.exec(state.WithoutFence(ctx), `DELETE FROM nodes WHERE name = $1`, name); err != nil {
		return fmt.Errorf("remove node %s: %w", name, err)
	}
	return nil
}
