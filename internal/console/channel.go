package console

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/o365prov/o365prov/internal/state"
)

// ChannelDetail is everything the channel page shows.
type ChannelDetail struct {
	ChannelSummary
	Cycles    []CycleView    `json:"cycles"`
	HeldPlans []PlanView     `json:"heldPlans"`
	Approved  []PlanView     `json:"approvedPlans"`
	Failed    []FailedObject `json:"failedObjects"`
	// Actions says whether this console can act (it has a controller).
	Actions bool `json:"actions"`
}

// FailedObject is an object whose last attempt failed or is unfinished.
type FailedObject struct {
	Kind      string     `json:"kind"`
	GUID      string     `json:"guid"`
	DN        string     `json:"dn"`
	Name      string     `json:"name,omitempty"`
	Status    string     `json:"status"`
	Attempts  int        `json:"attempts"`
	Error     string     `json:"error"`
	NextRetry *time.Time `json:"nextRetry,omitempty"`
}

// Limits of what one channel page lists.
const (
	cycleHistory = 50
	planOpsShown = 500
	failedShown  = 500
)

// BuildChannel reads one channel's page.
func BuildChannel(ctx context.Context, st Store, ch ChannelInfo, m *Monitor, now time.Time) (ChannelDetail, error) {
	leases, err := st.Leases(ctx)
	if err != nil {
		return ChannelDetail{}, fmt.Errorf("read leases: %w", err)
	}
	sum, err := summarize(ctx, st, ch, leases, m, now)
	if err != nil {
		return ChannelDetail{}, err
	}
	d := ChannelDetail{ChannelSummary: sum, Cycles: []CycleView{}, HeldPlans: []PlanView{}, Approved: []PlanView{}, Failed: []FailedObject{}}
	cycles, err := st.Cycles(ctx, ch.Name, cycleHistory)
	if err != nil {
		return d, fmt.Errorf("read cycles of %s: %w", ch.Name, err)
	}
	for _, c := range cycles {
		d.Cycles = append(d.Cycles, cycleView(c))
	}
	plans, err := st.Plans(ctx, ch.Name, state.PlanHeld, state.PlanApproved)
	if err != nil {
		return d, fmt.Errorf("read plans of %s: %w", ch.Name, err)
	}
	for _, p := range plans {
		pv := planView(p)
		pv.Ops = planOps(p.Body, planOpsShown)
		if p.Status == state.PlanHeld {
			d.HeldPlans = append(d.HeldPlans, pv)
		} else {
			d.Approved = append(d.Approved, pv)
		}
	}
	due, err := st.DueRetries(ctx, ch.Name, farFuture(now), failedShown)
	if err != nil {
		return d, fmt.Errorf("read failed objects of %s: %w", ch.Name, err)
	}
	for _, o := range due {
		f := FailedObject{Kind: string(o.Kind), GUID: o.GUID, DN: o.DN, Name: appliedString(o.Applied, nameField(o.Kind)), Status: string(o.Status), Attempts: o.Attempts, Error: o.LastError}
		if !o.NextRetry.IsZero() {
			t := o.NextRetry
			f.NextRetry = &t
		}
		d.Failed = append(d.Failed, f)
	}
	return d, nil
}

// planBody is the part of the engine's plan JSON the console shows.
type planBody struct {
	Ops      []PlanOp `json:"ops"`
	Problems []struct {
		DN     string `json:"dn"`
		Reason string `json:"reason"`
	} `json:"problems"`
}

// planOps decodes up to limit operations of a stored plan's body.
func planOps(body []byte, limit int) []PlanOp {
	var b planBody
	if json.Unmarshal(body, &b) != nil {
		return nil
	}
	if len(b.Ops) > limit {
		b.Ops = b.Ops[:limit]
	}
	return b.Ops
}

// nameField is the applied field that names an object for people.
func nameField(k state.Kind) string {
	if k == state.KindGroup {
		return "displayName"
	}
	return "userPrincipalName"
}

// appliedString decodes one applied value that is a JSON string.
func appliedString(applied map[string]string, field string) string {
	raw, ok := applied[field]
	if !ok {
		return ""
	}
	var s string
	if json.Unmarshal([]byte(raw), &s) != nil {
		return ""
	}
	return s
}
