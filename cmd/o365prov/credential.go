package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/o365prov/o365prov/internal/config"
	"github.com/o365prov/o365prov/internal/provision"
	"github.com/o365prov/o365prov/internal/state"
)

// printCredentialHealth prints what the cycles learnt of the app's
// credential: the last token obtained, the last refusal, and the expiry of
// its secrets and certificates where Graph told it.
func printCredentialHealth(ctx context.Context, w io.Writer, cfg *config.Config, st state.Store, now time.Time) error {
	h, ok, err := provision.ReadCredentialHealth(ctx, st)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\ncredential of app %s in tenant %s:\n", cfg.Target.ClientID, cfg.Target.Tenant)
	if !ok {
		fmt.Fprintln(w, "  not tried yet (a cycle gets a token first; `o365prov check --connect` tries now)")
		return nil
	}
	when := func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return t.Local().Format(time.DateTime)
	}
	health := "OK"
	if h.LastFailure.After(h.LastSuccess) {
		health = "FAILING"
	}
	fmt.Fprintf(w, "  %s: last token %s; last refusal %s\n", health, when(h.LastSuccess), when(h.LastFailure))
	if health == "FAILING" {
		fmt.Fprintf(w, "  %s\n", h.LastError)
	}
	if h.ExpiryProblem != "" {
		fmt.Fprintf(w, "  expiry %s\n", h.ExpiryProblem)
	}
	for _, c := range h.Credentials {
		if c.Expires.IsZero() {
			fmt.Fprintf(w, "  %s %q has no end date\n", c.Kind, c.DisplayName)
			continue
		}
		left := c.Expires.Sub(now)
		note := fmt.Sprintf("in %d days", int(left.Hours()/24))
		if left <= 0 {
			note = "EXPIRED"
		} else if left < 30*24*time.Hour {
			note += ": add a new one to the app registration and set it in target"
		}
		fmt.Fprintf(w, "  %s %q expires %s (%s)\n", c.Kind, c.DisplayName, c.Expires.Local().Format(time.DateOnly), note)
	}
	return nil
}
