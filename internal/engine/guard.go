package engine

import (
	"fmt"

	"github.com/o365prov/o365prov/internal/config"
)

// guard decides whether a plan takes away access from so many people that an
// operator must approve it first: more than Count objects, or more than
// Percent of the channel's users. It returns the reason, or "".
func guard(p *Plan, t config.DeleteThreshold) string {
	n := p.Deprovisions()
	if n == 0 {
		return ""
	}
	if t.Count > 0 && n > t.Count {
		return fmt.Sprintf("would disable or delete %d objects, more than the threshold of %d", n, t.Count)
	}
	if t.Percent > 0 && p.Population > 0 && float64(n)*100 > t.Percent*float64(p.Population) {
		return fmt.Sprintf("would disable or delete %d of %d users (%.1f%%), more than the threshold of %g%%",
			n, p.Population, float64(n)*100/float64(p.Population), t.Percent)
	}
	return ""
}
