package graph_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/o365prov/o365prov/internal/config"
	"github.com/o365prov/o365prov/internal/faketenant"
	"github.com/o365prov/o365prov/internal/graph"
)

// withFaults turns on everything that goes wrong with Graph: throttling at
// the documented limits, latency, replication lag and injected 503s and
// 504s (half of the 504s applied anyway, as when a gateway gives up on a
// request the directory completed).
func withFaults(c *faketenant.Config, _ *config.Target, _ *graph.Options) {
	c.Throttling.Profile = "entra"
	c.Latency = faketenant.LatencyConfig{Distribution: "lognormal", Median: 200 * time.Millisecond, Sigma: 0.6}
	c.ReplicationLag = 30 * time.Second
	c.Faults = faketenant.FaultConfig{ServiceUnavailableRate: 0.05, GatewayTimeoutRate: 0.05, GatewayTimeoutAppliedRate: 0.5, RetryAfter: time.Second}
}

// createOutcome is what one create came to.
type createOutcome struct {
	upn string
	id  string
	err error
}

func TestNoRequestLostOrSentTwiceUnderFaults(t *testing.T) {
	f := newFixture(t, withFaults)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := f.client
	group, err := c.CreateGroup(ctx, securityGroup("everyone"))
	for errors.Is(err, graph.ErrOutcomeUnknown) {
		// A 504 may have swallowed it; this test is about users.
		group, err = c.CreateGroup(ctx, securityGroup(fmt.Sprintf("everyone%d", time.Now().UnixNano())))
	}
	if err != nil {
		t.Fatal(err)
	}

	const n = 120
	outcomes := make([]createOutcome, n)
	var wg sync.WaitGroup
	work := make(chan int)
	for range 40 {
		wg.Go(func() {
			for i := range work {
				outcomes[i] = createThenUse(ctx, c, group.ID, fmt.Sprintf("fault%03d", i))
			}
		})
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()

	var created, unknown []string
	for _, o := range outcomes {
		switch {
		case o.err == nil:
			created = append(created, o.id)
		case errors.Is(o.err, graph.ErrOutcomeUnknown) && o.id == "":
			unknown = append(unknown, o.upn)
		default:
			t.Errorf("%s: %v", o.upn, o.err)
		}
	}
	t.Logf("%d created, %d unknown outcomes; client %+v", len(created), len(unknown), f.stats.Snapshot().Retries)

	succeeded := len(created)
	t.Run("an unknown outcome is resolved by a lookup, never by a second create", func(t *testing.T) {
		for _, upn := range unknown {
			u, err := c.FindUserByUPN(ctx, upn)
			switch {
			case err == nil:
				created = append(created, u.ID)
			case !errors.Is(err, graph.ErrNotFound):
				t.Errorf("lookup %s: %v", upn, err)
			}
		}
		users := f.tenant.Users()
		if len(users) != len(created) {
			t.Errorf("the tenant holds %d users, the client accounts for %d", len(users), len(created))
		}
		// A create sent again after Graph applied it would meet its own
		// UPN: a 400 conflict.
		counters := f.tenant.Counters()
		if dup := counters.Count("POST", "/v1.0/users", 400); dup != 0 {
			t.Errorf("%d creates refused as duplicates: a create was sent twice", dup)
		}
		taken := counters.Count("POST", "/v1.0/users", 201) + counters.Count("POST", "/v1.0/users", 504)
		if taken > n || int(taken) < succeeded {
			t.Errorf("Graph took %d POST /users for %d users", taken, n)
		}
	})
	t.Run("every user created and patched is in the group", func(t *testing.T) {
		members := f.tenant.Members(group.ID)
		for _, o := range outcomes {
			if o.err == nil && !slices.Contains(members, o.id) {
				t.Errorf("%s is not a member", o.upn)
			}
		}
	})
	t.Run("deletes succeed even when a 504 hid the first one", func(t *testing.T) {
		var wg sync.WaitGroup
		for _, id := range created {
			wg.Go(func() {
				if err := c.DeleteUser(ctx, id); err != nil {
					t.Errorf("delete %s: %v", id, err)
				}
			})
		}
		wg.Wait()
		if got := len(f.tenant.Users()); got != 0 {
			t.Errorf("%d users left", got)
		}
	})
	if s := f.stats.Snapshot(); s.Retries[graph.RetryLag] == 0 || s.Retries[graph.RetryTransient] == 0 {
		t.Errorf("the faults did not happen: %+v", s.Retries)
	}
}

// createThenUse creates a user, then at once (inside the replication lag)
// patches it and adds it to a group, as the engine would.
func createThenUse(ctx context.Context, c *graph.Client, groupID, nick string) createOutcome {
	o := createOutcome{upn: nick + "@contoso.com"}
	u, err := c.CreateUser(ctx, userProps(nick))
	if err != nil {
		o.err = err
		return o
	}
	o.id = u.ID
	if err := c.PatchUser(ctx, u.ID, graph.Properties{"department": "Faults"}); err != nil {
		o.err = err
		return o
	}
	o.err = c.AddMember(ctx, groupID, u.ID)
	return o
}

func TestBatchesAgainstTheFakeTenant(t *testing.T) {
	f := newFixture(t, func(c *faketenant.Config, _ *config.Target, _ *graph.Options) {
		c.ReplicationLag = 30 * time.Second
	})
	ctx := context.Background()
	c := f.client
	skus, err := c.SKUs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	lic, _ := skus.License("ENTERPRISEPACK")
	t.Run("a chain on a user still replicating is retried whole until it succeeds", func(t *testing.T) {
		u, err := c.CreateUser(ctx, userProps("chain"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.AssignLicenseWithUsageLocation(ctx, u.ID, "FR", []graph.AssignedLicense{lic}, nil); err != nil {
			t.Fatal(err)
		}
		if snap, _ := f.tenant.User(u.ID); snap.UsageLocation != "FR" || len(snap.Licenses) != 1 {
			t.Errorf("tenant holds %+v", snap)
		}
		s := f.stats.Snapshot()
		if s.Retries[graph.RetryLag] == 0 || s.Retries[graph.RetryFailedBatch] == 0 {
			t.Errorf("no lag retry of the chain: %+v", s.Retries)
		}
	})
	t.Run("a dependency that fails for good fails its dependent", func(t *testing.T) {
		b := c.NewBatch()
		patch := b.Add(graph.PatchUserRequest("00000000-0000-0000-0000-00000000f00d", graph.Properties{"usageLocation": "FR"}))
		assign := b.AddAfter(patch, graph.AssignLicenseRequest("00000000-0000-0000-0000-00000000f00d", []graph.AssignedLicense{lic}, nil))
		if err := b.Send(ctx); err == nil {
			t.Fatal("no error")
		}
		if !graph.IsNotFound(patch.Err()) {
			t.Errorf("patch: %v", patch.Err())
		}
		if !errors.Is(assign.Err(), graph.ErrDependencyFailed) || !graph.IsNotFound(assign.Err()) {
			t.Errorf("assign: %v", assign.Err())
		}
	})
	t.Run("concurrent calls share batches of at most 20", func(t *testing.T) {
		var ids []string
		for i := range 60 {
			p := userProps(fmt.Sprintf("pack%02d", i))
			delete(p, "passwordProfile")
			id, err := f.tenant.AddUser(seed(p))
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		f.stats.Reset()
		var wg sync.WaitGroup
		for _, id := range ids {
			wg.Go(func() {
				if err := c.PatchUser(ctx, id, graph.Properties{"department": "Packed"}); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		s := f.stats.Snapshot()
		if s.Requests != 60 || s.HTTPRequests >= 30 {
			t.Errorf("%d requests in %d HTTP exchanges", s.Requests, s.HTTPRequests)
		}
		if bad := f.tenant.Counters().Count("POST", "/v1.0/$batch", 400); bad != 0 {
			t.Errorf("%d batches refused", bad)
		}
	})
}

func TestCancelledContextAgainstTheFakeTenant(t *testing.T) {
	f := newFixture(t, func(c *faketenant.Config, _ *config.Target, o *graph.Options) {
		c.TimeScale = 1 // real seconds: the queue below takes minutes to drain
		c.Throttling.Profile = "entra"
		o.MaxThreads = 1
	})
	c := f.client
	ctx, cancel := context.WithCancel(context.Background())
	// 3,000 writes fill one window; 100 more would wait minutes.
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Go(func() {
			errs <- c.PatchUser(ctx, fmt.Sprintf("00000000-0000-0000-0000-%012d", i), graph.Properties{"department": "x"})
		})
	}
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	cancel()
	wg.Wait()
	close(errs)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("callers returned %v after the cancel", d)
	}
	for err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) && !graph.IsNotFound(err) {
			t.Errorf("got %v", err)
		}
	}
}

func TestAClientThatOverestimatesItsBudgetStillFinishes(t *testing.T) {
	// Graph grants 150 writes per 150 s, a twentieth of what the client is
	// configured for (other instances spend the rest, say): the client meets
	// 429s, waits them out, lowers its quota towards what Graph lets it have
	// and loses nothing. Time runs 300× here, not 1000×, and the writes are
	// cheap PATCHes, so that the reduced budget (300 writes per wall second)
	// binds before this machine's CPU does, even under -race.
	f := newFixture(t, func(c *faketenant.Config, _ *config.Target, _ *graph.Options) {
		c.TimeScale = 300
		c.Throttling = faketenant.ThrottlingConfig{Profile: "custom", Limits: faketenant.Limits{AppTenantWrites: 150}}
	})
	ctx := context.Background()
	const n = 600
	ids := make([]string, n)
	for i := range ids {
		p := userProps(fmt.Sprintf("over%04d", i))
		delete(p, "passwordProfile")
		id, err := f.tenant.AddUser(seed(p))
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = id
	}
	var wg sync.WaitGroup
	work := make(chan string)
	for range 100 {
		wg.Go(func() {
			for id := range work {
				if err := f.client.PatchUser(ctx, id, graph.Properties{"department": "Over"}); err != nil {
					t.Errorf("patch %s: %v", id, err)
				}
			}
		})
	}
	for _, id := range ids {
		work <- id
	}
	close(work)
	wg.Wait()
	s := f.stats.Snapshot()
	for _, id := range ids {
		if u, _ := f.tenant.User(id); u.Properties["department"] != "Over" {
			t.Fatalf("user %s was not patched: %v", id, u.Properties["department"])
		}
	}
	// Without cutting its quota the client would meet a 429 for nearly
	// every request it sends once the first window is spent.
	if s.Throttled == 0 || s.Throttled > n/2 {
		t.Errorf("%d throttled of %d requests", s.Throttled, s.Requests)
	}
	t.Logf("%d requests, %d throttled, %d HTTP exchanges, latency %v", s.Requests, s.Throttled, s.HTTPRequests, f.client.Latency())
}
