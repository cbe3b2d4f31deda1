package engine

import (
	"fmt"

	"github.com/o365prov/o365prov/internal/config"
)

// percentFloor is how many removals a plan may make before the percentage
// limit applies: without it a channel of ten people could not lose one
// without an approval.
const percentFloor = 5

// guard decides whether a plan takes away access from so many people that an
// operator must approve it first: more than Count objects, or more than
// Percent of the channel's users (when it removes more than percentFloor).
// It returns the reason, or "".
func guard(p *Plan, t config.DeleteThreshold) string {
	n := p.Deprovisions()
	if n == 0 {
		return ""
	}
	if t.Count > 0 && n > t.Count {
		return fmt.Sprintf("would disable or delete %d objects, more than the threshold of %d", n, t.Count)
	}
	if t.Percent > 0 && n > percentFloor && p.Population > 0 && float64(n)*100 > t.Percent*float64(p.Population) {
		return fmt.Sprintf("would disable or delete %d of %d users (%.1f%%), more than the threshold of %g%%",
			n, p.Population, float64(n)*100/float64(p.Population), t.Percent)
	}
	return ""
}
