package provision

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"

	"github.com/go-ldap/ldap/v3"
	"github.com/o365prov/o365prov/internal/config"
	"github.com/o365prov/o365prov/internal/directory"
)

// PeerError is a peer o365prov could not reach or use: a channel's
// directory or the state store at start, or the tenant refusing the app's
// credential at any cycle. It names the channel (when there is one), what
// failed, and what the administrator can do. Commands exit 3 on it.
type PeerError struct {
	Channel string // empty for the state store and the tenant
	What    string // "directory ldap://…", "state", "tenant"
	Err     error
	Fix     string
}

func (e *PeerError) Error() string {
	var b strings.Builder
	if e.Channel != "" {
		fmt.Fprintf(&b, "channel %s: ", e.Channel)
	}
	fmt.Fprintf(&b, "%s: %v", e.What, e.Err)
	if e.Fix != "" {
		fmt.Fprintf(&b, "; to fix: %s", e.Fix)
	}
	return b.String()
}

func (e *PeerError) Unwrap() error { return e.Err }

// ErrNoChannel: a channel asked for by name is not in the configuration.
var ErrNoChannel = errors.New("no such channel")

// CheckChannels returns an error wrapping ErrNoChannel that names the
// channels asked for that the configuration does not have, listing the
// ones it has.
func CheckChannels(cfg *config.Config, only []string) error {
	var missing, have []string
	for _, ch := range cfg.Channels {
		have = append(have, ch.Name)
	}
	for _, name := range only {
		if _, ok := cfg.Channel(name); !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("%w %s in %s: the channels are %s", ErrNoChannel, strings.Join(missing, ", "), cfg.File, strings.Join(have, ", "))
}

// OpenDirectory connects and binds to a channel's directory, giving up
// after the source's timeout: a server that accepts the connection and
// never answers would otherwise be waited for once per reconnect attempt.
// Its errors are PeerErrors that say what to do.
func OpenDirectory(ctx context.Context, ch config.Channel, opts ...directory.Option) (*directory.Directory, error) {
	if ch.Source.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, ch.Source.Timeout)
		defer cancel()
	}
	d, err := directory.Open(ctx, ch.Source, opts...)
	if err != nil {
		return nil, directoryError(ch, err)
	}
	return d, nil
}

// directoryError explains a failure to reach or bind to a directory.
func directoryError(ch config.Channel, err error) error {
	s := ch.Source
	se := &PeerError{Channel: ch.Name, What: "directory " + s.URL, Err: err}
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	var ci x509.CertificateInvalidError
	switch {
	case ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials):
		se.Fix = fmt.Sprintf("the directory refused the bind as %q: check source.bindDN and source.password", s.BindDN)
	case errors.Is(err, context.DeadlineExceeded):
		se.Err = fmt.Errorf("no answer within %v (source.timeout)", s.Timeout)
		se.Fix = "check that the server runs and answers at source.url, and that no firewall drops the connection"
	case errors.As(err, &ua):
		se.Fix = "the directory's certificate is signed by an authority this machine does not trust: set source.caFile to that CA's PEM certificate"
	case errors.As(err, &hn):
		se.Fix = "the directory's certificate is not for the host in source.url: use the name on the certificate"
	case errors.As(err, &ci):
		se.Fix = "the directory's certificate is not valid (expired or not for a server): renew it, or set source.caFile"
	case strings.Contains(err.Error(), "tls:") || strings.Contains(err.Error(), "starttls"):
		se.Fix = "TLS with the directory failed: check source.url's scheme (ldaps:// on 636, ldap:// with startTLS on 389) and source.caFile"
	case errors.Is(err, syscall.ECONNREFUSED):
		se.Fix = "nothing listens there: check that the server runs and that source.url names its host and port"
	case isDNSError(err):
		se.Fix = "the host name in source.url does not resolve"
	case ldap.IsErrorWithCode(err, ldap.ErrorNetwork):
		se.Fix = "check that the server runs and that source.url names its host and port"
	}
	return se
}

func isDNSError(err error) bool {
	var de *net.DNSError
	return errors.As(err, &de)
}

// stateError explains a failure to open the state store.
func stateError(s config.State, err error) error {
	fix := "check state.dsn"
	if s.Driver == "sqlite" {
		fix = "state.dsn must name a file in a directory this user can write (o365prov creates the file)"
	} else if s.Driver == "postgres" {
		fix = "check that PostgreSQL runs and that state.dsn's host, database, user and password are right"
	}
	return &PeerError{What: "state (" + s.Driver + ")", Err: err, Fix: fix}
}
