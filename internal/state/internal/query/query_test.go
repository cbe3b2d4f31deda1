package query

import (
	"reflect"
	"testing"
	"time"

	"github.com/o365prov/o365prov/internal/state"
)

func TestWhere(t *testing.T) {
	since := time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC)
	micros := func(t time.Time) any { return t.UnixMicro() }
	tests := []struct {
		name string
		q    state.AuditQuery
		want string
		args []any
	}{
		{"no filter makes no clause", state.AuditQuery{Limit: 5}, "", nil},
		{"each filter is a condition",
			state.AuditQuery{Channel: "staff", GUID: "g", Cycle: 3, Since: since, Operation: "create", Result: "ok", BeforeID: 9},
			" WHERE channel = $1 AND guid = $2 AND cycle = $3 AND time >= $4 AND operation = $5 AND result = $6 AND id < $7",
			[]any{"staff", "g", int64(3), since.UnixMicro(), "create", "ok", int64(9)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var w Where
			Audit(&w, tc.q, micros)
			if w.String() != tc.want || !reflect.DeepEqual(w.Args, tc.args) {
				t.Errorf("got %q %v, want %q %v", w.String(), w.Args, tc.want, tc.args)
			}
		})
	}
	t.Run("an IN list numbers on", func(t *testing.T) {
		var w Where
		w.Add("channel = ?", "staff")
		w.AddIn("status", []any{"held", "approved"})
		if got := w.String(); got != " WHERE channel = $1 AND status IN ($2, $3)" {
			t.Errorf("got %q", got)
		}
	})
}
