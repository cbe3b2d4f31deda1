// Package ldapserver is a small LDAPv3 directory server held in memory,
// loaded from LDIF. `o365prov demo` runs it as the demo organisation's
// directory, and tests run it as a fast, real LDAP peer for the directory
// client. It is not a production directory.
//
// # Use
//
//	srv, err := ldapserver.New(ldapserver.Options{
//		LDIFPath:      "examples/contoso.ldif", // BaseDN defaults to its first entry
//		AdminDN:       "cn=admin,dc=contoso,dc=com",
//		AdminPassword: secret,
//		Logger:        logger,
//	})
//	addr, err := srv.Start(ctx, "127.0.0.1:0") // serves until Close or ctx is done
//	defer srv.Close()
//	// clients connect to "ldap://" + addr
//
//	err = srv.Modify("uid=jdoe,ou=people,dc=contoso,dc=com", ldapserver.Replace("title", "CTO"))
//	err = srv.Delete("uid=jdoe,ou=people,dc=contoso,dc=com")
//	entries := srv.Entries()
//
// The Go methods change and read the directory without LDAP, maintaining
// the operational attributes as LDAP writes do: Add(dn, attrs),
// Modify(dn, changes...) with AddValues, DeleteValues, Replace and
// Increment, Delete(dn), ModifyDN(dn, newRDN, deleteOldRDN, newSuperior),
// Get(dn), Entries(), Len() and WriteLDIF(w). Their errors are *Error
// values carrying the LDAP result code; match them with errors.Is against
// ErrNoSuchObject, ErrEntryAlreadyExists and the other sentinels.
//
// Serve(ctx, listener) serves on a listener of the caller's, for LDAPS a
// tls.NewListener. Options.TLSConfig enables StartTLS. The demo uses plain
// ldap:// on 127.0.0.1.
//
// # Protocol
//
// Operations: simple bind, search (base, one, sub and subordinate scope,
// the whole RFC 4515 filter grammar), compare, add, modify (add, delete,
// replace, increment), delete, modify DN (rename and move, subtrees
// included), abandon, unbind, and the WhoAmI and StartTLS extended
// operations. Controls: paged results (RFC 2696) and ManageDsaIT; any
// other control marked critical gets unavailableCriticalExtension (12), as
// RFC 4511 §4.1.11 requires, and non-critical ones are ignored. SASL bind
// gets authMethodNotSupported.
//
// The wire protocol is implemented here on go-asn1-ber rather than with
// github.com/jimlambrt/gldap: gldap v0.1.14 drops the connection on a
// ModifyDN request (it has no such operation), delivers the values of a
// multi-valued modification as one raw BER blob, cannot report the port it
// listens on when given ":0", and its Stop waits for idle clients to hang
// up. The package also compiles testify into any binary that imports it.
//
// # Access
//
// Anonymous connections may read the root DSE only (Options.AllowAnonymousRead
// opens the rest). Any bound user may search and compare. Only
// Options.AdminDN may write; others get insufficientAccessRights (50).
// userPassword is returned to, and matched for, the administrator only.
// A bind checks userPassword values in {SSHA}, {SHA}, {SSHA256}, {SHA256},
// {SSHA512}, {SHA512}, {CLEARTEXT} or plain form; a wrong password or
// unknown DN gets invalidCredentials (49), a DN with an empty password
// unwillingToPerform (53), and an entry with nsAccountLock: true
// unwillingToPerform (53) after a correct password, as 389-DS answers.
//
// # Matching
//
// Attribute names are case-insensitive and the usual aliases resolve (cn
// and commonName, mail and rfc822Mailbox, ...). Values compare by the
// attribute's syntax: strings ignoring case and redundant spaces; DN-valued
// attributes (member, manager, memberOf, ...) by normalised DN; integers
// (uidNumber, uSNChanged, userAccountControl, ...) numerically;
// GeneralizedTime (createTimestamp, modifyTimestamp, ...) as times;
// telephone numbers ignoring spaces and hyphens; binary attributes
// (userPassword, jpegPhoto, objectGUID, ";binary") byte for byte. entryCSN
// orders lexically, which is its order. Approximate match is equality. A
// filter item with no matching rule for its syntax (substrings on a DN,
// ordering on a DN) or an assertion invalid in the syntax is Undefined, in
// three-valued logic. Extensible match knows the RFC 4517 equality rules
// and Active Directory's bitwise AND (1.2.840.113556.1.4.803) and OR
// (1.2.840.113556.1.4.804).
//
// # Operational attributes
//
// Every entry has entryUUID (kept from the LDIF, generated from
// Options.Rand otherwise), createTimestamp and modifyTimestamp
// (YYYYMMDDHHMMSSZ), entryCSN (YYYYMMDDHHMMSS.ffffffZ#cccccc#sid#000000,
// strictly increasing across the server even within one microsecond or
// when the clock steps back), creatorsName and modifiersName. memberOf
// (direct groups whose member holds the entry), hasSubordinates and entryDN
// are computed on read, and so is contextCSN on the suffix entry (the
// greatest CSN, as OpenLDAP's syncprov keeps it), from which a client takes
// an exact entryCSN watermark. All are returned only when asked for by name
// or with "+". The root DSE carries currentTime (as Active Directory's
// does) from Options.Clock, so that timestamp watermarks follow an
// injected clock. Every write sets a new entryCSN and a modifyTimestamp taken
// from it. As with OpenLDAP's memberof and refint overlays: a change of a
// group's member stamps the member entries whose memberOf changed; deleting
// or renaming an entry removes or rewrites the member and manager values
// that named it, stamping their holders; a rename stamps the renamed entry
// but not its descendants.
//
// # Paging
//
// A paged search fixes its candidate entries when it starts, in tree order
// (parents before children, siblings in insertion order), and walks them
// page by page, re-checking each against the filter when its turn comes:
// entries deleted between pages are skipped, modified ones are sent as they
// are then, entries added after the first page are not sent. Cookies are
// valid only on the connection that got them; a connection may hold up to
// 256 unfinished paged searches. Options.SizeLimit caps unpaged searches
// like Active Directory's MaxPageSize, so that tests can check that a
// client pages.
//
// # Not implemented
//
// Schema checking beyond "an entry has an objectClass and its RDN values",
// ACLs beyond the rules above, aliases and referrals, the time limit of a
// search, sorting and VLV controls, persistent search and syncrepl, and
// subtypes (asking for userCertificate does not return
// userCertificate;binary).
package ldapserver
