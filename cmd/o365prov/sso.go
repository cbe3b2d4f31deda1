package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/o365prov/o365prov/internal/provision"
	"github.com/o365prov/o365prov/internal/sso"
	"github.com/spf13/cobra"
)

func newSSOCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sso",
		Short: "Manage the identity provider's signing keys",
	}
	var cfgPath string
	var prepare bool
	roll := &cobra.Command{
		Use:   "rollover --config FILE [--prepare]",
		Short: "Roll the token-signing certificate over: --prepare makes the next one, then promote it",
		Long: `Certificate rollover in two steps, so no sign-in fails on the way:

  1. o365prov sso rollover --prepare   makes a next key and certificate; the
     metadata publishes it and 'o365prov federate' sends it to Entra as
     nextSigningCertificate. Restart 'o365prov run' so it is published.
  2. o365prov sso rollover             once Entra has it, promotes the next
     key: tokens are signed with it from the next start of 'o365prov run';
     then run 'o365prov federate' again so signingCertificate follows.

Only generated keys (kept in the state store) roll over here; with
sso.signingKey and sso.signingCertificate, replace the files instead.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runRollover(cmd.Context(), a, cfgPath, prepare) },
	}
	roll.Flags().StringVarP(&cfgPath, "config", "c", "", "configuration file")
	roll.Flags().BoolVar(&prepare, "prepare", false, "make the next key and certificate (published, not yet used)")
	_ = roll.MarkFlagRequired("config")
	cmd.AddCommand(roll)
	return cmd
}

func runRollover(ctx context.Context, a *app, cfgPath string, prepare bool) error {
	cfg, err := loadConfig(cfgPath)
	if err != nil {
		return err
	}
	if cfg.SSO == nil {
		return &exitError{code: 2, err: fmt.Errorf("%s has no sso section", cfgPath)}
	}
	if cfg.SSO.SigningKey != "" {
		return &exitError{code: 2, err: fmt.Errorf("sso.signingKey is a file (%s): roll it over by replacing the key and certificate files", cfg.SSO.SigningKey)}
	}
	st, err := provision.OpenStore(ctx, cfg.State)
	if err != nil {
		return err
	}
	defer st.Close()
	v := provision.KeyVault(cfg, st)
	var ks sso.Keys
	if prepare {
		if ks, err = v.Prepare(ctx); err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "Next signing certificate: %s\nCurrent (still signing): %s\nNow restart `o365prov run`, then run `o365prov federate` for each domain so Entra knows the next certificate.\n",
			provision.ShowFederationValue("signingCertificate", ks.Next.CertBase64()), provision.ShowFederationValue("signingCertificate", ks.Current.CertBase64()))
		return nil
	}
	if ks, err = v.Rollover(ctx); err != nil {
		return &exitError{code: 1, err: err}
	}
	fmt.Fprintf(a.stdout, "Promoted: tokens are signed with %s from the next start of `o365prov run`.\nRun `o365prov federate` for each domain so signingCertificate follows.\n",
		provision.ShowFederationValue("signingCertificate", ks.Current.CertBase64()))
	return nil
}

// startIdP serves the identity provider of the sso section on sso.listen
// until ctx ends. It returns at once with a function that waits for it to
// stop; with no sso section it does nothing.
func startIdP(ctx context.Context, sys *provision.System, log *slog.Logger) (wait func() error, err error) {
	s := sys.Config.SSO
	if s == nil {
		return func() error { return nil }, nil
	}
	idp, err := sys.OpenIdP(ctx, provision.SSOStore(sys.Store), log.With("component", "sso"))
	if err != nil {
		return nil, err
	}
	go provision.PruneSSOItems(ctx, sys.Store, 10*time.Minute, log)
	host, _, _ := net.SplitHostPort(s.Listen)
	if s.TLS == nil && !s.BehindProxy && !isLoopbackHost(host) {
		idp.Close()
		return nil, fmt.Errorf("sso.listen %s: plain HTTP is served on loopback only; set sso.tls, or behindProxy: true", s.Listen)
	}
	l, err := net.Listen("tcp", s.Listen)
	if err != nil {
		idp.Close()
		return nil, fmt.Errorf("sso.listen: %w", err)
	}
	srv := &http.Server{Handler: idp.Server.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second}
	done := make(chan error, 1)
	go func() {
		var err error
		if s.TLS != nil {
			err = srv.ServeTLS(l, s.TLS.Certificate, s.TLS.Key)
		} else {
			err = srv.Serve(l)
		}
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		done <- err
	}()
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
	}()
	log.Info("identity provider listening", "listen", l.Addr().String(), "baseURL", s.BaseURL, "protocols", s.Protocols)
	return func() error {
		err := <-done
		return errors.Join(err, idp.Close())
	}, nil
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
