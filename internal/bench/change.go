package bench

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/o365prov/o365prov/internal/engine"
	"github.com/o365prov/o365prov/internal/ldapserver"
)

// pollInterval is how often the change-latency measurement runs an
// incremental cycle, in wall time (the channel's interval).
const pollInterval = time.Second

// operational are attributes the directory keeps itself: a copied person
// leaves them out.
var operational = map[string]bool{
	"entryuuid": true, "entrycsn": true, "createtimestamp": true, "modifytimestamp": true,
	"creatorsname": true, "modifiersname": true, "structuralobjectclass": true, "entrydn": true,
	"subschemasubentry": true, "hassubordinates": true, "memberof": true,
}

// people are the directory's person entries and which of them manage
// someone (deleting a manager would change more than one person).
func people(d *ldapserver.Server) (persons []ldapserver.Entry, managers map[string]bool) {
	managers = map[string]bool{}
	for _, e := range d.Entries() {
		if !slices.ContainsFunc(e.Values("objectClass"), func(v string) bool { return strings.EqualFold(v, "inetOrgPerson") }) {
			continue
		}
		persons = append(persons, e)
		if m := e.Value("manager"); m != "" {
			managers[strings.ToLower(m)] = true
		}
	}
	return persons, managers
}

// measureChange changes 1 % of the people in Entra Connect's usual mix
// (most changes are attribute updates): 20 % creates, 60 % modifies, 10 %
// disables, 10 % deletes, then runs an incremental cycle and a full one
// (which is what notices deletes).
func measureChange(ctx context.Context, w *world, o Options) (Change, error) {
	total := max(10, o.Users/100)
	ch := Change{Creates: total / 5, Disables: total / 10, Deletes: total / 10}
	ch.Modifies = total - ch.Creates - ch.Disables - ch.Deletes
	persons, managers := people(w.ldap)
	var leaves []ldapserver.Entry
	for _, e := range persons {
		if !managers[strings.ToLower(e.DN)] && e.Value("nsAccountLock") != "true" {
			leaves = append(leaves, e)
		}
	}
	if len(leaves) < ch.Modifies+ch.Disables+ch.Deletes {
		return ch, fmt.Errorf("1 %% change: only %d people manage no one, %d needed", len(leaves), ch.Modifies+ch.Disables+ch.Deletes)
	}
	for i := range ch.Creates {
		if err := w.ldap.Add(copyPerson(leaves[i], fmt.Sprintf("bench.new%d", i))); err != nil {
			return ch, fmt.Errorf("1 %% change: add a person: %w", err)
		}
	}
	next := 0
	for range ch.Modifies {
		e := leaves[next]
		next++
		if err := w.ldap.Modify(e.DN, ldapserver.Change{Op: ldapserver.OpReplace, Attr: "title", Values: []string{"Benchmark Analyst " + e.Value("uid")}}); err != nil {
			return ch, fmt.Errorf("1 %% change: modify %s: %w", e.DN, err)
		}
	}
	for range ch.Disables {
		e := leaves[next]
		next++
		if err := w.ldap.Modify(e.DN, ldapserver.Change{Op: ldapserver.OpReplace, Attr: "nsAccountLock", Values: []string{"true"}}); err != nil {
			return ch, fmt.Errorf("1 %% change: disable %s: %w", e.DN, err)
		}
	}
	for range ch.Deletes {
		e := leaves[next]
		next++
		if err := w.ldap.Delete(e.DN); err != nil {
			return ch, fmt.Errorf("1 %% change: delete %s: %w", e.DN, err)
		}
	}
	var err error
	if ch.Incremental, err = measureCycle(ctx, w, engine.Incremental); err != nil {
		return ch, err
	}
	ch.Full, err = measureCycle(ctx, w, engine.Full)
	return ch, err
}

// copyPerson is a new person like e, named uid, for Add.
func copyPerson(e ldapserver.Entry, uid string) (string, map[string][]string) {
	attrs := map[string][]string{}
	for _, a := range e.Attributes {
		if !operational[strings.ToLower(a.Name)] {
			attrs[a.Name] = a.Values
		}
	}
	oldUID := e.Value("uid")
	for name, vs := range attrs {
		switch strings.ToLower(name) {
		case "uid":
			attrs[name] = []string{uid}
		case "mail", "cn", "displayname", "userprincipalname":
			out := make([]string, len(vs))
			for i, v := range vs {
				out[i] = strings.Replace(v, oldUID, uid, 1)
				if out[i] == v {
					out[i] = v + " " + uid
				}
			}
			attrs[name] = out
		}
	}
	_, parent, _ := strings.Cut(e.DN, ",")
	return "uid=" + uid + "," + parent, attrs
}

// measureLatency modifies o.Changes people's titles, one every 100 ms
// while incremental cycles run every pollInterval, and times each from the
// directory write until the tenant shows the new title.
func measureLatency(ctx context.Context, w *world, o Options) (Latency, error) {
	lat := Latency{Changes: o.Changes}
	persons, _ := people(w.ldap)
	var targets []ldapserver.Entry
	for _, e := range persons {
		if u, ok := w.tenant.User(e.Value("mail")); ok && u.AccountEnabled {
			targets = append(targets, e)
			if len(targets) == o.Changes {
				break
			}
		}
	}
	if len(targets) < o.Changes {
		return lat, fmt.Errorf("change latency: only %d people found in the tenant by mail, %d needed", len(targets), o.Changes)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	var syncErr error
	go func() {
		defer wg.Done()
		tick := time.NewTicker(pollInterval)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				if _, _, err := w.sync(ctx, engine.Incremental); err != nil && ctx.Err() == nil {
					syncErr = err
					return
				}
			}
		}
	}()
	made := make([]time.Time, len(targets))
	want := make([]string, len(targets))
	landed := make([]time.Duration, len(targets))
	for i, e := range targets {
		want[i] = fmt.Sprintf("Changed %d at %d", i, time.Now().UnixNano())
		if err := w.ldap.Modify(e.DN, ldapserver.Change{Op: ldapserver.OpReplace, Attr: "title", Values: []string{want[i]}}); err != nil {
			cancel()
			wg.Wait()
			return lat, fmt.Errorf("change latency: modify %s: %w", e.DN, err)
		}
		made[i] = time.Now()
		if err := watch(ctx, w, targets, want, made, landed, 100*time.Millisecond); err != nil {
			break
		}
	}
	_ = watch(ctx, w, targets, want, made, landed, 30*time.Second+10*pollInterval)
	cancel()
	wg.Wait()
	if syncErr != nil {
		return lat, fmt.Errorf("change latency: %w", syncErr)
	}
	var ms []float64
	for _, d := range landed {
		if d > 0 {
			ms = append(ms, float64(d.Microseconds())/1000)
		}
	}
	lat.Landed = len(ms)
	if len(ms) == 0 {
		return lat, fmt.Errorf("change latency: none of %d changes reached the tenant", len(targets))
	}
	slices.Sort(ms)
	lat.MedianMillis = quantile(ms, 0.5)
	lat.P99Millis = quantile(ms, 0.99)
	lat.MaxMillis = ms[len(ms)-1]
	return lat, nil
}

// watch polls the tenant every 5 ms for up to d, recording when each made
// change shows; it returns early once every made change has landed.
func watch(ctx context.Context, w *world, targets []ldapserver.Entry, want []string, made []time.Time, landed []time.Duration, d time.Duration) error {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		pending := 0
		for i, e := range targets {
			if made[i].IsZero() || landed[i] > 0 {
				continue
			}
			if u, ok := w.tenant.User(e.Value("mail")); ok && u.Properties["jobTitle"] == want[i] {
				landed[i] = time.Since(made[i])
				continue
			}
			pending++
		}
		if pending == 0 && !made[len(made)-1].IsZero() {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	return nil
}

// quantile of sorted values, nearest rank.
func quantile(sorted []float64, q float64) float64 {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
