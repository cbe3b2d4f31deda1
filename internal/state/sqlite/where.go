package sqlite

import "strings"

// where builds a WHERE clause from the filters a query was given, so that
// each combination gets a plan that uses its index (an "? = ” OR col = ?"
// term would not).
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

func (w *where) String() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}
