// Package bench measures o365prov end to end in one process: a generated
// organisation in the embedded directory, the fake tenant with Graph's
// documented throttling ("entra" profile) at a time scale, o365prov told
// that scale, and a naive one-request-at-a-time provisioner for comparison.
// It is what `o365prov bench` runs; docs/bench.md says what each figure
// means.
package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/o365prov/o365prov/internal/engine"
)

// Options choose the organisation and the tenant.
type Options struct {
	Users  int
	Groups int
	// TimeScale makes tenant time run this many times faster than the wall
	// clock; every time reported is converted back to tenant (real) time
	// unless its name says wall.
	TimeScale float64
	// Latency is the mean Graph latency in tenant time (uniform between
	// half and one and a half times it).
	Latency time.Duration
	// Changes is how many directory modifications the change-latency
	// measurement makes (at least 50 for a p99 worth the name).
	Changes int
	// NaiveUsers caps the users the naive baseline provisions.
	NaiveUsers int
	// Progress reports the initial sync; Phase reports each step.
	Progress engine.Progress
	Phase    func(string)
}

// Validate names the option that is out of range and what is allowed.
func (o Options) Validate() error {
	switch {
	case o.Users < 10 || o.Users > 1_000_000:
		return fmt.Errorf("--users %d: want 10 to 1000000", o.Users)
	case o.Groups < 0:
		return fmt.Errorf("--groups %d: want 0 or more", o.Groups)
	case o.TimeScale < 1 || o.TimeScale > 1000:
		return fmt.Errorf("--time-scale %v: want 1 (real time) to 1000", o.TimeScale)
	case o.Latency < 0 || o.Latency > time.Minute:
		return fmt.Errorf("--latency %s: want 0 to 1m", o.Latency)
	case o.Changes < 1:
		return fmt.Errorf("--changes %d: want at least 1", o.Changes)
	}
	return nil
}

func (o Options) phase(s string) {
	if o.Phase != nil {
		o.Phase(s)
	}
}

// Run measures everything, in order, and returns the report.
func Run(ctx context.Context, o Options) (*Report, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.NaiveUsers <= 0 {
		o.NaiveUsers = 2000
	}
	r := &Report{Users: o.Users, Groups: o.Groups, TimeScale: o.TimeScale, Latency: o.Latency.String(),
		Ceiling: Ceiling, PollInterval: pollInterval.String(), Machine: machine()}
	o.phase(fmt.Sprintf("generating %d people and %d groups", o.Users, o.Groups))
	ldif, err := organisation(ctx, o)
	if err != nil {
		return nil, err
	}
	w, err := startWorld(ctx, o, ldif, o.Progress)
	if err != nil {
		return nil, err
	}
	defer w.Close()
	o.phase("initial sync")
	if r.Initial, err = measureInitial(ctx, w, o); err != nil {
		return r, err
	}
	o.phase("no-change cycles")
	if r.NoChangeIncremental, err = measureCycle(ctx, w, engine.Incremental); err != nil {
		return r, err
	}
	if r.NoChangeFull, err = measureCycle(ctx, w, engine.Full); err != nil {
		return r, err
	}
	o.phase("1 % change cycle")
	if r.Change, err = measureChange(ctx, w, o); err != nil {
		return r, err
	}
	o.phase(fmt.Sprintf("change-to-Graph latency over %d changes", o.Changes))
	if r.ChangeLatency, err = measureLatency(ctx, w, o); err != nil {
		return r, err
	}
	o.phase("naive baseline")
	if r.Naive, err = measureNaive(ctx, w, o); err != nil {
		return r, err
	}
	r.finish()
	return r, nil
}

// counters is a point in the tenant's and directory's counts.
type counters struct {
	requests, writes, throttled, ldap int64
}

func (w *world) counters() counters {
	c := w.tenant.Counters()
	var total int64
	for _, r := range c.Requests {
		total += r.Count
	}
	return counters{requests: total, writes: c.WritesAccepted, throttled: c.Throttled, ldap: w.ldapCount.Load()}
}

func (c counters) minus(d counters) counters {
	return counters{c.requests - d.requests, c.writes - d.writes, c.throttled - d.throttled, c.ldap - d.ldap}
}

// sync runs one cycle and fails on any failed operation: a benchmark of a
// sync that did not work measures nothing.
func (w *world) sync(ctx context.Context, mode engine.Mode) (*engine.Result, time.Duration, error) {
	start := time.Now()
	res, err := w.engine.Sync(ctx, engine.SyncOptions{Mode: mode})
	took := time.Since(start)
	if err != nil {
		return res, took, fmt.Errorf("%s sync: %w", mode, err)
	}
	if res.Failed > 0 {
		return res, took, fmt.Errorf("%s sync: %d operations failed, first %s: %s", mode, res.Failed, res.Failures[0].DN, res.Failures[0].Err)
	}
	return res, took, nil
}

func measureInitial(ctx context.Context, w *world, o Options) (Initial, error) {
	cpu0 := cpuSeconds()
	res, took, err := w.sync(ctx, engine.Full)
	if err != nil {
		return Initial{}, err
	}
	in := Initial{CPUSeconds: cpuSeconds() - cpu0, PeakRSSMB: peakRSSMB(), WallSeconds: took.Seconds()}
	in.Seconds = tenantElapsed(took, o.TimeScale).Seconds()
	c := w.tenant.Counters()
	counts := res.Plan.Counts()
	in.UsersCreated = counts[string(engine.OpCreateUser)]
	in.Licensed = counts[string(engine.OpAssignLicense)]
	in.WithManager = counts[string(engine.OpSetManager)]
	in.UserWrites = c.Count("POST", "/v1.0/users", 201) + c.Count("POST", "/v1.0/users/{id}/assignLicense", 200) + c.Count("PUT", "/v1.0/users/{id}/manager/$ref", 204)
	in.Writes = c.WritesAccepted
	if in.UsersCreated > 0 {
		in.WritesPerUser = float64(in.UserWrites) / float64(in.UsersCreated)
		in.FloorPerUser = float64(in.UsersCreated+in.Licensed+in.WithManager) / float64(in.UsersCreated)
	}
	for _, op := range res.Plan.Ops {
		switch op.Type {
		case engine.OpAddMembers:
			in.MemberRequests++
			in.Memberships += len(op.Members)
		case engine.OpCreateGroup:
			in.Memberships += len(op.Members)
			if len(op.Members) > 0 {
				in.MemberRequests++
			}
		}
	}
	if in.Memberships > 0 {
		in.MemberRequestsPer20 = float64(in.MemberRequests) / (float64(in.Memberships) / 20)
	}
	var total int64
	for _, r := range c.Requests {
		total += r.Count
	}
	in.Requests, in.Throttled = total, c.Throttled
	if total > 0 {
		in.ThrottledShare = float64(c.Throttled) / float64(total)
	}
	in.RateFirstToLast = WriteRate(c.WriteTimes)
	in.RatioFirstToLast = in.RateFirstToLast / Ceiling
	in.BusiestWindowWrites = c.MaxWritesIn(CeilingWindow)
	in.RatioBusiestWindow = float64(in.BusiestWindowWrites) / CeilingWrites
	in.Buckets = Buckets(c.WriteTimes, bucketWidth(c.WriteTimes))
	if n := len(c.WriteTimes); n > 0 && int64(n) < c.WritesAccepted {
		in.Note = fmt.Sprintf("the tenant kept the times of the last %d writes only", n)
	}
	return in, nil
}

// bucketWidth is 1 s of tenant time for short syncs and 5 s for long ones,
// so the plot has at most a few thousand points.
func bucketWidth(times []time.Time) time.Duration {
	s := sortedTimes(times)
	if len(s) > 1 && s[len(s)-1].Sub(s[0]) > 20*time.Minute {
		return 5 * time.Second
	}
	return time.Second
}

func measureCycle(ctx context.Context, w *world, mode engine.Mode) (Cycle, error) {
	before := w.counters()
	res, took, err := w.sync(ctx, mode)
	if err != nil {
		return Cycle{}, err
	}
	d := w.counters().minus(before)
	// A cycle's time is mostly local work, which the time scale does not
	// speed up: it is reported as wall time.
	cy := Cycle{Mode: string(mode), WallMillis: float64(took.Microseconds()) / 1000,
		LDAPRequests: d.ldap, GraphRequests: d.requests, Writes: d.writes, Operations: len(res.Plan.Ops)}
	return cy, nil
}
