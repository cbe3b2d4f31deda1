package console

import (
	"crypto/rand"
	"testing"
	"time"
)

func TestRunsOfIdleCyclesFoldIntoOneLine(t *testing.T) {
	at := func(s int) time.Time { return fixtureNow.Add(time.Duration(s) * time.Second) }
	idle := func(id int64, s int) CycleView {
		return CycleView{ID: id, Kind: "incremental", Result: "ok", Started: at(s), Stats: map[string]int{"succeeded": 0, "failed": 0, "blocked": 0, "writes": 0}}
	}
	busy := CycleView{ID: 9, Kind: "incremental", Result: "ok", Started: at(9), Stats: map[string]int{"updateUser": 1, "writes": 1}}
	rows := cycleRows([]CycleView{idle(12, 12), idle(11, 11), idle(10, 10), busy, idle(8, 8), {ID: 7, Result: "failed", Started: at(7)}})
	if len(rows) != 4 {
		t.Fatalf("%d rows: %+v", len(rows), rows)
	}
	if rows[0].Quiet != 3 || !rows[0].From.Equal(at(10)) || !rows[0].To.Equal(at(12)) {
		t.Errorf("the three idle cycles: %+v", rows[0])
	}
	if rows[1].Cycle.ID != 9 || rows[2].Quiet != 0 || rows[2].Cycle.ID != 8 || rows[3].Cycle.ID != 7 {
		t.Errorf("a busy cycle, a lone idle one and a failed one stay as they are: %+v", rows[1:])
	}
}

func TestOnlyRecordedFieldsAreFlaggedAsDiffering(t *testing.T) {
	o := ObjectView{Applied: map[string]any{"jobTitle": "Engineer", "city": "Leeds"},
		Source: &SourceEntry{Mapped: map[string]any{"jobTitle": "Manager", "city": "Leeds", "skuId": "E5"}}}
	got := map[string]bool{}
	for _, r := range fieldRows(o) {
		got[r.Name] = r.Differs
	}
	want := map[string]bool{"jobTitle": true, "city": false, "skuId": false}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: differs %v, want %v", k, got[k], v)
		}
	}
}

func TestSessionsOpenedInALoopStayBounded(t *testing.T) {
	m := NewMemorySessions()
	s := newSessions(m, rand.Reader, time.Now)
	for range maxSessions + 50 {
		if _, err := s.start(t.Context(), "someone"); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(m.items); n > maxSessions {
		t.Fatalf("%d sessions kept", n)
	}
}
