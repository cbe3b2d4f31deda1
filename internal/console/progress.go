package console

import "time"

// progress is how far a channel's running apply has gone.
type progress struct {
	started time.Time
	total   int
	done    int
}

// ProgressView is a running apply's progress and its estimated end.
type ProgressView struct {
	Done    int        `json:"done"`
	Total   int        `json:"total"`
	Percent float64    `json:"percent"`
	Started time.Time  `json:"started"`
	ETA     *time.Time `json:"eta,omitempty"`
	// Remaining is the ETA from now, for people ("about 2m10s").
	Remaining string `json:"remaining,omitempty"`
}

// Tracker reports one channel's apply progress to the monitor. It has the
// methods of the engine's Progress, so provision hands it to the engine.
type Tracker struct {
	m       *Monitor
	channel string
}

// Progress returns the channel's tracker.
func (m *Monitor) Progress(channel string) *Tracker { return &Tracker{m: m, channel: channel} }

// Start begins an apply of total operations.
func (t *Tracker) Start(total int) {
	m := t.m
	m.mu.Lock()
	defer m.mu.Unlock()
	m.progress[t.channel] = &progress{started: m.clock(), total: total}
	m.prom.backlog(t.channel, total, -1)
}

// Done says n operations are finished so far.
func (t *Tracker) Done(n int) {
	m := t.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if p, ok := m.progress[t.channel]; ok {
		p.done = n
		eta := -1.0
		if v := viewOf(p, m.clock()); v.ETA != nil {
			eta = v.ETA.Sub(m.clock()).Seconds()
		}
		m.prom.backlog(t.channel, p.total-n, eta)
	}
}

// Finish ends the apply.
func (t *Tracker) Finish() {
	m := t.m
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.progress, t.channel)
	m.prom.backlog(t.channel, 0, 0)
}

// progressView is the channel's running apply, or nil.
func (m *Monitor) progressView(channel string, now time.Time) *ProgressView {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.progress[channel]
	if !ok {
		return nil
	}
	v := viewOf(p, now)
	return &v
}

// viewOf estimates the end from the rate so far: Graph's pacing keeps the
// rate steady, so a straight line is a fair guess.
func viewOf(p *progress, now time.Time) ProgressView {
	v := ProgressView{Done: p.done, Total: p.total, Started: p.started.UTC()}
	if p.total > 0 {
		v.Percent = 100 * float64(p.done) / float64(p.total)
	}
	elapsed := now.Sub(p.started)
	if p.done > 0 && elapsed > 0 {
		left := time.Duration(float64(elapsed) * float64(p.total-p.done) / float64(p.done))
		eta := now.Add(left).UTC()
		v.ETA = &eta
		v.Remaining = left.Round(time.Second).String()
	}
	return v
}
