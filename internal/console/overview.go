package console

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/o365prov/o365prov/internal/state"
)

// Channel statuses on the overview.
const (
	StatusIdle     = "idle"
	StatusRunning  = "running"
	StatusHeld     = "held"
	StatusFailing  = "failing"
	StatusInactive = "inactive"
)

// Overview is every channel at a glance, and the tenant's write budget.
type Overview struct {
	Generated time.Time        `json:"generated"`
	Channels  []ChannelSummary `json:"channels"`
	Tenant    TenantActivity   `json:"tenant"`
}

// TenantActivity is what this process spent of the tenant's Graph budget
// over the last hour. The channels share one budget.
type TenantActivity struct {
	Writes          int     `json:"writesLastHour"`
	Throttled       int     `json:"throttledLastHour"`
	Requests        int     `json:"requestsLastHour"`
	CeilingPerSec   float64 `json:"writeCeilingPerSecond"`
	PeakBudgetShare float64 `json:"peakWriteBudgetShare"` // 0..1: the busiest window's writes / the ceiling's
	Since           string  `json:"since"`                // when this process started counting
}

// ChannelSummary is one channel's line on the overview.
type ChannelSummary struct {
	Name      string        `json:"name"`
	Status    string        `json:"status"`
	Node      string        `json:"node,omitempty"` // the lease holder running it (cluster mode)
	Progress  *ProgressView `json:"progress,omitempty"`
	LastCycle *CycleView    `json:"lastCycle,omitempty"`
	NextCycle *time.Time    `json:"nextCycle,omitempty"`
	Users     Counts        `json:"users"`
	Groups    Counts        `json:"groups"`
	HeldPlan  *PlanView     `json:"heldPlan,omitempty"`
}

// Counts is a kind of object by state.
type Counts struct {
	Total   int `json:"total"`
	InSync  int `json:"inSync"`
	Pending int `json:"pending"`
	Failed  int `json:"failed"`
}

// CycleView is one cycle.
type CycleView struct {
	ID       int64          `json:"id"`
	Kind     string         `json:"kind"`
	Started  time.Time      `json:"started"`
	Finished *time.Time     `json:"finished,omitempty"`
	Duration string         `json:"duration,omitempty"`
	Result   string         `json:"result"`
	Stats    map[string]int `json:"stats,omitempty"`
	PlanID   string         `json:"planId,omitempty"`
	Error    string         `json:"error,omitempty"`
}

// PlanView is a stored plan's summary.
type PlanView struct {
	ID        string         `json:"id"`
	Channel   string         `json:"channel"`
	Created   time.Time      `json:"created"`
	Status    string         `json:"status"`
	Reason    string         `json:"reason,omitempty"`
	Summary   map[string]int `json:"summary"`
	DecidedBy string         `json:"decidedBy,omitempty"`
	Ops       []PlanOp       `json:"ops,omitempty"`
}

// PlanOp is one operation of a plan, as people read it.
type PlanOp struct {
	Type   string `json:"type"`
	Kind   string `json:"kind"`
	Name   string `json:"name"`
	DN     string `json:"dn"`
	Reason string `json:"reason"`
}

// failedScan bounds how many failed or pending objects one page reads.
const failedScan = 100000

// farFuture makes DueRetries return every failed or pending object.
func farFuture(now time.Time) time.Time { return now.AddDate(100, 0, 0) }

// BuildOverview reads the overview from the store and the monitor. The CLI's
// `status --json` prints the same thing; m may be nil there.
func BuildOverview(ctx context.Context, st Store, channels []ChannelInfo, m *Monitor, now time.Time) (Overview, error) {
	ov := Overview{Generated: now.UTC(), Channels: make([]ChannelSummary, 0, len(channels))}
	leases, err := st.Leases(ctx)
	if err != nil {
		return ov, fmt.Errorf("read leases: %w", err)
	}
	for _, ch := range channels {
		cs, err := summarize(ctx, st, ch, leases, m, now)
		if err != nil {
			return ov, err
		}
		ov.Channels = append(ov.Channels, cs)
	}
	if m != nil {
		ov.Tenant = m.tenantActivity(now)
	}
	return ov, nil
}

func summarize(ctx context.Context, st Store, ch ChannelInfo, leases []state.Lease, m *Monitor, now time.Time) (ChannelSummary, error) {
	cs := ChannelSummary{Name: ch.Name, Status: StatusIdle}
	var err error
	if m != nil {
		cs.Users, cs.Groups, err = m.counts.get(ctx, st, ch.Name, now)
	} else {
		cs.Users, cs.Groups, err = counts(ctx, st, ch.Name, now)
	}
	if err != nil {
		return cs, err
	}
	cycles, err := st.Cycles(ctx, ch.Name, 2)
	if err != nil {
		return cs, fmt.Errorf("read cycles of %s: %w", ch.Name, err)
	}
	held, err := st.Plans(ctx, ch.Name, state.PlanHeld)
	if err != nil {
		return cs, fmt.Errorf("read held plans of %s: %w", ch.Name, err)
	}
	if len(held) > 0 {
		pv := planView(held[0])
		cs.HeldPlan = &pv
	}
	for _, l := range leases {
		if l.Name == "channel/"+ch.Name && l.Expires.After(now) {
			cs.Node = l.Holder
		}
	}
	var last *state.Cycle
	for i := range cycles {
		if cycles[i].Result == state.CycleRunning && i == 0 {
			cv := cycleView(cycles[i])
			cs.Status = StatusRunning
			cs.LastCycle = &cv // replaced by the finished one below, if any
			continue
		}
		last = &cycles[i]
		break
	}
	if last != nil {
		cv := cycleView(*last)
		cs.LastCycle = &cv
		if ch.Interval > 0 && !last.Finished.IsZero() {
			next := last.Finished.Add(ch.Interval).UTC()
			cs.NextCycle = &next
		}
	}
	if m != nil {
		cs.Progress = m.progressView(ch.Name, now)
		if cs.Progress != nil {
			cs.Status = StatusRunning
		}
	}
	switch {
	case cs.Status == StatusRunning:
	case !ch.Active:
		cs.Status = StatusInactive
	case cs.HeldPlan != nil:
		cs.Status = StatusHeld
	case last != nil && (last.Result == state.CycleFailed || last.Result == state.CycleAborted), cs.Users.Failed+cs.Groups.Failed > 0:
		cs.Status = StatusFailing
	}
	return cs, nil
}

// counts reads a channel's users and groups by state: the totals, and the
// failed and pending ones (few, and indexed).
func counts(ctx context.Context, st Store, channel string, now time.Time) (users, groups Counts, err error) {
	if users.Total, err = st.CountObjects(ctx, channel, state.KindUser); err != nil {
		return users, groups, fmt.Errorf("count users of %s: %w", channel, err)
	}
	if groups.Total, err = st.CountObjects(ctx, channel, state.KindGroup); err != nil {
		return users, groups, fmt.Errorf("count groups of %s: %w", channel, err)
	}
	due, err := st.DueRetries(ctx, channel, farFuture(now), failedScan)
	if err != nil {
		return users, groups, fmt.Errorf("read failed objects of %s: %w", channel, err)
	}
	for _, o := range due {
		c := &users
		if o.Kind == state.KindGroup {
			c = &groups
		}
		if o.Status == state.StatusFailed {
			c.Failed++
		} else {
			c.Pending++
		}
	}
	users.InSync = users.Total - users.Failed - users.Pending
	groups.InSync = groups.Total - groups.Failed - groups.Pending
	return users, groups, nil
}

func cycleView(c state.Cycle) CycleView {
	v := CycleView{ID: c.ID, Kind: c.Kind, Started: c.Started, Result: c.Result, Stats: c.Stats, PlanID: c.PlanID, Error: c.Error}
	if !c.Finished.IsZero() {
		f := c.Finished
		v.Finished = &f
		v.Duration = c.Finished.Sub(c.Started).Round(time.Millisecond).String()
	}
	return v
}

func planView(p state.Plan) PlanView {
	return PlanView{ID: p.ID, Channel: p.Channel, Created: p.Created, Status: string(p.Status), Reason: p.Reason, Summary: p.Summary, DecidedBy: p.DecidedBy}
}

// sortedKeys returns a map's keys in order, for stable pages.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
