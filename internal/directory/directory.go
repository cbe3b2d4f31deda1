package directory

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/o365prov/o365prov/internal/config"
)

// Kind says whether an operation is about users or groups.
type Kind int

// The kinds of object a channel reads.
const (
	KindUser Kind = iota + 1
	KindGroup
)

func (k Kind) String() string {
	switch k {
	case KindUser:
		return "user"
	case KindGroup:
		return "group"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Errors callers tell apart with errors.Is.
var (
	// ErrPushUnsupported: the server offers no push mechanism this package
	// can use (or push is off); poll with Changes.
	ErrPushUnsupported = errors.New("directory: push notifications are not supported by this server")
	// ErrStaleWatermark: the watermark cannot be continued (none yet, another
	// algorithm, another domain controller, another scope). Do a full read:
	// Watermark, then Users/Groups (and Enumerate).
	ErrStaleWatermark = errors.New("directory: watermark cannot be used; a full read is needed")
	// ErrInvalidCredentials is the one error Authenticate returns for an
	// unknown login, a wrong password, an empty password or an ambiguous
	// login, so the caller cannot tell them apart.
	ErrInvalidCredentials = errors.New("directory: invalid credentials")
	// ErrAccountDisabled: the password was right but the account is disabled
	// by the channel's account status algorithm.
	ErrAccountDisabled = errors.New("directory: account disabled")
	// ErrNotFound: Lookup found no entry at that DN.
	ErrNotFound = errors.New("directory: no such entry")
	// ErrNotInScope: Lookup found the entry but it is outside the channel's
	// scope (filter, group).
	ErrNotInScope = errors.New("directory: entry is not in scope")
	// ErrNotConfigured: the channel has no groups location.
	ErrNotConfigured = errors.New("directory: groups are not configured for this source")
	// ErrScopeGroupMissing: users.groupDN or groups.groupDN does not exist.
	// The read fails rather than reporting an empty scope.
	ErrScopeGroupMissing = errors.New("directory: scope group does not exist")
	// ErrReferralLoop: following referrals came back to a place already
	// visited, or went too deep.
	ErrReferralLoop = errors.New("directory: referral loop")
	// ErrIncomplete: the server ended a search without the result that says
	// it was complete.
	ErrIncomplete = errors.New("directory: search ended before its final result")
	// ErrClosed: the Directory was closed.
	ErrClosed = errors.New("directory: closed")
)

// Entry is one directory object as the engine sees it.
type Entry struct {
	// DN as the server returned it.
	DN string
	// GUID is the canonical text of the identity anchor: a binary
	// objectGUID rendered as Active Directory renders it (first three
	// groups byte-swapped, lower case), a UUID-valued text attribute
	// (entryUUID, nsUniqueId in UUID form, ...) lower-cased, any other text
	// value as the server returned it.
	GUID string
	// RawGUID is the anchor's bytes: objectGUID as stored; a UUID text
	// value's 16 bytes in text order; any other text value's octets.
	// base64(RawGUID) is Entra Connect's onPremisesImmutableId.
	RawGUID []byte
	// Attributes holds every returned attribute, multi-valued kept, keyed
	// by the name the caller asked for (the server's spelling when the
	// caller did not ask for it by name). Values are the raw octets as Go
	// strings, so binary attributes (objectSid, jpegPhoto) are not UTF-8.
	// The member attribute of groups is not repeated here: see Members.
	// Look names up with Attr, which ignores case.
	Attributes map[string][]string
	// Enabled is the account status by the channel's algorithm (always
	// true for groups and for algorithm NONE).
	Enabled bool
	// Members holds a group's member values (DNs, or whatever the member
	// attribute holds), every range of an Active Directory ranged read
	// included. Empty for users.
	Members []string
}

// Attr returns the values of an attribute, the name compared without
// regard to case.
func (e Entry) Attr(name string) []string {
	if v, ok := e.Attributes[name]; ok {
		return v
	}
	for k, v := range e.Attributes {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return nil
}

// First returns the first value of an attribute, or "".
func (e Entry) First(name string) string {
	if v := e.Attr(name); len(v) > 0 {
		return v[0]
	}
	return ""
}

// Problem is an entry that was skipped: it has no usable GUID, or a value
// the channel needs cannot be parsed.
type Problem struct {
	DN     string
	Reason string
}

func (p Problem) String() string { return p.DN + ": " + p.Reason }

// maxProblemsKept bounds ReadStats.Problems; Skipped counts them all.
const maxProblemsKept = 100

// ReadStats describes one read. A read that returned a nil error saw every
// page; the entries it skipped are counted here.
type ReadStats struct {
	Entries  int           // entries passed to the callback
	Skipped  int           // entries skipped for a Problem
	Problems []Problem     // the first 100 problems (all go to WithProblemHandler)
	Pages    int           // pages read (all searches, referrals included)
	Ignored  []string      // continuation references not followed (ReferralsIgnore)
	Duration time.Duration // wall time of the read
}

func (st *ReadStats) problem(p Problem, h func(Problem)) {
	st.Skipped++
	if len(st.Problems) < maxProblemsKept {
		st.Problems = append(st.Problems, p)
	}
	if h != nil {
		h(p)
	}
}

// ReferralPolicy says what a read does with a continuation reference (a
// subtree held by another server) or a referral result.
type ReferralPolicy int

const (
	// ReferralsDefault is ReferralsIgnore for Active Directory (a domain
	// search refers to the Configuration and DNS partitions, which hold no
	// users) and ReferralsFollow for every other directory.
	ReferralsDefault ReferralPolicy = iota
	// ReferralsFollow searches the referred server with the same
	// credentials and TLS settings; a referral that comes back to a place
	// already visited, or more than 10 hops deep, fails the read.
	ReferralsFollow
	// ReferralsIgnore leaves continuation references out (listed in
	// ReadStats.Ignored); a referral result still fails the read.
	ReferralsIgnore
	// ReferralsFail fails the read on any referral.
	ReferralsFail
)

// Option configures Open.
type Option func(*options)

type options struct {
	logger       *slog.Logger
	now          func() time.Time
	tlsConfig    *tls.Config
	dial         func(ctx context.Context, network, addr string) (net.Conn, error)
	poolSize     int
	problems     func(Problem)
	referrals    ReferralPolicy
	clockSkew    time.Duration
	dialAttempts int
	backoffMin   time.Duration
	backoffMax   time.Duration
	rangeStep    int
	adPush       string
	pollEvery    time.Duration
	watchStatus  func(WatchStatus)
}

// WithLogger sets the logger (default slog.Default()). Nothing secret is
// ever logged.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithClock replaces time.Now (the TIMESTAMP algorithms' fallback clock,
// and stats).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithTLSConfig sets the base TLS configuration (cloned). caFile and
// insecureSkipVerify from the source still apply on top. Its ServerName,
// when set, is the name expected on the certificate of the source's URL
// (a URL with an address); otherwise, and for referred servers, the
// URL's host is.
func WithTLSConfig(c *tls.Config) Option { return func(o *options) { o.tlsConfig = c } }

// WithDialer replaces the TCP dialer (tests: fault injection, proxies).
func WithDialer(dial func(ctx context.Context, network, addr string) (net.Conn, error)) Option {
	return func(o *options) { o.dial = dial }
}

// WithPoolSize sets how many bound connections the pool keeps and allows
// at once (default 4). Watch uses a connection of its own besides.
func WithPoolSize(n int) Option { return func(o *options) { o.poolSize = n } }

// WithProblemHandler receives every skipped entry (DN and reason) as it
// is found; ReadStats keeps only the first 100.
func WithProblemHandler(fn func(Problem)) Option { return func(o *options) { o.problems = fn } }

// WithReferrals sets the referral policy (default ReferralsDefault).
func WithReferrals(p ReferralPolicy) Option { return func(o *options) { o.referrals = p } }

// WithClockSkew sets the margin the TIMESTAMP algorithms subtract from
// the server's time when they set a watermark (default 2 minutes): changes
// stamped within it are read again rather than missed.
func WithClockSkew(d time.Duration) Option { return func(o *options) { o.clockSkew = d } }

// WithReconnect sets how many times a connection is dialled before an
// operation fails, and the backoff between tries (defaults: 5 tries,
// 100 ms doubling to 3 s).
func WithReconnect(attempts int, minBackoff, maxBackoff time.Duration) Option {
	return func(o *options) {
		o.dialAttempts, o.backoffMin, o.backoffMax = attempts, minBackoff, maxBackoff
	}
}

// WithADPush chooses Active Directory's push mechanism: "notification"
// (LDAP_SERVER_NOTIFICATION_OID, the default, DirSync when the server
// refuses it) or "dirsync" (poll DirSync twice a second).
func WithADPush(mode string) Option { return func(o *options) { o.adPush = mode } }

// withRangeStep makes Active Directory member reads ask for explicit
// ranges of n values (tests: Samba only ranges when asked).
func withRangeStep(n int) Option { return func(o *options) { o.rangeStep = n } }

// Directory reads one LDAP source. It is safe for concurrent use.
type Directory struct {
	src     config.Source
	opts    options
	log     *slog.Logger
	u       *url.URL
	timeout time.Duration
	page    int
	pool    *pool
	info    serverInfo
	life    context.Context // ends at Close, stopping Watch
	kill    context.CancelFunc
}

// Open checks the source settings, connects, binds and reads the server's
// root DSE. It fails when the server cannot be reached or the bind is
// refused, so a bad configuration is reported at start.
func Open(ctx context.Context, src config.Source, opts ...Option) (*Directory, error) {
	o := options{
		logger:       slog.Default(),
		now:          time.Now,
		poolSize:     4,
		clockSkew:    2 * time.Minute,
		dialAttempts: 5,
		backoffMin:   100 * time.Millisecond,
		backoffMax:   3 * time.Second,
		adPush:       "notification",
		pollEvery:    500 * time.Millisecond,
	}
	for _, opt := range opts {
		opt(&o)
	}
	if o.poolSize < 1 {
		o.poolSize = 1
	}
	if o.dialAttempts < 1 {
		o.dialAttempts = 1
	}
	src, err := normalise(src)
	if err != nil {
		return nil, err
	}
	u, err := parseURL(src.URL)
	if err != nil {
		return nil, err
	}
	d := &Directory{
		src:     src,
		opts:    o,
		log:     o.logger.With("directory", redactURL(u)),
		u:       u,
		timeout: src.Timeout,
		page:    src.PageSize,
	}
	d.pool = newPool(d)
	d.life, d.kill = context.WithCancel(context.Background())
	if err := d.loadInfo(ctx); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// Close closes the pooled connections and stops Watch. Operations that
// hold a connection finish on it; new ones get ErrClosed.
func (d *Directory) Close() error {
	d.kill()
	d.pool.close()
	return nil
}

// normalise fills what the configuration left empty with the values this
// package needs, and rejects what it cannot work with.
func normalise(s config.Source) (config.Source, error) {
	var bad []string
	if s.URL == "" {
		bad = append(bad, "url is empty")
	}
	if s.BaseDN == "" {
		bad = append(bad, "baseDN is empty")
	}
	if s.BindDN != "" && !s.Password.IsSet() {
		bad = append(bad, "bindDN is set without a password (an unauthenticated bind)")
	}
	if s.GUIDAttribute == "" {
		bad = append(bad, "guidAttribute is empty")
	}
	if s.PageSize <= 0 {
		s.PageSize = config.DefaultPageSize
	}
	if s.Timeout <= 0 {
		s.Timeout = config.DefaultLDAPTimeout
	}
	if s.UserObjectClass == "" {
		s.UserObjectClass = "inetOrgPerson"
	}
	if s.GroupObjectClass == "" {
		s.GroupObjectClass = "groupOfNames"
	}
	if s.MemberAttribute == "" {
		s.MemberAttribute = "member"
	}
	if s.Users.Filter == "" {
		s.Users.Filter = "(objectClass=" + s.UserObjectClass + ")"
	}
	if s.Groups != nil && s.Groups.Filter == "" {
		g := *s.Groups
		g.Filter = "(objectClass=" + s.GroupObjectClass + ")"
		s.Groups = &g
	}
	s.Users.Filter = paren(s.Users.Filter)
	if s.Groups != nil {
		g := *s.Groups
		g.Filter = paren(g.Filter)
		s.Groups = &g
	}
	switch s.ChangeDetection.Algorithm {
	case "":
		s.ChangeDetection.Algorithm = config.Timestamp
	case config.ADUSN, config.Timestamp, config.TimestampNoNegation, config.EntryCSN:
	default:
		bad = append(bad, fmt.Sprintf("changeDetection.algorithm %q is unknown", s.ChangeDetection.Algorithm))
	}
	if s.ChangeDetection.Attribute == "" {
		switch s.ChangeDetection.Algorithm {
		case config.ADUSN:
			s.ChangeDetection.Attribute = "uSNChanged"
		case config.EntryCSN:
			s.ChangeDetection.Attribute = "entryCSN"
		default:
			s.ChangeDetection.Attribute = "modifyTimestamp"
		}
	}
	switch s.AccountStatus.Algorithm {
	case "", config.StatusNone:
		s.AccountStatus.Algorithm = config.StatusNone
	case config.StatusAD:
		if s.AccountStatus.Attribute == "" {
			s.AccountStatus.Attribute = "userAccountControl"
		}
	case config.StatusFlag:
		if s.AccountStatus.Attribute == "" {
			bad = append(bad, "accountStatus.attribute is empty (algorithm FLAG compares an attribute)")
		}
	default:
		bad = append(bad, fmt.Sprintf("accountStatus.algorithm %q is unknown", s.AccountStatus.Algorithm))
	}
	switch strings.ToLower(s.AccountStatus.Default) {
	case "", "enabled", "true":
		s.AccountStatus.Default = "enabled"
	case "disabled", "false":
		s.AccountStatus.Default = "disabled"
	default:
		bad = append(bad, fmt.Sprintf("accountStatus.default %q is neither enabled nor disabled", s.AccountStatus.Default))
	}
	if len(bad) > 0 {
		return s, fmt.Errorf("directory: source settings: %s", strings.Join(bad, "; "))
	}
	return s, nil
}

// paren wraps a filter in parentheses when it has none, as PingFederate
// accepts "objectClass=person".
func paren(f string) string {
	f = strings.TrimSpace(f)
	if f != "" && !strings.HasPrefix(f, "(") {
		return "(" + f + ")"
	}
	return f
}

func parseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("directory: url %q: %w", raw, err)
	}
	switch strings.ToLower(u.Scheme) {
	case "ldap", "ldaps":
		u.Scheme = strings.ToLower(u.Scheme)
	default:
		return nil, fmt.Errorf("directory: url %q: scheme must be ldap or ldaps", raw)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("directory: url %q has no host", raw)
	}
	if u.Port() == "" {
		port := "389"
		if u.Scheme == "ldaps" {
			port = "636"
		}
		u.Host = net.JoinHostPort(u.Hostname(), port)
	}
	return u, nil
}

// redactURL is the URL without user information, for logs.
func redactURL(u *url.URL) string {
	return u.Scheme + "://" + u.Host
}

// enabledByDefault is the status of an account whose status attribute is
// absent.
func (d *Directory) enabledByDefault() bool { return d.src.AccountStatus.Default != "disabled" }

// location returns the users or groups location, or ErrNotConfigured.
func (d *Directory) location(kind Kind) (config.Location, error) {
	switch kind {
	case KindUser:
		return d.src.Users, nil
	case KindGroup:
		if d.src.Groups == nil {
			return config.Location{}, ErrNotConfigured
		}
		return *d.src.Groups, nil
	}
	return config.Location{}, fmt.Errorf("directory: unknown kind %v", kind)
}

// objectClass is the object class of a kind.
func (d *Directory) objectClass(kind Kind) string {
	if kind == KindGroup {
		return d.src.GroupObjectClass
	}
	return d.src.UserObjectClass
}
