package provision

import (
	"time"

	"github.com/o365prov/o365prov/internal/config"
)

// graphTimeout is the Graph client's request timeout: the channels'
// timeout, the longest when they differ, since the channels share one
// client as they share the tenant's budget. 0 leaves the client's default.
func graphTimeout(cfg *config.Config) time.Duration {
	var d time.Duration
	for _, ch := range cfg.Channels {
		d = max(d, ch.Timeout)
	}
	return d
}
