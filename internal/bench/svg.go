package bench

import (
	"fmt"
	"io"
	"strings"
)

// WriteSVG plots the initial sync's accepted writes per second of tenant
// time, per bucket, against the ceiling of one app (a dashed line).
func (r *Report) WriteSVG(w io.Writer) error {
	const width, height, left, bottom, top, right = 900.0, 400.0, 60.0, 40.0, 30.0, 20.0
	b := r.Initial.Buckets
	bucket := 1.0
	if len(b) > 1 {
		bucket = b[1].Start - b[0].Start
	}
	yMax := r.Ceiling * 1.5
	for _, x := range b {
		yMax = max(yMax, float64(x.Writes)/bucket*1.1)
	}
	xMax := max(float64(len(b))*bucket, 1)
	x := func(s float64) float64 { return left + s/xMax*(width-left-right) }
	y := func(v float64) float64 { return height - bottom - v/yMax*(height-bottom-top) }
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	fmt.Fprintf(&sb, `<title>o365prov bench: initial sync of %d users, writes per second of tenant time</title>`+"\n", r.Users)
	fmt.Fprintf(&sb, `<rect width="%.0f" height="%.0f" fill="white"/>`+"\n", width, height)
	fmt.Fprintf(&sb, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="black"/>`+"\n", left, y(0), width-right, y(0))
	fmt.Fprintf(&sb, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="black"/>`+"\n", left, y(0), left, top)
	for i := 0; i <= 4; i++ {
		v := yMax * float64(i) / 4
		fmt.Fprintf(&sb, `<text x="%.1f" y="%.1f" text-anchor="end">%.0f</text>`+"\n", left-5, y(v)+4, v)
		s := xMax * float64(i) / 4
		fmt.Fprintf(&sb, `<text x="%.1f" y="%.1f" text-anchor="middle">%.0f s</text>`+"\n", x(s), height-bottom+16, s)
	}
	fmt.Fprintf(&sb, `<text x="%.1f" y="%.1f" text-anchor="middle">tenant time since the first write (%.0f s buckets)</text>`+"\n", (left+width-right)/2, height-6, bucket)
	fmt.Fprintf(&sb, `<text x="12" y="%.1f" transform="rotate(-90 12 %.1f)" text-anchor="middle">writes/s</text>`+"\n", height/2, height/2)
	var pts []string
	for _, p := range b {
		v := float64(p.Writes) / bucket
		pts = append(pts, fmt.Sprintf("%.1f,%.1f %.1f,%.1f", x(p.Start), y(v), x(p.Start+bucket), y(v)))
	}
	fmt.Fprintf(&sb, `<polyline fill="none" stroke="steelblue" stroke-width="1.5" points="%s"/>`+"\n", strings.Join(pts, " "))
	fmt.Fprintf(&sb, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="firebrick" stroke-dasharray="6 4"/>`+"\n", left, y(r.Ceiling), width-right, y(r.Ceiling))
	fmt.Fprintf(&sb, `<text x="%.1f" y="%.1f" text-anchor="end" fill="firebrick">ceiling: %.0f writes/s (3,000 per 150 s, one app)</text>`+"\n", width-right, y(r.Ceiling)-5, r.Ceiling)
	fmt.Fprintf(&sb, `<text x="%.1f" y="18">%d users: %.3f of the ceiling over the busiest 150 s, %.2f %% answered 429</text>`+"\n", left, r.Users, r.Initial.RatioBusiestWindow, 100*r.Initial.ThrottledShare)
	sb.WriteString("</svg>\n")
	_, err := io.WriteString(w, sb.String())
	return err
}
