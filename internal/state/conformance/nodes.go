package conformance

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/o365prov/o365prov/internal/state"
)

func nodes(t *testing.T, s state.Store) []state.Node {
	t.Helper()
	ns, err := s.Nodes(t.Context())
	must(t, err)
	return ns
}

func nodeTests() []test {
	return []test{
		{"a heartbeat records a node on the database's clock; later ones keep its start", func(t *testing.T, s state.Store) {
			n := state.Node{Name: "host-a/41", Address: "10.0.0.1:9090", Version: "v1.0.0", Serves: []string{"channels", "console"}}
			must(t, s.Heartbeat(t.Context(), n))
			first := nodes(t, s)
			if len(first) != 1 || first[0].Name != n.Name || first[0].Address != n.Address || first[0].Version != n.Version ||
				!slices.Equal(first[0].Serves, n.Serves) || first[0].Started.IsZero() || !first[0].Started.Equal(first[0].LastSeen) ||
				first[0].Age < 0 || first[0].Age > 5*time.Second {
				t.Fatalf("Nodes = %+v, want %+v seen just now", first, n)
			}
			time.Sleep(20 * time.Millisecond)
			n.Version = "v1.0.1"
			must(t, s.Heartbeat(t.Context(), n))
			second := nodes(t, s)
			if len(second) != 1 || !second[0].Started.Equal(first[0].Started) || !second[0].LastSeen.After(first[0].LastSeen) || second[0].Version != "v1.0.1" {
				t.Errorf("after a second heartbeat: %+v, want the same start, a later last seen and v1.0.1", second)
			}
		}},
		{"nodes are listed by name, and a removed node is gone", func(t *testing.T, s state.Store) {
			for _, name := range []string{"host-b/2", "host-a/1", "host-c/3"} {
				must(t, s.Heartbeat(t.Context(), state.Node{Name: name}))
			}
			must(t, s.RemoveNode(t.Context(), "host-b/2"))
			must(t, s.RemoveNode(t.Context(), "host-z/9"))
			ns := nodes(t, s)
			if len(ns) != 2 || ns[0].Name != "host-a/1" || ns[1].Name != "host-c/3" || ns[0].Serves != nil {
				t.Errorf("Nodes = %+v, want host-a/1 then host-c/3, serving nothing", ns)
			}
		}},
		{"a node without a name or with a bad service is rejected", func(t *testing.T, s state.Store) {
			for _, n := range []state.Node{{}, {Name: "host-a/1", Serves: []string{"sso,console"}}} {
				if err := s.Heartbeat(t.Context(), n); !errors.Is(err, state.ErrInvalid) {
					t.Errorf("Heartbeat(%+v) = %v, want ErrInvalid", n, err)
				}
			}
		}},
	}
}
