package console

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// checkTimeout bounds each readiness probe: a hung directory must not hang
// the orchestrator's probe.
const checkTimeout = 5 * time.Second

// healthz answers while the process serves requests.
func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// Readiness is /readyz's answer: each check by name.
type Readiness struct {
	Ready  bool          `json:"ready"`
	Checks []CheckResult `json:"checks"`
}

// CheckResult is one probe's outcome.
type CheckResult struct {
	Name  string `json:"name"`
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
	Took  string `json:"took"`
}

// readyz runs every check at once and answers 503 unless all pass.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	res := RunChecks(r.Context(), s.o.Checks)
	status := http.StatusOK
	if !res.Ready {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, res)
}

// RunChecks runs the probes concurrently.
func RunChecks(ctx context.Context, checks []Check) Readiness {
	res := Readiness{Ready: true, Checks: make([]CheckResult, len(checks))}
	var wg sync.WaitGroup
	for i, c := range checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, checkTimeout)
			defer cancel()
			start := time.Now()
			err := c.Probe(cctx)
			cr := CheckResult{Name: c.Name, OK: err == nil, Took: time.Since(start).Round(time.Millisecond).String()}
			if err != nil {
				cr.Error = err.Error()
			}
			res.Checks[i] = cr
		}()
	}
	wg.Wait()
	for _, c := range res.Checks {
		res.Ready = res.Ready && c.OK
	}
	return res
}
