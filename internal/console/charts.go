package console

import (
	"fmt"
	"html/template"
	"math"
	"strings"
	"time"
)

// Chart geometry, in SVG user units; the SVG scales to its container.
const (
	chartH      = 200.0
	chartLeft   = 44.0
	chartRight  = 12.0
	chartTop    = 12.0
	chartBottom = 28.0
)

// Chart widths: a chart in half the page, and one across it. The SVG keeps
// its proportions, so text stays the size it was drawn at.
const (
	halfChart = 560.0
	wideChart = 1120.0
)

// series is one line of a chart.
type series struct {
	name   string
	class  string // CSS class: colour and style
	values []float64
	steps  bool // draw as bars (counts per interval) rather than a line
}

// lineChart draws series over time as an inline SVG, with a y axis from 0
// and time labels. It returns markup built only from numbers and the fixed
// names given here, so it is safe to embed.
func lineChart(title string, chartW float64, start, end time.Time, ss []series, ceiling float64) template.HTML {
	n := 0
	top := ceiling
	for _, s := range ss {
		n = max(n, len(s.values))
		for _, v := range s.values {
			top = math.Max(top, v)
		}
	}
	top = niceCeil(top)
	plotW, plotH := chartW-chartLeft-chartRight, chartH-chartTop-chartBottom
	x := func(i int) float64 {
		if n <= 1 {
			return chartLeft
		}
		return chartLeft + plotW*float64(i)/float64(n-1)
	}
	y := func(v float64) float64 { return chartTop + plotH*(1-v/top) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s">`, chartW, chartH, template.HTMLEscapeString(title))
	for i := 0; i <= 4; i++ { // grid and y labels
		v := top * float64(i) / 4
		fmt.Fprintf(&b, `<line class="grid" x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f"/>`, chartLeft, chartW-chartRight, y(v), y(v))
		fmt.Fprintf(&b, `<text class="axis" x="%.1f" y="%.1f" text-anchor="end">%s</text>`, chartLeft-6, y(v)+4, short(v))
	}
	layout := "15:04"
	if end.Sub(start) < 30*time.Minute {
		layout = "15:04:05"
	}
	for i := 0; i <= 4; i++ { // time labels
		t := start.Add(time.Duration(float64(end.Sub(start)) * float64(i) / 4))
		anchor := "middle"
		if i == 0 {
			anchor = "start"
		} else if i == 4 {
			anchor = "end"
		}
		fmt.Fprintf(&b, `<text class="axis" x="%.1f" y="%.1f" text-anchor="%s">%s</text>`, chartLeft+plotW*float64(i)/4, chartH-8, anchor, t.Local().Format(layout))
	}
	if ceiling > 0 {
		fmt.Fprintf(&b, `<line class="ceiling" x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f"/>`, chartLeft, chartW-chartRight, y(ceiling), y(ceiling))
		fmt.Fprintf(&b, `<text class="axis ceiling-label" x="%.1f" y="%.1f" text-anchor="end">ceiling %s/s</text>`, chartW-chartRight-4, y(ceiling)-5, short(ceiling))
	}
	for _, s := range ss {
		if s.steps {
			w := math.Max(plotW/float64(max(n, 1)), 0.5)
			for i, v := range s.values {
				if v > 0 {
					fmt.Fprintf(&b, `<rect class="%s" x="%.2f" y="%.2f" width="%.2f" height="%.2f"/>`, s.class, x(i)-w/2, y(v), w, chartTop+plotH-y(v))
				}
			}
			continue
		}
		var path strings.Builder
		for i, v := range s.values {
			cmd := "L"
			if i == 0 {
				cmd = "M"
			}
			fmt.Fprintf(&path, "%s%.1f %.1f", cmd, x(i), y(v))
		}
		fmt.Fprintf(&b, `<path class="%s" d="%s"/>`, s.class, path.String())
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // numbers and fixed names only
}

// niceCeil rounds a chart's top up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// short writes an axis value: 1500 → 1.5k.
func short(v float64) string {
	switch {
	case v >= 1000:
		return fmt.Sprintf("%gk", math.Round(v/100)/10)
	case v == math.Trunc(v):
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

// activityCharts draws the overview's charts: operations and 429s per
// minute over the last day, and the write rate against the ceiling during
// the latest sync.
func activityCharts(a Activity) (ops, throttled, writes template.HTML) {
	n := len(a.PerMinute)
	opsV, failV, thrV := make([]float64, n), make([]float64, n), make([]float64, n)
	for i, p := range a.PerMinute {
		opsV[i], failV[i], thrV[i] = float64(p.Operations), float64(p.Failed), float64(p.Throttled)
	}
	var start, end time.Time
	if n > 0 {
		start, end = a.PerMinute[0].Time, a.PerMinute[n-1].Time
	}
	ops = lineChart("Operations per minute, last 24 hours", halfChart, start, end, []series{
		{name: "operations", class: "s-ops", values: opsV, steps: true},
		{name: "failed", class: "s-fail", values: failV, steps: true},
	}, 0)
	throttled = lineChart("429 responses per minute, last 24 hours", halfChart, start, end, []series{{name: "429", class: "s-429", values: thrV, steps: true}}, 0)
	wv := make([]float64, len(a.Writes))
	for i, p := range a.Writes {
		wv[i] = float64(p.Writes)
	}
	writes = lineChart("Writes per second against Graph's ceiling", wideChart, a.WindowFrom, a.WindowTo, []series{{name: "writes/s", class: "s-writes", values: wv}}, a.CeilingPerSecond)
	return ops, throttled, writes
}
