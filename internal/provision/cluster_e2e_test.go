//go:build e2e

package provision_test

// Clustered mode end to end, as an operator runs it: three `o365prov run`
// processes (the real binary) sharing a PostgreSQL state, the embedded
// directory and the fake tenant with throttling on, its clock twenty times
// faster than the wall's. Run with the end-to-end pass (make cluster-e2e):
//
//	go test -tags e2e -count=1 -run '^TestCluster' ./internal/provision/

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/o365prov/o365prov/internal/engine"
	"github.com/o365prov/o365prov/internal/faketenant"
	"github.com/o365prov/o365prov/internal/ldapserver"
	"github.com/o365prov/o365prov/internal/provision"
	"github.com/o365prov/o365prov/internal/state"
	"github.com/o365prov/o365prov/internal/state/pgtest"
	"github.com/o365prov/o365prov/internal/state/postgres"
)

// clusterGrace is the nodes' state.failoverGrace.
const clusterGrace = 5 * time.Second

// buildOnce builds the o365prov binary the nodes run, once per test run.
var buildOnce = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "o365prov-e2e-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "o365prov")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/o365prov/o365prov/cmd/o365prov").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// arrival is one request as the tenant received it, and from which node.
type arrival struct {
	node   int
	at     time.Time
	method string
	path   string
}

// cluster is the directory, the tenant, a state database and the nodes.
type cluster struct {
	t      *testing.T
	dir    string
	bin    string
	ldap   *ldapserver.Server
	tenant *faketenant.Tenant
	store  state.Store // the test's own view of the shared state
	nodes  []*clusterNode

	mu       sync.Mutex
	arrivals []arrival
}

// clusterNode is one `o365prov run` process with the tenant server only it
// talks to, so the tenant's request log tells the nodes apart.
type clusterNode struct {
	i      int
	config string
	logf   string
	cmd    *exec.Cmd
	exited chan error
}

func newCluster(t *testing.T, users int) *cluster {
	t.Helper()
	bin, err := buildOnce()
	if err != nil {
		t.Fatal(err)
	}
	c := &cluster{t: t, dir: t.TempDir(), bin: bin}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	bindDN, bindPassword := "cn=admin,dc=contoso,dc=com", "admin-Secret-1"
	c.ldap, err = ldapserver.New(ldapserver.Options{LDIF: strings.NewReader(orgLDIF(users)), AdminDN: bindDN, AdminPassword: bindPassword})
	if err != nil {
		t.Fatal(err)
	}
	ldapAddr, err := c.ldap.Start(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.ldap.Close() })

	tc := faketenant.DemoConfig()
	tc.TimeScale = 20
	tc.ReplicationLag = time.Second
	tc.Latency = faketenant.LatencyConfig{Distribution: "uniform", Min: 20 * time.Millisecond, Max: 80 * time.Millisecond}
	if c.tenant, err = faketenant.New(tc); err != nil {
		t.Fatal(err)
	}
	dsn := pgtest.Database(t)
	if c.store, err = postgres.Open(ctx, dsn); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.store.Close() })
	for i := range 3 {
		c.nodes = append(c.nodes, c.configure(i, dsn, "ldap://"+ldapAddr, bindDN, bindPassword))
	}
	t.Cleanup(func() {
		if t.Failed() || os.Getenv("O365PROV_E2E_LOGS") != "" {
			c.dumpLogs()
		}
	})
	return c
}

// configure gives node i a tenant server of its own and a configuration.
func (c *cluster) configure(i int, dsn, ldapURL, bindDN, bindPassword string) *clusterNode {
	t := c.t
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.arrivals = append(c.arrivals, arrival{node: i, at: time.Now(), method: r.Method, path: r.URL.Path})
		c.mu.Unlock()
		c.tenant.ServeHTTP(w, r)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // killed clients make handshake noise
	srv.StartTLS()
	t.Cleanup(srv.Close)
	ca := filepath.Join(c.dir, fmt.Sprintf("tenant-ca-%d.pem", i))
	writePEM(t, ca, srv)
	// The client may write faster than the tenant accepts (20 writes/s
	// scaled 20 times is 400/s): the tenant throttles, and the nodes must
	// honour its Retry-After.
	doc := fmt.Sprintf(`
state: {driver: postgres, dsn: '%s', failoverGrace: %s}
target:
  tenant: %s
  clientId: %s
  clientSecret: %s
  graphURL: %s
  loginURL: %s
  caFile: '%s'
  writeRate: 500
  resourceUnits: 70000
channels:
  - name: staff
    interval: 1s
    maxThreads: 8
    source:
      type: openldap
      url: %s
      bindDN: '%s'
      password: '%s'
      baseDN: dc=contoso,dc=com
      users: {filter: "(objectClass=inetOrgPerson)"}
      accountStatus: {algorithm: FLAG, attribute: nsAccountLock, flagValue: "true", flagMeansDisabled: true}
      changeDetection: {push: "off"}
    mapping:
      user:
        skuId: ''
        manager: ''
`, dsn, clusterGrace, faketenant.DemoTenantID, faketenant.DemoClientID, faketenant.DemoClientSecret, srv.URL, srv.URL, ca,
		ldapURL, bindDN, bindPassword)
	n := &clusterNode{i: i, config: filepath.Join(c.dir, fmt.Sprintf("node-%d.yaml", i)), logf: filepath.Join(c.dir, fmt.Sprintf("node-%d.log", i))}
	if err := os.WriteFile(n.config, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	return n
}

// start runs node i's `o365prov run`.
func (c *cluster) start(i int) {
	c.t.Helper()
	n := c.nodes[i]
	out, err := os.OpenFile(n.logf, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		c.t.Fatal(err)
	}
	n.cmd = exec.Command(c.bin, "run", "--config", n.config, "--log-level", "info")
	// Nodes named apart, as on different machines: none may judge another
	// dead by its process id, so takeovers go by the lease alone.
	n.cmd.Env = append(os.Environ(), fmt.Sprintf("%s=node-%d", provision.NodeNameEnv, i))
	n.cmd.Stdout, n.cmd.Stderr = out, out
	if err := n.cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	n.exited = make(chan error, 1)
	go func() { n.exited <- n.cmd.Wait(); out.Close() }()
	c.t.Cleanup(func() {
		_ = n.cmd.Process.Signal(syscall.SIGCONT)
		_ = n.cmd.Process.Kill()
	})
}

// holder is the node index that runs the channel now, -1 if none.
func (c *cluster) holder() int {
	c.t.Helper()
	leases, err := c.store.Leases(context.Background())
	if err != nil {
		c.t.Fatal(err)
	}
	for _, l := range leases {
		if l.Name != "channel/staff" || !l.Held() {
			continue
		}
		for _, n := range c.nodes {
			if n.cmd != nil && strings.HasSuffix(l.Holder, fmt.Sprintf("/%d", n.cmd.Process.Pid)) {
				return n.i
			}
		}
	}
	return -1
}

// waitFor polls cond until it holds, failing the test after timeout.
func (c *cluster) waitFor(what string, timeout time.Duration, cond func() bool) time.Time {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			c.dumpLogs()
			c.t.Fatalf("%s: not within %v", what, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return time.Now()
}

func (c *cluster) waitForHolder(timeout time.Duration, not ...int) (int, time.Time) {
	c.t.Helper()
	h := -1
	at := c.waitFor("a node runs the channel", timeout, func() bool {
		h = c.holder()
		for _, n := range not {
			if h == n {
				return false
			}
		}
		return h >= 0
	})
	return h, at
}

// users counts the tenant's users that are not deleted, and the distinct
// user principal names among them.
func (c *cluster) users() (count, distinct int) {
	seen := map[string]bool{}
	for _, u := range c.tenant.Users() {
		if u.Deleted.IsZero() {
			count++
			seen[strings.ToLower(u.UserPrincipalName)] = true
		}
	}
	return count, len(seen)
}

// recorded is how many users state records.
func (c *cluster) recorded() int {
	n, err := c.store.CountObjects(context.Background(), "staff", state.KindUser)
	if err != nil {
		c.t.Fatal(err)
	}
	return n
}

// synced waits until the tenant and state both hold n users.
func (c *cluster) synced(n int) {
	c.t.Helper()
	c.waitFor("the sync finishes", 180*time.Second, func() bool {
		count, _ := c.users()
		return count >= n && c.recorded() >= n
	})
}

// exactly fails unless the tenant holds exactly n users, none twice, and
// state records each of them.
func (c *cluster) exactly(n int) {
	c.t.Helper()
	count, distinct := c.users()
	if count != n || distinct != n {
		c.t.Errorf("tenant holds %d users (%d distinct), want exactly %d", count, distinct, n)
	}
	if err := c.tenant.CheckConsistency(); err != nil {
		c.t.Errorf("tenant: %v", err)
	}
	recorded, err := c.store.CountObjects(context.Background(), "staff", state.KindUser)
	if err != nil || recorded != n {
		c.t.Errorf("state records %d users (%v), want %d", recorded, err, n)
	}
}

// graphAfter lists node i's Graph requests that arrived after t.
func (c *cluster) graphAfter(i int, t time.Time) []arrival {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []arrival
	for _, a := range c.arrivals {
		if a.node == i && a.at.After(t) && strings.HasPrefix(a.path, "/v1.0/") {
			out = append(out, a)
		}
	}
	return out
}

func (c *cluster) dumpLogs() {
	keep := filepath.Join(os.TempDir(), "o365prov-cluster-e2e-logs", c.t.Name())
	if err := os.MkdirAll(keep, 0o700); err == nil {
		c.t.Logf("node logs kept in %s", keep)
	}
	for _, n := range c.nodes {
		if b, err := os.ReadFile(n.logf); err == nil {
			_ = os.WriteFile(filepath.Join(keep, filepath.Base(n.logf)), b, 0o600)
		}
		b, _ := os.ReadFile(n.logf)
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		lines = lines[max(0, len(lines)-40):]
		c.t.Logf("node %d log (last lines):\n%s", n.i, strings.Join(lines, "\n"))
	}
}

func (c *cluster) startAll() {
	for i := range c.nodes {
		c.start(i)
	}
}

// midSync waits until the channel's runner has created at least n users.
func (c *cluster) midSync(n int) int {
	c.t.Helper()
	leader, _ := c.waitForHolder(60 * time.Second)
	c.waitFor(fmt.Sprintf("%d users created", n), 120*time.Second, func() bool { count, _ := c.users(); return count >= n })
	if count, _ := c.users(); count >= 5000 {
		c.t.Fatal("the sync finished before the leader could be stopped: raise the user count or lower writeRate")
	}
	return leader
}

const clusterUsers = 5000

func TestClusterTakesOverFromAKilledLeader(t *testing.T) {
	c := newCluster(t, clusterUsers)
	c.startAll()
	leader := c.midSync(1500)
	killed := time.Now()
	if err := c.nodes[leader].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	next, took := c.waitForHolder(3*clusterGrace, leader)
	t.Logf("node %d killed; node %d took the channel over %v later", leader, next, took.Sub(killed).Round(time.Millisecond))
	if took.Sub(killed) > clusterGrace {
		t.Errorf("takeover took %v, more than the failover grace %v", took.Sub(killed), clusterGrace)
	}
	c.synced(clusterUsers)
	time.Sleep(2 * time.Second) // a cycle that would duplicate would do so now
	c.exactly(clusterUsers)
}

func TestClusterFencesALeaderThatStalled(t *testing.T) {
	c := newCluster(t, clusterUsers)
	c.startAll()
	leader := c.midSync(1500)
	p := c.nodes[leader].cmd.Process
	stopped := time.Now()
	if err := p.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	next, took := c.waitForHolder(3*clusterGrace, leader)
	t.Logf("node %d stopped; node %d took the channel over %v later", leader, next, took.Sub(stopped).Round(time.Millisecond))
	if took.Sub(stopped) > clusterGrace {
		t.Errorf("takeover took %v, more than the failover grace %v", took.Sub(stopped), clusterGrace)
	}
	// Stalled well past its lease while the new leader writes.
	time.Sleep(time.Until(stopped.Add(clusterGrace + 3*time.Second)))
	resumed := time.Now()
	if err := p.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	c.synced(clusterUsers)
	time.Sleep(2 * time.Second)
	c.exactly(clusterUsers)
	// A request on the wire when the node stopped may arrive a little
	// later; nothing may arrive once it was resumed without its lease.
	if late := c.graphAfter(leader, resumed); len(late) > 0 {
		t.Errorf("the stalled node sent %d Graph requests after it lost the lease, first %s %s at +%v",
			len(late), late[0].method, late[0].path, late[0].at.Sub(resumed))
	}
	if got := c.graphAfter(leader, stopped.Add(time.Second)); len(got) > 0 {
		t.Errorf("the stalled node sent %d Graph requests after it was stopped", len(got))
	}
	select {
	case err := <-c.nodes[leader].exited:
		t.Errorf("the stalled node exited after it was resumed: %v", err)
	default:
	}
	if b, _ := os.ReadFile(c.nodes[leader].logf); !strings.Contains(string(b), "lost the channel's lease") {
		t.Error("the stalled node did not log that it lost the channel's lease")
	}
}

// stop sends node i SIGTERM and waits for it to exit, failing unless it
// exits cleanly within the runner's stop bound and a margin.
func (c *cluster) stop(i int) time.Duration {
	c.t.Helper()
	n := c.nodes[i]
	start := time.Now()
	if err := n.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		c.t.Fatal(err)
	}
	select {
	case err := <-n.exited:
		if err != nil {
			c.t.Errorf("node %d exited with %v after SIGTERM, want status 0", i, err)
		}
	case <-time.After(engine.DefaultStopTimeout + 10*time.Second):
		c.dumpLogs()
		c.t.Fatalf("node %d still runs %v after SIGTERM", i, engine.DefaultStopTimeout+10*time.Second)
	}
	return time.Since(start)
}

// TestClusterRollingRestart stops the node that runs the channel with
// SIGTERM, in the middle of the initial sync and then during incremental
// cycles while the directory changes, and starts it again, three times.
// Stopping finishes and records the operations in flight, so no create is
// ever sent twice; the next node takes the channel at once, so no cycle is
// missed for more than an interval; every change reaches the tenant.
func TestClusterRollingRestart(t *testing.T) {
	const users = 1500
	c := newCluster(t, users)
	c.startAll()
	leader := c.midSync(500)
	took := c.stop(leader)
	t.Logf("node %d stopped mid-sync in %v", leader, took.Round(time.Millisecond))
	c.start(leader)
	c.synced(users)

	// Changes keep coming while the nodes restart one after the other.
	titles := map[int]string{}
	var mu sync.Mutex
	done := make(chan struct{})
	var changer sync.WaitGroup
	changer.Go(func() {
		for k := 0; ; k++ {
			select {
			case <-done:
				return
			case <-time.After(300 * time.Millisecond):
			}
			i, title := k%users, fmt.Sprintf("Title %d", k)
			if err := c.ldap.Modify(userDN(i), ldapserver.Replace("title", title)); err != nil {
				t.Errorf("modify %s: %v", userDN(i), err)
				return
			}
			mu.Lock()
			titles[i] = title
			mu.Unlock()
		}
	})
	window := time.Now()
	for range 3 {
		time.Sleep(3 * time.Second)
		leader, _ := c.waitForHolder(30 * time.Second)
		took := c.stop(leader)
		t.Logf("node %d stopped in %v", leader, took.Round(time.Millisecond))
		c.start(leader)
	}
	time.Sleep(3 * time.Second)
	close(done)
	changer.Wait()
	end := time.Now()

	mu.Lock()
	defer mu.Unlock()
	c.waitFor("every change reaches the tenant", 90*time.Second, func() bool {
		for i, title := range titles {
			u, ok := c.tenant.User(userUPN(i))
			if !ok || u.Properties["jobTitle"] != title {
				return false
			}
		}
		return true
	})
	c.exactly(users)
	counters := c.tenant.Counters()
	if created, refused := counters.Count("POST", "/v1.0/users", 201), counters.Count("POST", "/v1.0/users", 400); created != users || refused != 0 {
		t.Errorf("the tenant accepted %d creates and refused %d, want %d and none: a create was sent twice", created, refused, users)
	}
	gap := c.longestGap(window, end)
	t.Logf("longest time without a cycle during the restarts: %v", gap.Round(time.Millisecond))
	if limit := 2*time.Second + clusterGrace/6 + time.Second; gap > limit {
		t.Errorf("no cycle ran for %v during the restarts, more than an interval (1 s) and a standby's look (%v) allow (%v)", gap, clusterGrace/6, limit)
	}
}

// longestGap is the longest time between the end of a cycle and the start
// of the next among the cycles that overlap [from, to].
func (c *cluster) longestGap(from, to time.Time) time.Duration {
	c.t.Helper()
	cycles, err := c.store.Cycles(context.Background(), "staff", 10000)
	if err != nil {
		c.t.Fatal(err)
	}
	slices.SortFunc(cycles, func(a, b state.Cycle) int { return a.Started.Compare(b.Started) })
	var gap time.Duration
	var prevEnd time.Time
	for _, cy := range cycles {
		if cy.Finished.IsZero() || cy.Finished.Before(from) || cy.Started.After(to) {
			continue
		}
		if !prevEnd.IsZero() {
			gap = max(gap, cy.Started.Sub(prevEnd))
		}
		if cy.Finished.After(prevEnd) {
			prevEnd = cy.Finished
		}
	}
	return gap
}
