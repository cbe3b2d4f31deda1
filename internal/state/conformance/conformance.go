// Package conformance is the test suite every state.Store implementation must
// pass, so that the engine can rely on one behaviour whichever store it runs
// on (dex's storage/conformance is the model). An implementation's own test
// calls RunTests with a function that opens an empty store:
//
//	func TestConformance(t *testing.T) {
//		conformance.RunTests(t, func(t *testing.T) state.Store {
//			s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "state.db"))
//			if err != nil {
//				t.Fatal(err)
//			}
//			return s
//		})
//	}
//
// Times in the suite are fixed instants (a fake clock), except for leases and
// nodes, which run on the database's clock by contract: their tests use
// short ttls and wait for them to lapse.
package conformance

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/o365prov/o365prov/internal/state"
)

// test is one case of the suite; it gets a fresh, empty store.
type test struct {
	name string
	run  func(t *testing.T, s state.Store)
}

// RunTests runs the whole suite. open must return a new, empty store each
// time it is called; RunTests closes it when the test ends. Tests run one
// after the other, so open may reuse one database if it empties it.
func RunTests(t *testing.T, open func(t *testing.T) state.Store) {
	groups := []struct {
		name  string
		tests []test
	}{
		{"Channels", channelTests()},
		{"Objects", objectTests()},
		{"ObjectLookups", lookupTests()},
		{"DueRetries", retryTests()},
		{"Members", memberTests()},
		{"Cycles", cycleTests()},
		{"Plans", planTests()},
		{"Audit", auditTests()},
		{"Settings", settingTests()},
		{"Leases", leaseTests()},
		{"Items", itemTests()},
		{"Fencing", fenceTests()},
		{"Nodes", nodeTests()},
		{"Concurrency", concurrencyTests()},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, tc := range g.tests {
				t.Run(tc.name, func(t *testing.T) {
					s := open(t)
					t.Cleanup(func() {
						if err := s.Close(); err != nil {
							t.Errorf("close: %v", err)
						}
					})
					tc.run(t, s)
				})
			}
		})
	}
}

// at is the suite's fake clock: its "now" moved by d. The instant has
// microseconds, the precision stores keep.
func at(d time.Duration) time.Time {
	return time.Date(2025, 3, 14, 9, 30, 0, 123456000, time.UTC).Add(d)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// object is a valid object with every field set.
func object(channel string, kind state.Kind, guid string) state.Object {
	return state.Object{
		Channel:   channel,
		Kind:      kind,
		GUID:      guid,
		DN:        "CN=" + guid + ",OU=People,DC=example,DC=com",
		GraphID:   "graph-" + guid,
		Applied:   map[string]string{"displayName": `"` + guid + `"`, "accountEnabled": "true"},
		Lifecycle: state.LifecycleActive,
		Status:    state.StatusOK,
		UpdatedAt: at(0),
	}
}

func user(guid string) state.Object  { return object("staff", state.KindUser, guid) }
func group(guid string) state.Object { return object("staff", state.KindGroup, guid) }

// sameTime compares instants, not locations or monotonic readings.
func sameTime(a, b time.Time) bool { return a.Equal(b) }

// wantObject fails unless got is want as a store returns it: times in UTC at
// the microsecond, Applied never nil.
func wantObject(t *testing.T, got, want state.Object) {
	t.Helper()
	if want.Applied == nil {
		want.Applied = map[string]string{}
	}
	times := [][2]*time.Time{
		{&got.NextRetry, &want.NextRetry}, {&got.DeletedAt, &want.DeletedAt}, {&got.UpdatedAt, &want.UpdatedAt},
	}
	for _, p := range times {
		if !sameTime(*p[0], *p[1]) {
			t.Errorf("object %s: time %v, want %v", want, *p[0], *p[1])
		}
		*p[0], *p[1] = time.Time{}, time.Time{}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("object:\n got %+v\nwant %+v", got, want)
	}
}

// objects collects what Objects streams.
func objects(t *testing.T, s state.Store, channel string, kind state.Kind) []state.Object {
	t.Helper()
	var all []state.Object
	must(t, s.Objects(t.Context(), channel, kind, func(o state.Object) error {
		all = append(all, o)
		return nil
	}))
	return all
}

// guids are the objects' GUIDs, in order.
func guids(os []state.Object) []string {
	g := make([]string, len(os))
	for i, o := range os {
		g[i] = o.GUID
	}
	return g
}

// members collects what Members streams.
func members(t *testing.T, s state.Store, channel, group string) []string {
	t.Helper()
	var all []string
	must(t, s.Members(t.Context(), channel, group, func(m string) error {
		all = append(all, m)
		return nil
	}))
	return all
}

// sameStrings treats nil and empty alike.
func sameStrings(a, b []string) bool {
	return len(a) == len(b) && (len(a) == 0 || reflect.DeepEqual(a, b))
}

// exactlyOneWins checks the outcome of a race: one nil error, the others
// matching lost.
func exactlyOneWins(t *testing.T, what string, errs []error, lost error) {
	t.Helper()
	wins := 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, lost):
			t.Errorf("%s = %v, want nil or %v", what, err, lost)
		}
	}
	if wins != 1 {
		t.Errorf("%s: %d of %d racers won, want 1", what, wins, len(errs))
	}
}
