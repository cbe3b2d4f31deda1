package directory

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
	"github.com/o365prov/o365prov/internal/config"
)

// Event is a push notification from Watch: an entry changed. It is a
// hint to run Changes now rather than at the next interval; it carries
// no attributes and no scope decision (Changes makes that), so the
// caller never has two sources of truth.
type Event struct {
	// Object is KindUser or KindGroup when the entry's object classes say
	// which, 0 otherwise.
	Object Kind
	// DN and GUID of the entry, when the server said (a syncrepl delete
	// names the entryUUID only).
	DN   string
	GUID string
	// Gone: the server says the entry left the watched set: deleted, or
	// (syncrepl) modified so it no longer matches the filter. Enumerate
	// or Lookup confirms which.
	Gone bool
	// Missed: push was interrupted and changes may have been missed
	// meanwhile; poll now. Such an event (with nothing else set) comes when
	// push is live again after a reconnection that could not resume where
	// it stopped.
	Missed bool
	// Source is the mechanism: "syncrepl", "notification" or "dirsync".
	Source string
	// At is when the event arrived.
	At time.Time
}

// WatchStatus is reported to WithWatchStatus when push goes live and
// when it is interrupted.
type WatchStatus struct {
	Live      bool
	Mechanism string
	Err       error // why it was interrupted
}

// WithWatchStatus receives Watch's state changes (for a console, and
// tests that must not change the directory before push is live).
func WithWatchStatus(fn func(WatchStatus)) Option { return func(o *options) { o.watchStatus = fn } }

// Watch calls fn for each change the server pushes, until ctx ends or
// the Directory is closed (it then returns nil). It uses RFC 4533 syncrepl (refreshAndPersist) where
// the server offers it (OpenLDAP with syncprov), Active Directory's change
// notification control, or DirSync polled twice a second where notification
// is refused. It returns an error wrapping ErrPushUnsupported at once when
// the server offers none of them, or when push is off for the channel:
// the caller then polls with Changes.
//
// A dropped connection is redialled with backoff, forever: syncrepl
// resumes from its cookie (kept in memory for the life of the call), so
// nothing is missed; notification cannot resume, so the first event after
// it returns carries Missed. Across restarts the caller's watermark and
// Changes cover the gap: Watch starts from the present.
func (d *Directory) Watch(ctx context.Context, fn func(Event)) error {
	if d.life.Err() != nil {
		return ErrClosed
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(d.life, cancel)()
	if d.src.ChangeDetection.Push == config.PushOff {
		return fmt.Errorf("%w: push is off for this channel", ErrPushUnsupported)
	}
	switch {
	case d.info.controls[oidSyncRequest]:
		return d.watchSyncrepl(ctx, fn)
	case d.info.ad && d.info.controls[oidNotification] && d.opts.adPush != "dirsync":
		err := d.watchNotify(ctx, fn)
		if errors.Is(err, ErrPushUnsupported) && d.info.controls[oidDirSync] {
			d.log.Info("change notification refused; polling DirSync", "err", err)
			return d.watchDirSync(ctx, fn)
		}
		return err
	case d.info.ad && d.info.controls[oidDirSync]:
		return d.watchDirSync(ctx, fn)
	}
	return ErrPushUnsupported
}

func (d *Directory) status(st WatchStatus) {
	if st.Live {
		d.log.Info("push live", "mechanism", st.Mechanism)
	} else {
		d.log.Warn("push interrupted; reconnecting", "mechanism", st.Mechanism, "err", st.Err)
	}
	if d.opts.watchStatus != nil {
		d.opts.watchStatus(st)
	}
}

// watchConn dials a connection of Watch's own. It has no request
// timeout: a persistent search answers only when something changes.
func (d *Directory) watchConn(ctx context.Context) (*ldap.Conn, error) {
	c, err := d.dialRetry(ctx, d.u, true)
	if err != nil {
		return nil, err
	}
	c.SetTimeout(0)
	return c, nil
}

// sleepBackoff waits before a reconnection; false when ctx ended.
func sleepBackoff(ctx context.Context, wait *time.Duration, lo, hi time.Duration) bool {
	if *wait < lo {
		*wait = lo
	}
	t := time.NewTimer(*wait/2 + rand.N(*wait/2+1))
	defer t.Stop()
	*wait = min(*wait*2, hi)
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// classify tells a user from a group by object class.
func (d *Directory) classify(classes []string) Kind {
	for _, c := range classes {
		switch {
		case strings.EqualFold(c, d.src.UserObjectClass):
			return KindUser
		case strings.EqualFold(c, d.src.GroupObjectClass):
			return KindGroup
		}
	}
	return 0
}

// eventGUID renders the GUID attribute of a pushed entry, if it has one.
func (d *Directory) eventGUID(e *ldap.Entry) string {
	r := d.guidReader(KindUser)
	if g, _, reason := r.guid(e); reason == "" {
		return g
	}
	return ""
}

// ---- RFC 4533 syncrepl ------------------------------------------------

// errRefreshRequired is syncprov's e-syncRefreshRequired (RFC 4533 3.3.3
// result 4096): the cookie is too old; start over.
const errRefreshRequired = 4096

func (d *Directory) watchSyncrepl(ctx context.Context, fn func(Event)) error {
	var cookie []byte
	wait := d.opts.backoffMin
	live, missed := false, false
	for {
		c, err := d.watchConn(ctx)
		stop := func() bool { return false }
		if err == nil {
			// The connection has no request timeout: ending ctx closes it.
			stop = context.AfterFunc(ctx, func() { c.Close() })
		}
		if err == nil && cookie == nil {
			cookie, err = d.csnCookie(c)
			if err != nil {
				stop()
				c.Close()
				if ctx.Err() != nil {
					return nil
				}
				if !live && !isConnError(err) {
					return fmt.Errorf("%w: %v", ErrPushUnsupported, err)
				}
			}
		}
		if err == nil {
			var wasLive bool
			wasLive, err = d.syncreplOnce(ctx, c, &cookie, fn, &missed)
			stop()
			c.Close()
			live = live || wasLive
			if ctx.Err() != nil {
				return nil
			}
			if wasLive {
				wait = d.opts.backoffMin
			}
			if ldap.IsErrorWithCode(err, errRefreshRequired) {
				cookie, missed = nil, true
			} else if !live && err != nil && !isConnError(err) {
				return fmt.Errorf("%w: syncrepl: %v", ErrPushUnsupported, err)
			}
		} else if ctx.Err() != nil {
			return nil
		} else if !live && !isConnError(err) {
			return err
		}
		d.status(WatchStatus{Mechanism: "syncrepl", Err: err})
		if !sleepBackoff(ctx, &wait, d.opts.backoffMin, d.opts.backoffMax) {
			return nil
		}
	}
}

// csnCookie makes a sync cookie from the database's contextCSN, so the
// refresh phase sends only what changes from now on instead of every
// entry.
func (d *Directory) csnCookie(c *ldap.Conn) ([]byte, error) {
	nc := d.namingContext(d.src.BaseDN, d.src.BaseDN)
	e, err := d.baseEntry(c, nc, "(objectClass=*)", []string{"contextCSN"})
	if err != nil {
		return nil, fmt.Errorf("read contextCSN of %s: %w", nc, err)
	}
	if e == nil || len(e.GetEqualFoldAttributeValues("contextCSN")) == 0 {
		return nil, fmt.Errorf("%s has no contextCSN (no syncprov overlay on that database)", nc)
	}
	csns := e.GetEqualFoldAttributeValues("contextCSN")
	slices.Sort(csns)
	return []byte("rid=000,csn=" + strings.Join(csns, ";")), nil
}

// syncreplOnce runs one refreshAndPersist search until it ends. wasLive
// reports whether the refresh phase completed.
func (d *Directory) syncreplOnce(ctx context.Context, c *ldap.Conn, cookie *[]byte, fn func(Event), missed *bool) (wasLive bool, err error) {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	filter := d.src.Users.Filter
	if d.src.Groups != nil {
		filter = "(|" + filter + d.src.Groups.Filter + ")"
	}
	req := ldap.NewSearchRequest(d.src.BaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false, filter,
		[]string{d.src.GUIDAttribute, "objectClass"}, nil)
	r := c.Syncrepl(sctx, req, 64, ldap.SyncRequestModeRefreshAndPersist, *cookie, false)
	goLive := func() {
		if !wasLive {
			wasLive = true
			d.status(WatchStatus{Live: true, Mechanism: "syncrepl"})
			if *missed {
				*missed = false
				fn(Event{Missed: true, Source: "syncrepl", At: d.opts.now()})
			}
		}
	}
	emit := func(ev Event) {
		ev.Source, ev.At = "syncrepl", d.opts.now()
		fn(ev)
	}
	useUUID := strings.EqualFold(d.src.GUIDAttribute, "entryUUID")
	for r.Next() {
		if e := r.Entry(); e != nil {
			var st *ldap.ControlSyncState
			for _, ctl := range r.Controls() {
				if s, ok := ctl.(*ldap.ControlSyncState); ok {
					st = s
				}
			}
			if st == nil {
				continue
			}
			if len(st.Cookie) > 0 {
				*cookie = st.Cookie
			}
			ev := Event{DN: e.DN, Object: d.classify(e.GetEqualFoldAttributeValues("objectClass"))}
			if useUUID {
				ev.GUID = st.EntryUUID.String()
			} else {
				ev.GUID = d.eventGUID(e)
			}
			switch st.State {
			case ldap.SyncStatePresent:
				continue
			case ldap.SyncStateDelete:
				ev.Gone = true
			}
			emit(ev)
			continue
		}
		for _, ctl := range r.Controls() {
			switch x := ctl.(type) {
			case *ldap.ControlSyncInfo:
				switch {
				case x.NewCookie != nil:
					*cookie = x.NewCookie.Cookie
				case x.RefreshDelete != nil:
					if len(x.RefreshDelete.Cookie) > 0 {
						*cookie = x.RefreshDelete.Cookie
					}
					if x.RefreshDelete.RefreshDone {
						goLive()
					}
				case x.RefreshPresent != nil:
					if len(x.RefreshPresent.Cookie) > 0 {
						*cookie = x.RefreshPresent.Cookie
					}
					if x.RefreshPresent.RefreshDone {
						goLive()
					}
				case x.SyncIdSet != nil:
					if len(x.SyncIdSet.Cookie) > 0 {
						*cookie = x.SyncIdSet.Cookie
					}
					if x.SyncIdSet.RefreshDeletes {
						for _, u := range x.SyncIdSet.SyncUUIDs {
							ev := Event{Gone: true}
							if useUUID {
								ev.GUID = u.String()
							}
							emit(ev)
						}
					}
				}
			case *ldap.ControlSyncDone:
				if len(x.Cookie) > 0 {
					*cookie = x.Cookie
				}
			}
		}
	}
	if err := r.Err(); err != nil {
		return wasLive, err
	}
	if ctx.Err() != nil {
		return wasLive, nil
	}
	// The persistent search ended without an error: the server stopped it
	// (shutting down, or the connection closed). Reconnect.
	return wasLive, ldap.NewError(ldap.ErrorNetwork, errors.New("syncrepl search ended"))
}

// ---- Active Directory change notification ----------------------------

// criticalControl is a request control sent critical, so a server that
// does not know it refuses the search instead of running it without.
type criticalControl struct{ oid string }

func (c criticalControl) GetControlType() string { return c.oid }
func (c criticalControl) String() string         { return c.oid + " (critical)" }
func (c criticalControl) Encode() *ber.Packet {
	p := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "Control")
	p.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, c.oid, "Control Type"))
	p.AppendChild(ber.NewBoolean(ber.ClassUniversal, ber.TypePrimitive, ber.TagBoolean, true, "Criticality"))
	return p
}

type asyncResult struct {
	e   *ldap.Entry
	err error
	end bool
}

func (d *Directory) watchNotify(ctx context.Context, fn func(Event)) error {
	wait := d.opts.backoffMin
	live, missed := false, false
	for {
		c, err := d.watchConn(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if !live && !isConnError(err) {
				return err
			}
		} else {
			var wasLive bool
			stop := context.AfterFunc(ctx, func() { c.Close() })
			wasLive, err = d.notifyOnce(ctx, c, fn, &missed)
			stop()
			c.Close()
			if ctx.Err() != nil {
				return nil
			}
			if !live && !wasLive && err != nil && !isConnError(err) {
				return fmt.Errorf("%w: change notification: %v", ErrPushUnsupported, err)
			}
			if wasLive {
				live, missed, wait = true, true, d.opts.backoffMin
			}
		}
		d.status(WatchStatus{Mechanism: "notification", Err: err})
		if !sleepBackoff(ctx, &wait, d.opts.backoffMin, d.opts.backoffMax) {
			return nil
		}
	}
}

// notifyOnce registers the notification search and forwards its entries
// until it fails.
func (d *Directory) notifyOnce(ctx context.Context, c *ldap.Conn, fn func(Event), missed *bool) (bool, error) {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	attrs := []string{d.src.GUIDAttribute, "objectClass", "isDeleted"}
	nc := d.namingContext(d.src.BaseDN, d.info.defaultNC)
	// The server requires the filter (objectClass=*) for notifications.
	main := ldap.NewSearchRequest(d.src.BaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=*)", attrs, []ldap.Control{criticalControl{oidNotification}})
	if nc != "" && normDN(nc) == normDN(d.src.BaseDN) {
		// Deleted objects move to CN=Deleted Objects under the root; with
		// show-deleted their notifications come on this search.
		main.Controls = append(main.Controls, ldap.NewControlMicrosoftShowDeleted())
	}
	out := make(chan asyncResult, 64)
	go func() {
		r := c.SearchAsync(sctx, main, 16)
		for r.Next() {
			if e := r.Entry(); e != nil {
				select {
				case out <- asyncResult{e: e}:
				case <-sctx.Done():
					return
				}
			}
		}
		select {
		case out <- asyncResult{err: r.Err(), end: true}:
		case <-sctx.Done():
		}
	}()
	// The server handles one connection's requests in order: when this
	// read answers, the notification search is registered.
	if _, err := d.rootDSE(c, "currentTime"); err != nil {
		return false, err
	}
	// A refused notification search fails at once; give it a moment to.
	select {
	case res := <-out:
		if res.end {
			if res.err == nil {
				res.err = errors.New("notification search ended at once")
			}
			return false, res.err
		}
		d.forwardNotify(res.e, fn)
	case <-time.After(50 * time.Millisecond):
	case <-ctx.Done():
		return false, nil
	}
	d.status(WatchStatus{Live: true, Mechanism: "notification"})
	if *missed {
		*missed = false
		fn(Event{Missed: true, Source: "notification", At: d.opts.now()})
	}
	for {
		select {
		case <-ctx.Done():
			return true, nil
		case res := <-out:
			if res.end {
				if res.err == nil {
					res.err = ldap.NewError(ldap.ErrorNetwork, errors.New("notification search ended"))
				}
				return true, res.err
			}
			d.forwardNotify(res.e, fn)
		}
	}
}

func (d *Directory) forwardNotify(e *ldap.Entry, fn func(Event)) {
	ev := Event{
		DN:     e.DN,
		GUID:   d.eventGUID(e),
		Object: d.classify(e.GetEqualFoldAttributeValues("objectClass")),
		Gone:   strings.EqualFold(e.GetEqualFoldAttributeValue("isDeleted"), "TRUE"),
		Source: "notification",
		At:     d.opts.now(),
	}
	fn(ev)
}

// ---- Active Directory DirSync -----------------------------------------

const (
	dirSyncObjectSecurity = 0x1
	dirSyncMoreData       = 0x1 // response flag: more changes are waiting
)

func (d *Directory) watchDirSync(ctx context.Context, fn func(Event)) error {
	nc := d.namingContext(d.src.BaseDN, d.info.defaultNC)
	filter := "(|(objectClass=" + ldap.EscapeFilter(d.src.UserObjectClass) + ")(objectClass=" + ldap.EscapeFilter(d.src.GroupObjectClass) + "))"
	var cookie []byte
	flags := int64(0)
	wait := d.opts.backoffMin
	live := false
	poll := func(c *ldap.Conn, deliver bool) error {
		// DirSync returns the changed attributes among those asked for, and
		// an object only when one of them changed: ask for all of them.
		// Priming asks for the GUID alone, which is enough to get the
		// cookie and costs little.
		var attrs []string
		if !deliver {
			attrs = []string{d.src.GUIDAttribute}
		}
		for {
			req := ldap.NewSearchRequest(nc, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, d.timeLimit(), false, filter, attrs, nil)
			res, err := c.DirSync(req, flags, 0, cookie)
			if err != nil {
				return err
			}
			ctl, _ := ldap.FindControl(res.Controls, oidDirSync).(*ldap.ControlDirSync)
			if ctl == nil {
				return errors.New("dirsync: the server returned no cookie")
			}
			if deliver {
				for _, e := range res.Entries {
					gone := strings.EqualFold(e.GetEqualFoldAttributeValue("isDeleted"), "TRUE")
					if !gone && !dnWithin(e.DN, d.src.BaseDN) {
						continue
					}
					ev := Event{
						DN: e.DN, GUID: d.eventGUID(e), Gone: gone,
						Object: d.classify(e.GetEqualFoldAttributeValues("objectClass")),
						Source: "dirsync", At: d.opts.now(),
					}
					if ev.Object == 0 && !gone {
						// DirSync returns the attributes that changed, which
						// objectClass never is: read it.
						if oc, err := d.baseEntry(c, e.DN, "(objectClass=*)", []string{"objectClass"}); err == nil && oc != nil {
							ev.Object = d.classify(oc.GetEqualFoldAttributeValues("objectClass"))
						}
					}
					fn(ev)
				}
			}
			cookie = ctl.Cookie
			if ctl.Flags&dirSyncMoreData == 0 {
				return nil
			}
		}
	}
	for {
		c, err := d.dialRetry(ctx, d.u, true)
		if err == nil {
			stop := context.AfterFunc(ctx, func() { c.Close() })
			if cookie == nil {
				// Prime: read (and drop) everything up to now, once.
				err = poll(c, false)
				if err != nil && !live && flags == 0 && ldap.IsErrorWithCode(err, ldap.LDAPResultInsufficientAccessRights) {
					flags, cookie = dirSyncObjectSecurity, nil
					err = poll(c, false)
				}
				if err != nil && !live && !isConnError(err) {
					stop()
					c.Close()
					if ctx.Err() != nil {
						return nil
					}
					return fmt.Errorf("%w: dirsync: %v", ErrPushUnsupported, err)
				}
			}
			if err == nil {
				live, wait = true, d.opts.backoffMin
				d.status(WatchStatus{Live: true, Mechanism: "dirsync"})
				t := time.NewTicker(d.opts.pollEvery)
				for err == nil {
					select {
					case <-ctx.Done():
						err = ctx.Err()
					case <-t.C:
						err = poll(c, true)
					}
				}
				t.Stop()
			}
			stop()
			c.Close()
		}
		if ctx.Err() != nil {
			return nil
		}
		if !live && !isConnError(err) {
			return err
		}
		d.status(WatchStatus{Mechanism: "dirsync", Err: err})
		if !sleepBackoff(ctx, &wait, d.opts.backoffMin, d.opts.backoffMax) {
			return nil
		}
	}
}
