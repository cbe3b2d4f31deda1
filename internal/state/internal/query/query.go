// Package query builds the WHERE clauses of list queries, the same way for
// every SQL store, so that a filter means the same on each.
package query

import (
	"strconv"
	"strings"
	"time"

	"github.com/o365prov/o365prov/internal/state"
)

// Where collects the conditions a query was given. Each filter gets its own
// condition, not an "? = ” OR col = ?" term, so that each combination gets
// a plan that uses its index.
type Where struct {
	// Numbered makes placeholders $1, $2, … (PostgreSQL) instead of ?.
	Numbered bool
	conds    []string
	Args     []any
}

// Add appends a condition with one ? for its argument's placeholder.
func (w *Where) Add(cond string, arg any) {
	w.conds = append(w.conds, strings.Replace(cond, "?", w.Next(), 1))
	w.Args = append(w.Args, arg)
}

// AddIn appends "column IN (…)" with one placeholder per value.
func (w *Where) AddIn(column string, values []any) {
	ps := make([]string, len(values))
	for i, v := range values {
		ps[i] = w.Next()
		w.Args = append(w.Args, v)
	}
	w.conds = append(w.conds, column+" IN ("+strings.Join(ps, ", ")+")")
}

// Next is the placeholder of the next argument.
func (w *Where) Next() string {
	return "$" + strconv.Itoa(len(w.Args)+1)
}

// String is " WHERE …", or "" without conditions.
func (w *Where) String() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// Audit adds the filters of q; timeArg converts Since to the column's type.
func Audit(w *Where, q state.AuditQuery, timeArg func(time.Time) any) {
	if q.Channel != "" {
		w.Add("channel = ?", q.Channel)
	}
	if q.GUID != "" {
		w.Add("guid = ?", q.GUID)
	}
	if q.Cycle != 0 {
		w.Add("cycle = ?", q.Cycle)
	}
	if !q.Since.IsZero() {
		w.Add("time >= ?", timeArg(q.Since))
	}
	if q.Operation != "" {
		w.Add("operation = ?", q.Operation)
	}
	if q.Result != "" {
		w.Add("result = ?", q.Result)
	}
	if q.BeforeID > 0 {
		w.Add("id < ?", q.BeforeID)
	}
}
