// Package directory is o365prov's source of truth: it reads users and
// groups from an LDAP directory (Active Directory, OpenLDAP, PingDirectory
// and 389-DS, any LDAPv3 server) for one channel, as the engine needs
// them, on github.com/go-ldap/ldap/v3.
//
//	d, err := directory.Open(ctx, channel.Source, directory.WithLogger(log))
//	defer d.Close()
//	wm, err := d.Watermark(ctx)                          // before the full read
//	stats, err := d.Users(ctx, attrs, func(e directory.Entry) error { ... })
//	err = d.Enumerate(ctx, directory.KindUser, func(guid, dn string) error { ... })
//	next, err := d.Changes(ctx, directory.KindUser, wm, attrs, func(c directory.Change) error { ... })
//	// store next only once the changes are applied
//	err = d.Watch(ctx, func(ev directory.Event) { /* run Changes now */ })
//
// # Reads never look complete when they are not
//
// Every read (Users, Groups, Enumerate, Changes) is a paged search (RFC
// 2696) whose entries go to the callback page by page; at most two pages
// are held (the next is requested while the current one is processed), so
// memory does not grow with the directory (BenchmarkStream100k: 100,000
// entries at about 12 MB of heap). A read returns nil only when the
// server's final result for every page said success: a size or time limit,
// a timeout, a dropped connection, a page without its paging control, a
// referral that cannot be followed or loops, a scope group that does not
// exist, or an error from the callback fails the whole read. A connection
// that fails before the callback has been called is retried once or twice
// on a new connection (the server may have restarted since it was
// pooled); after that the read fails, as redelivering entries would
// duplicate them.
//
// Per-entry problems do not fail a read: an entry without the GUID
// attribute, with several values of it, with a binary GUID that is not 16
// bytes, or with an account-status value that cannot be read is skipped
// and reported with its DN and the reason (ReadStats.Problems and
// WithProblemHandler). The engine must treat a skipped entry as unknown,
// never as gone.
//
// # Connections
//
// go-ldap has no pool; this package keeps a small one (WithPoolSize,
// default 4) of connections bound with the source's credentials: ldap://,
// ldaps://, StartTLS, the source's CA file added to the system roots,
// insecureSkipVerify, the source's timeout for dialling and for each
// request (go-ldap's request timeout covers a whole page). A dial that
// fails is retried with jittered exponential backoff (WithReconnect,
// default 5 tries from 100 ms to 3 s); a refused bind or a certificate
// that does not verify fails at once. Cancelling the context closes the
// connection in use, which ends whatever it was doing. Open connects,
// binds and reads the root DSE, so a wrong URL, password or CA is
// reported at start.
//
// # Entries
//
// Entry.GUID is the identity anchor as text: a binary objectGUID (always
// binary, whatever guidBinary says) rendered as Active Directory renders
// it (first three fields byte-swapped, lower case); a text GUID attribute
// lower-cased when it is a UUID (entryUUID), kept as it is otherwise.
// Entry.RawGUID holds the bytes, so base64(RawGUID) is Entra Connect's
// onPremisesImmutableId. Attributes keep every value, keyed by the name
// the caller asked for; Entry.Attr looks names up without regard to case.
// The callers' attribute list gets the GUID attribute, the account-status
// attribute (users) and the member attribute (groups) added; nil asks for
// every user attribute.
//
// Account status: AD tests bit 0x2 (ACCOUNTDISABLE) of userAccountControl;
// FLAG compares the attribute (any value, ignoring case) with flagValue,
// which means disabled when flagMeansDisabled is set and enabled when not;
// an absent attribute takes accountStatus.default; NONE is always enabled.
// Groups are always enabled.
//
// Entry.Members holds a group's member values with nameAndOptionalUID
// suffixes ("#'0101'B") stripped and empty values (the empty DN an empty
// groupOfNames holds) dropped. Active Directory returns at most 1,500
// values of a large attribute, as "member;range=0-1499"; the rest is read
// with "member;range=1500-*" until a range ends in "*", on the connection
// of the read.
//
// # Scope
//
// Entries are in scope when they are under baseDN, match the location's
// filter and, when groupDN is set, are members of that group (through
// nested groups with nestedSearch). On Active Directory the group test is
// in the filter: memberOf=groupDN, or memberOf with
// LDAP_MATCHING_RULE_IN_CHAIN for nested groups (memberOf is a back link AD
// maintains). Elsewhere memberOf is an optional overlay that may be absent
// or stale, so membership comes from the groups: a full read resolves the
// group's member DNs (nested groups found among the groups of the group's
// naming context, cycles cut) into a set and keeps the entries of the
// paged search that are in it; Changes walks upward from each changed
// entry through the groups that list it (or resolves the set once when
// more than two pages of entries changed). A scope group that does not
// exist fails the read with ErrScopeGroupMissing, as "nobody is in scope"
// would deprovision everyone.
//
// # Change detection
//
// A Watermark is opaque text (JSON inside) naming the algorithm, the
// attribute, a hash of the scope settings and a position. Take one with
// Watermark before a full read; Changes(since) returns what changed
// after it and the next watermark, which the caller stores only after
// applying the changes: a crash repeats them, never loses them. Changes
// re-reads entries stamped at the boundary rather than miss one.
//
//   - ACTIVE_DIRECTORY_USN: highestCommittedUSN from the root DSE, then
//     (uSNChanged>=last+1). USNs belong to one domain controller: the
//     watermark records the DC's dsServiceName and invocationId (which
//     changes when the DC is restored from backup), and a watermark from
//     another DC is stale (ErrStaleWatermark: do a full read).
//   - TIMESTAMP (PingFederate's "not older than"): (&(attr=*)(!(attr<=T-1s)))
//     with T the server's time at the previous read less a margin
//     (WithClockSkew, default 2 minutes), so changes in the same second,
//     late commits and clock skew are read again rather than missed. The
//     server's time is the root DSE's currentTime (Active Directory),
//     OpenLDAP's cn=Monitor, or this machine's clock.
//   - TIMESTAMP_NO_NEGATION: (attr>=T), for servers slow with negation.
//   - ENTRY_CSN: (entryCSN>=C) with C the least of the database's
//     contextCSN values (one per provider in multi-provider replication),
//     read before the search; entries stamped exactly C, committed before
//     the watermark was read, are skipped. Without contextCSN (no syncprov
//     overlay) C is made from the server's clock less the margin.
//
// Changes reports, in order: ScopeChanged when the scope group or a group
// nested in it changed (a member leaving a group does not change the
// member's entry, which PingFederate misses: run a full read or Enumerate
// then); Updated for each entry changed and in scope; Left for each entry
// of the kind's object class in the naming context that changed and is not
// in scope (moved out of the base DN, no longer matching the filter; an
// entry that changed but left scope never comes back as Updated; unknown
// GUIDs are to be ignored); and on Active Directory, Deleted for tombstones
// whose last parent was under the base DN (when the bind account may read
// CN=Deleted Objects). Deletions are otherwise found by Enumerate: the
// GUID-only full read, complete or an error.
//
// # Push
//
// Watch delivers Events, hints that something changed: the engine runs
// Changes at once instead of at its next interval, so there is one source
// of truth. It uses RFC 4533 syncrepl refreshAndPersist where the server
// offers it (OpenLDAP with syncprov: about 2 ms from change to callback in
// the tests), with a cookie made from contextCSN at the start (so the
// refresh sends nothing old) and kept across reconnections (so nothing is
// missed); Active Directory's change notification control (tens of
// milliseconds on Samba), or DirSync polled twice a second where
// notification is refused. It returns ErrPushUnsupported otherwise, or
// when push is off: the engine polls. A reconnection that cannot resume
// (notification) reports an Event with Missed set.
//
// # Referrals
//
// Continuation references and referral results are followed with the same
// credentials and TLS settings (ReferralsFollow), except on Active
// Directory, whose domain searches refer to the Configuration and DNS
// partitions that hold no users (ReferralsIgnore: listed in
// ReadStats.Ignored). A referral back to a server and base already
// visited, or more than 10 hops, fails the read with ErrReferralLoop.
//
// # Authentication
//
// Authenticate finds the one user in scope whose login attribute equals
// the login and binds as it with the password on a connection of its own.
// Unknown user, wrong password, empty password and an ambiguous login all
// return ErrInvalidCredentials, and an unknown user costs a bind too.
//
// # API choices
//
// Changes takes the Kind, as Enumerate does: users and groups ask for
// different attributes, and the engine keeps a watermark per kind (one
// Watermark serves as the start of both). Watch delivers Events rather
// than Changes, so entries and scope decisions come from Changes alone.
// Lookup reads one entry by DN with the scope checks (the SSO and manager
// resolution need it). The test helpers slapdtest (OpenLDAP) and
// sambatest (Samba AD) are exported for the engine's tests.
package directory
