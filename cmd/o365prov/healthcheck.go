package main

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/spf13/cobra"
)

// healthURLEnv overrides the URL `healthcheck` asks (the container image's
// HEALTHCHECK runs it without flags).
const healthURLEnv = "O365PROV_HEALTH_URL"

const defaultHealthURL = "http://127.0.0.1:9090/healthz"

func newHealthcheckCmd(a *app) *cobra.Command {
	var rawURL string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "healthcheck [--url URL]",
		Short: "Exit 0 if the local console answers /healthz, 1 if not (container health checks)",
		Long: `Ask the console's /healthz (the console must be on) and exit 0 on a 2xx
answer, 1 otherwise: distroless images have no curl for a HEALTHCHECK. The
URL is --url, else $` + healthURLEnv + `, else ` + defaultHealthURL + `.
An https URL on a loopback address is asked without checking the
certificate: the check is whether the process answers, not who it is, and
the request never leaves the machine.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if rawURL == "" {
				rawURL = os.Getenv(healthURLEnv)
			}
			if rawURL == "" {
				rawURL = defaultHealthURL
			}
			u, err := url.Parse(rawURL)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return &exitError{code: 2, err: fmt.Errorf("health URL %q: want http(s)://HOST:PORT/PATH", rawURL)}
			}
			tr := http.DefaultTransport.(*http.Transport).Clone()
			if ip := net.ParseIP(u.Hostname()); u.Scheme == "https" && ((ip != nil && ip.IsLoopback()) || u.Hostname() == "localhost") {
				tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // loopback liveness only, see Long
			}
			client := &http.Client{Transport: tr, Timeout: timeout}
			req, err := http.NewRequestWithContext(cmd.Context(), http.MethodGet, u.String(), nil)
			if err != nil {
				return err
			}
			resp, err := client.Do(req)
			if err != nil {
				return fmt.Errorf("health check %s: %w", u.Redacted(), err)
			}
			resp.Body.Close()
			if resp.StatusCode/100 != 2 {
				return fmt.Errorf("health check %s: %s", u.Redacted(), resp.Status)
			}
			fmt.Fprintf(a.stdout, "healthy: %s answered %s\n", u.Redacted(), resp.Status)
			return nil
		},
	}
	cmd.Flags().StringVar(&rawURL, "url", "", "URL to ask (default $"+healthURLEnv+" or "+defaultHealthURL+")")
	cmd.Flags().DurationVar(&timeout, "timeout", 4*time.Second, "give up after this long")
	return cmd
}
