package provision

import (
	"context"
	"fmt"
)

func (t target) VerifiedDomains(ctx context.Context) ([]string, error) {
	ds, err := t.c.ListDomains(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the tenant's domains: %w", err)
	}
	var out []string
	for _, d := range ds {
		if d.IsVerified {
			out = append(out, d.ID)
		}
	}
	return out, nil
}
