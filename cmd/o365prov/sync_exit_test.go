package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/o365prov/o365prov/internal/engine"
)

func TestSyncOnceExitStatus(t *testing.T) {
	tests := []struct {
		name string
		res  engine.Result
		want int // 0: no error
	}{
		{name: "a cycle with nothing failing exits 0", res: engine.Result{Plan: &engine.Plan{}}, want: 0},
		{name: "a cycle with a failed operation exits 5", res: engine.Result{Plan: &engine.Plan{}, Failed: 1, Failing: 1}, want: exitPartial},
		{name: "objects still failing from an earlier cycle, their retry not due, exit 5", res: engine.Result{Plan: &engine.Plan{}, Failing: 3}, want: exitPartial},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			err := reportSync(&out, "o365prov.yaml", "staff", &tt.res, nil, false)
			var ee *exitError
			switch {
			case tt.want == 0 && err != nil:
				t.Errorf("error %v, want none", err)
			case tt.want != 0 && (!errors.As(err, &ee) || ee.code != tt.want):
				t.Errorf("error %v, want exit status %d", err, tt.want)
			}
			if tt.res.Failing > 0 && !strings.Contains(out.String(), "failing") {
				t.Errorf("output does not say objects are failing:\n%s", out.String())
			}
		})
	}
}
