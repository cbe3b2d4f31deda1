package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/o365prov/o365prov/internal/config"
	"github.com/o365prov/o365prov/internal/graph"
	"github.com/o365prov/o365prov/internal/provision"
	"github.com/spf13/cobra"
)

type federateFlags struct {
	cfgPath, domain, protocol string
	dryRun, show, remove      bool
	force                     bool
}

func newFederateCmd(a *app) *cobra.Command {
	var f federateFlags
	cmd := &cobra.Command{
		Use:   "federate --config FILE --domain DOMAIN [--protocol wsFed|saml] [--dry-run] [--show] [--remove]",
		Short: "Federate a domain's sign-in with o365prov's identity provider through Microsoft Graph",
		Long: `Create or update the domain's internalDomainFederation so its users sign in
through the identity provider of the sso section (issuer, sign-in and
sign-out URLs, signing certificate and the next one during a rollover).

--show prints the tenant's settings next to o365prov's and what differs.
--dry-run says what would change and changes nothing.
--remove returns the domain to managed (cloud password) sign-in.

The domain must be listed in sso.domains. Federating is refused when the
identity provider does not answer at sso.baseURL with this configuration's
certificate, since the domain's users could not sign in; --force overrides.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runFederate(cmd.Context(), a, f) },
	}
	cmd.Flags().StringVarP(&f.cfgPath, "config", "c", "", "configuration file")
	cmd.Flags().StringVar(&f.domain, "domain", "", "the domain to federate (one of sso.domains)")
	cmd.Flags().StringVar(&f.protocol, "protocol", "wsFed", "wsFed or saml")
	cmd.Flags().BoolVar(&f.dryRun, "dry-run", false, "say what would change; change nothing")
	cmd.Flags().BoolVar(&f.show, "show", false, "show the tenant's settings next to o365prov's")
	cmd.Flags().BoolVar(&f.remove, "remove", false, "return the domain to managed sign-in")
	cmd.Flags().BoolVar(&f.force, "force", false, "federate even though the identity provider does not answer at sso.baseURL")
	_ = cmd.MarkFlagRequired("config")
	_ = cmd.MarkFlagRequired("domain")
	return cmd
}

func runFederate(ctx context.Context, a *app, f federateFlags) error {
	cfg, err := loadConfig(f.cfgPath)
	if err != nil {
		return err
	}
	if cfg.SSO == nil {
		return &exitError{code: 2, err: fmt.Errorf("%s has no sso section: there is no identity provider to federate with", f.cfgPath)}
	}
	if !slices.ContainsFunc(cfg.SSO.Domains, func(d string) bool { return strings.EqualFold(d, f.domain) }) {
		return &exitError{code: 2, err: fmt.Errorf("--domain %s is not in sso.domains (%s)", f.domain, strings.Join(cfg.SSO.Domains, ", "))}
	}
	log, err := a.logger()
	if err != nil {
		return err
	}
	st, err := provision.OpenStore(ctx, cfg.State)
	if err != nil {
		return err
	}
	defer st.Close()
	g, err := graph.New(cfg.Target, graph.Options{Logger: log.With("component", "graph")})
	if err != nil {
		return fmt.Errorf("graph client: %w", err)
	}
	defer g.Close()
	if f.remove {
		return removeFederation(ctx, a, g, f)
	}
	keys, err := provision.SSOKeys(ctx, cfg, st)
	if err != nil {
		return fmt.Errorf("sso signing keys: %w", err)
	}
	ours, err := provision.DesiredFederation(cfg, keys, f.domain, f.protocol)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	cur, err := g.GetFederation(ctx, f.domain)
	if err != nil {
		return err
	}
	fields := provision.CompareFederation(cur, ours)
	if f.show || f.dryRun {
		printFederation(a.stdout, f.domain, cur, fields)
		return nil
	}
	if !f.force {
		if err := provision.CheckIdP(ctx, idpClient(cfg.SSO), cfg.SSO.BaseURL, keys); err != nil {
			return &exitError{code: 1, err: fmt.Errorf("not federating %s: %w; its users could not sign in. Start `o365prov run` (or fix sso.baseURL) first, or pass --force", f.domain, err)}
		}
	}
	changed, err := provision.ApplyFederation(ctx, g, f.domain, ours)
	if err != nil {
		return err
	}
	switch {
	case cur == nil:
		fmt.Fprintf(a.stdout, "%s is now federated with %s (%s, sign-in at %s).\n", f.domain, ours.IssuerURI, f.protocol, ours.PassiveSignInURI)
	case len(changed) == 0:
		fmt.Fprintf(a.stdout, "%s is already federated as configured; nothing changed.\n", f.domain)
	default:
		names := make([]string, len(changed))
		for i, c := range changed {
			names[i] = c.Name
		}
		fmt.Fprintf(a.stdout, "%s: updated %s.\n", f.domain, strings.Join(names, ", "))
	}
	return nil
}

func removeFederation(ctx context.Context, a *app, g *graph.Client, f federateFlags) error {
	if f.dryRun {
		cur, err := g.GetFederation(ctx, f.domain)
		if err != nil {
			return err
		}
		if cur == nil {
			fmt.Fprintf(a.stdout, "%s is not federated; --remove would change nothing.\n", f.domain)
		} else {
			fmt.Fprintf(a.stdout, "--remove would return %s to managed sign-in (issuer %s).\n", f.domain, cur.IssuerURI)
		}
		return nil
	}
	removed, err := provision.RemoveFederation(ctx, g, f.domain)
	if err != nil {
		return err
	}
	if !removed {
		fmt.Fprintf(a.stdout, "%s is not federated; nothing changed.\n", f.domain)
		return nil
	}
	fmt.Fprintf(a.stdout, "%s is managed again: its users sign in with cloud passwords (set them, or enable password hash sync, before they need to).\n", f.domain)
	return nil
}

func printFederation(w io.Writer, domain string, cur *graph.FederationConfig, fields []provision.FederationField) {
	state := "federated"
	if cur == nil {
		state = "managed (not federated)"
	}
	fmt.Fprintf(w, "Domain %s: %s\n\n", domain, state)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\tSETTING\tTENANT\tO365PROV")
	n := 0
	for _, f := range fields {
		mark := " "
		if f.Differs() {
			mark = "*"
			n++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", mark, f.Name, provision.ShowFederationValue(f.Name, f.Tenant), provision.ShowFederationValue(f.Name, f.Ours))
	}
	_ = tw.Flush()
	switch n {
	case 0:
		fmt.Fprintln(w, "\nThe tenant matches this configuration.")
	default:
		fmt.Fprintf(w, "\n%d setting(s) differ (marked *); `o365prov federate` without --show writes o365prov's.\n", n)
	}
}

// idpClient reaches the identity provider at baseURL, trusting its own
// TLS certificate when one is configured (a self-signed one, say).
func idpClient(s *config.SSO) *http.Client {
	c := &http.Client{Timeout: 10 * time.Second}
	if s.TLS == nil {
		return c
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if pem, err := os.ReadFile(s.TLS.Certificate); err == nil {
		pool.AppendCertsFromPEM(pem)
	}
	c.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	return c
}
