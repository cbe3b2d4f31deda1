package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/schollz/progressbar/v3"
)

// progress shows how an apply advances: a bar with counts, rate and ETA on
// a terminal, a plain line every few seconds otherwise (logs, CI).
type progress struct {
	w       io.Writer
	tty     bool
	every   time.Duration
	label   string
	mu      sync.Mutex
	bar     *progressbar.ProgressBar
	total   int
	done    int
	started time.Time
	last    time.Time
}

func newProgress(w io.Writer, label string) *progress {
	tty := false
	if f, ok := w.(*os.File); ok {
		tty = isatty.IsTerminal(f.Fd())
	}
	return &progress{w: w, tty: tty, every: 5 * time.Second, label: label}
}

func (p *progress) Start(total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total, p.done, p.started, p.last = total, 0, time.Now(), time.Now()
	if total < 20 {
		return // not worth a bar
	}
	if p.tty {
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(p.w), progressbar.OptionSetDescription(p.label),
			progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("ops"),
			progressbar.OptionSetPredictTime(true), progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish())
		return
	}
	fmt.Fprintf(p.w, "%s: applying %d operations\n", p.label, total)
}

func (p *progress) Done(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done += n
	if p.bar != nil {
		_ = p.bar.Add(n)
		return
	}
	if p.total >= 20 && time.Since(p.last) >= p.every {
		p.last = time.Now()
		elapsed := time.Since(p.started)
		rate := float64(p.done) / elapsed.Seconds()
		eta := time.Duration(float64(p.total-p.done)/max(rate, 1e-9)) * time.Second
		fmt.Fprintf(p.w, "%s: %d/%d operations, %.1f/s, about %s left\n", p.label, p.done, p.total, rate, eta.Round(time.Second))
	}
}

func (p *progress) Finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		_ = p.bar.Finish()
		p.bar = nil
	}
}
