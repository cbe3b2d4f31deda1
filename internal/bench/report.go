package bench

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
)

// Report is every figure of one run. Seconds are tenant (real Graph) time.
type Report struct {
	Users        int     `json:"users"`
	Groups       int     `json:"groups"`
	TimeScale    float64 `json:"timeScale"`
	Latency      string  `json:"latency"`
	Ceiling      float64 `json:"ceilingWritesPerSecond"`
	PollInterval string  `json:"pollInterval"`
	Machine      string  `json:"machine"`

	Initial             Initial `json:"initial"`
	NoChangeIncremental Cycle   `json:"noChangeIncremental"`
	NoChangeFull        Cycle   `json:"noChangeFull"`
	Change              Change  `json:"change"`
	ChangeLatency       Latency `json:"changeLatency"`
	Naive               Naive   `json:"naive"`
	// SpeedUp is the naive baseline's projected time for the whole
	// organisation's user writes divided by ours.
	SpeedUp  float64 `json:"speedUpOverNaive"`
	PushMode string  `json:"pushMode"`
}

// Initial is the first sync of the whole organisation.
type Initial struct {
	Seconds             float64  `json:"seconds"`
	WallSeconds         float64  `json:"wallSeconds"`
	UsersCreated        int      `json:"usersCreated"`
	Licensed            int      `json:"licensed"`
	WithManager         int      `json:"withManager"`
	UserWrites          int64    `json:"userWrites"`
	Writes              int64    `json:"writes"`
	WritesPerUser       float64  `json:"writesPerUser"`
	FloorPerUser        float64  `json:"floorPerUser"`
	Memberships         int      `json:"memberships"`
	MemberRequests      int      `json:"memberRequests"`
	MemberRequestsPer20 float64  `json:"memberRequestsPer20Memberships"`
	Requests            int64    `json:"requests"`
	Throttled           int64    `json:"throttled"`
	ThrottledShare      float64  `json:"throttledShare"`
	RateFirstToLast     float64  `json:"writesPerSecondFirstToLast"`
	RatioFirstToLast    float64  `json:"ceilingRatioFirstToLast"`
	BusiestWindowWrites int      `json:"busiestWindowWrites"`
	RatioBusiestWindow  float64  `json:"ceilingRatioBusiestWindow"`
	PeakRSSMB           float64  `json:"peakRSSMB"`
	CPUSeconds          float64  `json:"cpuSeconds"`
	Buckets             []Bucket `json:"writeBuckets"`
	Note                string   `json:"note,omitempty"`
}

// Cycle is one sync cycle after the first.
type Cycle struct {
	Mode          string  `json:"mode"`
	WallMillis    float64 `json:"wallMillis"`
	LDAPRequests  int64   `json:"ldapRequests"`
	GraphRequests int64   `json:"graphRequests"`
	Writes        int64   `json:"writes"`
	Operations    int     `json:"operations"`
}

// Change is the 1 % change: what was changed and the cycles that carried it.
type Change struct {
	Creates     int   `json:"creates"`
	Modifies    int   `json:"modifies"`
	Disables    int   `json:"disables"`
	Deletes     int   `json:"deletes"`
	Incremental Cycle `json:"incremental"`
	// Full is the full cycle after it, which sees the deletes.
	Full Cycle `json:"full"`
}

// Latency is directory change to Graph, polling mode.
type Latency struct {
	Changes      int     `json:"changes"`
	Landed       int     `json:"landed"`
	MedianMillis float64 `json:"medianMillis"`
	P99Millis    float64 `json:"p99Millis"`
	MaxMillis    float64 `json:"maxMillis"`
}

// Naive is the one-request-at-a-time baseline.
type Naive struct {
	Users          int     `json:"users"`
	Writes         int64   `json:"writes"`
	Seconds        float64 `json:"seconds"`
	WritesPerSec   float64 `json:"writesPerSecond"`
	Throttled      int64   `json:"throttled"`
	ThrottledShare float64 `json:"throttledShare"`
	// ProjectedSeconds is how long the naive client would take for the
	// whole organisation's user writes at its rate.
	ProjectedSeconds float64 `json:"projectedSeconds"`
}

func (r *Report) finish() {
	r.PushMode = "not measured: the embedded directory has no persistent search or syncrepl"
	if r.Naive.WritesPerSec > 0 && r.Initial.Seconds > 0 {
		r.Naive.ProjectedSeconds = float64(r.Initial.UserWrites) / r.Naive.WritesPerSec
		r.SpeedUp = r.Naive.ProjectedSeconds / r.Initial.Seconds
	}
}

// Goals: counts, not times, so that they hold on any machine.
const (
	GoalWritesPerUser  = 3.0
	GoalThrottledShare = 0.01
)

// Check returns what misses a goal: writes per user (accepted user
// creates, licence assignments and manager sets over users created) above
// 3, or 1 % or more of requests answered 429.
func (r *Report) Check() []string {
	var miss []string
	if r.Initial.WritesPerUser > GoalWritesPerUser {
		miss = append(miss, fmt.Sprintf("writes per user %.3f > %.0f", r.Initial.WritesPerUser, GoalWritesPerUser))
	}
	if r.Initial.ThrottledShare >= GoalThrottledShare {
		miss = append(miss, fmt.Sprintf("429 share %.2f %% ≥ 1 %%", 100*r.Initial.ThrottledShare))
	}
	if r.Initial.UsersCreated != r.Users {
		miss = append(miss, fmt.Sprintf("%d users created of %d", r.Initial.UsersCreated, r.Users))
	}
	for _, c := range []Cycle{r.NoChangeIncremental, r.NoChangeFull} {
		if c.Writes != 0 {
			miss = append(miss, fmt.Sprintf("no-change %s cycle wrote %d times", c.Mode, c.Writes))
		}
	}
	return miss
}

// WriteTable prints the human table.
func (r *Report) WriteTable(w io.Writer) {
	in := r.Initial
	p := func(f string, a ...any) { fmt.Fprintf(w, f+"\n", a...) }
	p("o365prov bench: %d users, %d groups, time scale %g, Graph latency %s (tenant time), %s", r.Users, r.Groups, r.TimeScale, r.Latency, r.Machine)
	p("Times are tenant (real Graph) time: wall time × %g, unless marked wall.", r.TimeScale)
	p("")
	p("Initial sync")
	p("  time                         %s (wall %.1f s)", dur(in.Seconds), in.WallSeconds)
	p("  writes per user              %.3f (floor %.3f: create + licence + manager; %d users, %d licensed, %d with a manager)", in.WritesPerUser, in.FloorPerUser, in.UsersCreated, in.Licensed, in.WithManager)
	p("  membership requests per 20   %.3f (%d requests for %d memberships)", in.MemberRequestsPer20, in.MemberRequests, in.Memberships)
	p("  write rate ÷ ceiling         %.3f busiest 150 s (%d writes), %.3f first to last (%.2f writes/s; ceiling %.0f/s)", in.RatioBusiestWindow, in.BusiestWindowWrites, in.RatioFirstToLast, in.RateFirstToLast, r.Ceiling)
	p("  answered 429                 %.3f %% (%d of %d requests)", 100*in.ThrottledShare, in.Throttled, in.Requests)
	p("  peak RSS, CPU                %.0f MB, %.1f s (whole process: directory and tenant included)", in.PeakRSSMB, in.CPUSeconds)
	if in.Note != "" {
		p("  note                         %s", in.Note)
	}
	p("")
	p("Cycles (local work is wall time: only Graph's latency is scaled)")
	p("                               wall ms   LDAP req  Graph req  writes")
	for _, c := range []struct {
		name string
		c    Cycle
	}{{"no change, incremental", r.NoChangeIncremental}, {"no change, full", r.NoChangeFull}, {"1 % change, incremental", r.Change.Incremental}, {"1 % change, then full", r.Change.Full}} {
		p("  %-28s %-9.1f %-9d %-10d %d", c.name, c.c.WallMillis, c.c.LDAPRequests, c.c.GraphRequests, c.c.Writes)
	}
	p("  1 %% change: %d creates, %d modifies, %d disables, %d deletes", r.Change.Creates, r.Change.Modifies, r.Change.Disables, r.Change.Deletes)
	p("")
	l := r.ChangeLatency
	p("Change to Graph (polling every %s wall, %d of %d changes landed)", r.PollInterval, l.Landed, l.Changes)
	p("  median %.0f ms, p99 %.0f ms, max %.0f ms (wall; Graph latency is scaled)", l.MedianMillis, l.P99Millis, l.MaxMillis)
	p("  push mode: %s", r.PushMode)
	p("")
	n := r.Naive
	p("Naive baseline (%d users, one request at a time, no $batch, no pacing, 429 → Retry-After)", n.Users)
	p("  %d writes in %s: %.2f writes/s, %.2f %% answered 429", n.Writes, dur(n.Seconds), n.WritesPerSec, 100*n.ThrottledShare)
	p("  whole organisation at that rate: %s; o365prov %s: %.2f× faster", dur(n.ProjectedSeconds), dur(in.Seconds), r.SpeedUp)
}

func dur(s float64) string {
	switch {
	case s < 1:
		return fmt.Sprintf("%.0f ms", s*1000)
	case s < 120:
		return fmt.Sprintf("%.1f s", s)
	case s < 7200:
		return fmt.Sprintf("%.1f min", s/60)
	}
	return fmt.Sprintf("%.2f h", s/3600)
}

// peakRSSMB is the process's peak resident set (VmHWM), in MB.
func peakRSSMB() float64 {
	f, err := os.Open("/proc/self/status")
	if err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
				kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
				if err == nil {
					return kb / 1024
				}
			}
		}
	}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		return float64(ru.Maxrss) / 1024
	}
	return 0
}

// cpuSeconds is the user and system CPU time the process has used.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

func machine() string {
	model := ""
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				model = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	return fmt.Sprintf("%s/%s, %d CPUs %s, %s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), model, runtime.Version())
}
