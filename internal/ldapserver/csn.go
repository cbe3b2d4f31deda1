package ldapserver

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// csnClock issues OpenLDAP change sequence numbers,
// "YYYYMMDDHHMMSS.ffffffZ#cccccc#sid#000000": a UTC time to the microsecond,
// a hex counter that orders changes within one microsecond, the server id
// and the modification number. Every CSN it issues is greater than every CSN
// it issued or observed before, even when the clock stands still or steps
// back, so that "entryCSN >= watermark" never misses a change.
type csnClock struct {
	now   func() time.Time
	sid   int
	last  time.Time // microsecond precision, UTC
	count int
}

const csnLayout = "20060102150405.000000"

// maxCSNCount is the largest counter six hex digits hold; beyond it the
// clock borrows the next microsecond.
const maxCSNCount = 0xffffff

// next returns a new CSN and the time it carries.
func (c *csnClock) next() (string, time.Time) {
	now := c.now().UTC().Truncate(time.Microsecond)
	switch {
	case now.After(c.last):
		c.last, c.count = now, 0
	case c.count < maxCSNCount:
		c.count++
	default:
		c.last, c.count = c.last.Add(time.Microsecond), 0
	}
	return formatCSN(c.last, c.count, c.sid), c.last
}

// observe makes later CSNs greater than csn, one read from a file.
func (c *csnClock) observe(csn string) {
	t, count, err := parseCSN(csn)
	if err != nil {
		return
	}
	if t.After(c.last) || t.Equal(c.last) && count > c.count {
		c.last, c.count = t, count
	}
}

func formatCSN(t time.Time, count, sid int) string {
	return fmt.Sprintf("%sZ#%06x#%03x#000000", t.UTC().Format(csnLayout), count, sid)
}

func parseCSN(csn string) (time.Time, int, error) {
	parts := strings.Split(csn, "#")
	if len(parts) != 4 || !strings.HasSuffix(parts[0], "Z") {
		return time.Time{}, 0, fmt.Errorf("entryCSN %q: want YYYYMMDDHHMMSS.ffffffZ#cccccc#sid#mod", csn)
	}
	t, err := time.Parse(csnLayout, strings.TrimSuffix(parts[0], "Z"))
	if err != nil {
		return time.Time{}, 0, fmt.Errorf("entryCSN %q: time: %w", csn, err)
	}
	count, err := strconv.ParseInt(parts[1], 16, 32)
	if err != nil {
		return time.Time{}, 0, fmt.Errorf("entryCSN %q: counter: %w", csn, err)
	}
	return t, int(count), nil
}

// generalizedTime formats t as the second-precision GeneralizedTime OpenLDAP
// writes in createTimestamp and modifyTimestamp.
func generalizedTime(t time.Time) string { return t.UTC().Format("20060102150405Z") }
