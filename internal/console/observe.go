package console

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/o365prov/o365prov/internal/state"
)

// observedStore is a state.Store whose audit entries and cycles are also
// seen by the monitor and written to the audit log's JSON lines: every
// operation the engine records passes here, from any cycle of any channel.
type observedStore struct {
	state.Store
	m     *Monitor
	lines *AuditLines
}

// Observe wraps a store so that the monitor counts what is recorded in it
// and, when lines is not nil, each audit entry is also written as a JSON
// line. A store that also keeps items (state.ItemStore) still does once
// wrapped: the sessions and lockout counters every node shares live there.
func Observe(st state.Store, m *Monitor, lines *AuditLines) state.Store {
	o := &observedStore{Store: st, m: m, lines: lines}
	if is, ok := st.(state.ItemStore); ok {
		return observedItemStore{observedStore: o, ItemStore: is}
	}
	return o
}

// observedItemStore is an observedStore over a store with items.
type observedItemStore struct {
	*observedStore
	state.ItemStore
}

// PutObject implements state.Store; the channel's counts are redone.
func (s *observedStore) PutObject(ctx context.Context, o state.Object) error {
	defer s.m.counts.invalidate(o.Channel)
	return s.Store.PutObject(ctx, o)
}

// PutObjects implements state.Store.
func (s *observedStore) PutObjects(ctx context.Context, objects []state.Object) error {
	err := s.Store.PutObjects(ctx, objects)
	seen := map[string]bool{}
	for _, o := range objects {
		if !seen[o.Channel] {
			seen[o.Channel] = true
			s.m.counts.invalidate(o.Channel)
		}
	}
	return err
}

// DeleteObject implements state.Store.
func (s *observedStore) DeleteObject(ctx context.Context, channel string, kind state.Kind, guid string) error {
	defer s.m.counts.invalidate(channel)
	return s.Store.DeleteObject(ctx, channel, kind, guid)
}

// ResetChannel implements state.Store.
func (s *observedStore) ResetChannel(ctx context.Context, name string, all bool) error {
	defer s.m.counts.invalidate(name)
	return s.Store.ResetChannel(ctx, name, all)
}

// Audit implements state.Store.
func (s *observedStore) Audit(ctx context.Context, entries ...state.AuditEntry) error {
	if err := s.Store.Audit(ctx, entries...); err != nil {
		return err
	}
	for _, e := range entries {
		s.m.operation(e.Channel, e.Operation, e.Result)
	}
	if s.lines != nil {
		s.lines.write(ctx, s.Store, entries)
	}
	return nil
}

// FinishCycle implements state.Store.
func (s *observedStore) FinishCycle(ctx context.Context, c state.Cycle) error {
	if err := s.Store.FinishCycle(ctx, c); err != nil {
		return err
	}
	if c.Started.IsZero() {
		if cs, err := s.Store.Cycles(ctx, c.Channel, 5); err == nil {
			for _, x := range cs {
				if x.ID == c.ID {
					c.Started = x.Started
				}
			}
		}
	}
	s.m.prom.cycle(c)
	return nil
}

// AuditLines writes audit entries as JSON lines for log shippers, with the
// fields of PingFederate's provisioner-audit.log (cycle_id, channel_id,
// event_type, source_id, target_id, is_success, non_success_cause) and
// o365prov's own (kind, dn, result, request_id, detail).
type AuditLines struct {
	mu  sync.Mutex
	w   io.Writer
	err func(error)
}

// NewAuditLines writes to w; a failed write is reported to onError (the
// entry is in the store all the same).
func NewAuditLines(w io.Writer, onError func(error)) *AuditLines {
	if onError == nil {
		onError = func(error) {}
	}
	return &AuditLines{w: w, err: onError}
}

// AuditLine is one line.
type AuditLine struct {
	Time      time.Time `json:"time"`
	Cycle     int64     `json:"cycle_id"`
	Channel   string    `json:"channel_id"`
	Event     string    `json:"event_type"`
	SourceID  string    `json:"source_id"`
	TargetID  string    `json:"target_id,omitempty"`
	Success   bool      `json:"is_success"`
	Cause     string    `json:"non_success_cause,omitempty"`
	Kind      string    `json:"kind,omitempty"`
	DN        string    `json:"dn,omitempty"`
	Result    string    `json:"result"`
	RequestID string    `json:"request_id,omitempty"`
	Detail    string    `json:"detail,omitempty"`
}

// targetIDs finds the Entra id of each entry's object: the audit entry
// names the source GUID, and the engine records the object before its
// audit entries, so a create's new id is already there.
type targetIDs interface {
	Object(ctx context.Context, channel string, kind state.Kind, guid string) (state.Object, error)
}

func (a *AuditLines) write(ctx context.Context, st targetIDs, entries []state.AuditEntry) {
	var buf []byte
	for _, e := range entries {
		l := AuditLine{Time: e.Time.UTC(), Cycle: e.Cycle, Channel: e.Channel, Event: e.Operation, SourceID: e.GUID, Success: e.Result == "ok",
			Kind: string(e.Kind), DN: e.DN, Result: e.Result, RequestID: e.RequestID, Detail: e.Detail}
		if e.Result == "failed" {
			l.Cause = e.Detail
		}
		if e.GUID != "" && e.Kind != "" {
			if o, err := st.Object(ctx, e.Channel, e.Kind, e.GUID); err == nil {
				l.TargetID = o.GraphID
			}
		}
		b, err := json.Marshal(l)
		if err != nil {
			a.err(fmt.Errorf("encode audit line: %w", err))
			continue
		}
		buf = append(append(buf, b...), '\n')
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, err := a.w.Write(buf); err != nil {
		a.err(fmt.Errorf("write audit lines: %w", err))
	}
}

// Record writes an operator's action to the audit log (the store's, and
// the lines through the observed store).
func record(ctx context.Context, st Store, now time.Time, channel, operation, result, detail string) error {
	e := state.AuditEntry{Time: now, Channel: channel, Operation: operation, Result: result, Detail: detail}
	if err := st.Audit(ctx, e); err != nil {
		return fmt.Errorf("audit %s of %s: %w", operation, channel, err)
	}
	return nil
}
