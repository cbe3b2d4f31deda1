package directory

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"
	"github.com/o365prov/o365prov/internal/config"
)

// Watermark is an opaque position in the directory's history, from
// Watermark or Changes. Store it as text; it is only valid for the source
// settings it was made with.
type Watermark string

// ChangeKind says what a Change reports.
type ChangeKind int

const (
	// Updated: the entry was created or modified since the watermark and is
	// in scope. Entry is complete, as Users or Groups would return it.
	Updated ChangeKind = iota + 1
	// Left: an entry of the kind's object class changed since the
	// watermark and is not in scope: it no longer matches the filter, was
	// moved out from under the base DN, or (Active Directory) left the
	// scope group while changing. Entry holds DN and GUID only. A GUID the
	// caller does not know is to be ignored: it was never in scope (Left
	// covers every changed entry of the class in the naming context).
	Left
	// Deleted: the server reported the entry deleted (Active Directory
	// tombstones, read with the show-deleted control). Entry holds GUID and
	// DN (the tombstone's). A convenience on top of Enumerate, never
	// instead of it: servers without tombstones report nothing.
	Deleted
	// ScopeChanged: the scope group, or a group nested in it, changed, so
	// entries may have joined or left scope without changing themselves.
	// Run a full read (Users or Groups: joiners and leavers; Enumerate:
	// leavers only) before storing the watermark Changes returned.
	ScopeChanged
)

func (k ChangeKind) String() string {
	switch k {
	case Updated:
		return "updated"
	case Left:
		return "left"
	case Deleted:
		return "deleted"
	case ScopeChanged:
		return "scope-changed"
	}
	return fmt.Sprintf("ChangeKind(%d)", int(k))
}

// Change is one thing Changes found.
type Change struct {
	Kind   ChangeKind
	Object Kind
	Entry  Entry
}

// mark is a Watermark's content.
type mark struct {
	V      int      `json:"v"`
	Alg    string   `json:"alg"`
	Attr   string   `json:"attr"`
	Scope  string   `json:"scope"`            // hash of the settings that decide scope
	Server string   `json:"server,omitempty"` // AD: dsServiceName and invocationId of the DC
	USN    int64    `json:"usn,omitempty"`
	Time   string   `json:"time,omitempty"`  // generalized time, skew already subtracted
	CSN    []string `json:"csn,omitempty"`   // contextCSN values
	Synth  bool     `json:"synth,omitempty"` // CSN made from the clock, not read from contextCSN
}

func (m mark) encode() (Watermark, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return "", err
	}
	return Watermark(b), nil
}

func decodeMark(w Watermark) (mark, error) {
	var m mark
	if w == "" {
		return m, errors.New("no watermark yet")
	}
	if err := json.Unmarshal([]byte(w), &m); err != nil {
		return m, fmt.Errorf("unreadable watermark: %v", err)
	}
	if m.V != 1 {
		return m, fmt.Errorf("watermark version %d", m.V)
	}
	return m, nil
}

// scopeHash identifies the settings that decide which entries are in
// scope and how they are named; a watermark made under other settings
// would miss entries that entered scope without changing.
func (d *Directory) scopeHash() string {
	s := d.src
	h := sha256.New()
	parts := []string{s.BaseDN, s.GUIDAttribute, s.Users.Filter, s.Users.GroupDN, strconv.FormatBool(s.Users.NestedSearch)}
	if s.Groups != nil {
		parts = append(parts, "groups", s.Groups.Filter, s.Groups.GroupDN, strconv.FormatBool(s.Groups.NestedSearch))
	}
	for _, p := range parts {
		h.Write([]byte(normDN(p)))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// Watermark returns the directory's current position. Take it before a
// full read: Changes from it returns everything that changed during and
// after the read (some entries twice, none missed).
func (d *Directory) Watermark(ctx context.Context) (Watermark, error) {
	var m mark
	err := d.withConn(ctx, func(s *session) error {
		var err error
		m, err = d.position(s.c)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("read watermark: %w", err)
	}
	return m.encode()
}

// position reads the current position for the channel's algorithm.
func (d *Directory) position(c *ldap.Conn) (mark, error) {
	cd := d.src.ChangeDetection
	m := mark{V: 1, Alg: cd.Algorithm, Attr: cd.Attribute, Scope: d.scopeHash()}
	switch cd.Algorithm {
	case config.ADUSN:
		e, err := d.rootDSE(c, "highestCommittedUSN", "dsServiceName")
		if err != nil {
			return m, err
		}
		usn, err := strconv.ParseInt(e.GetEqualFoldAttributeValue("highestCommittedUSN"), 10, 64)
		if err != nil {
			return m, fmt.Errorf("the root DSE has no highestCommittedUSN (ACTIVE_DIRECTORY_USN needs Active Directory): %w", err)
		}
		svc := e.GetEqualFoldAttributeValue("dsServiceName")
		m.USN = usn
		m.Server = svc
		// invocationId changes when a DC is restored from backup, which
		// rewinds its USNs: a watermark from before is not valid after.
		if svc != "" {
			if ntds, err := d.baseEntry(c, svc, "(objectClass=*)", []string{"invocationId"}); err == nil && ntds != nil {
				if id := ntds.GetEqualFoldRawAttributeValue("invocationId"); len(id) == 16 {
					m.Server = svc + "|" + FormatObjectGUID(id)
				}
			}
		}
	case config.Timestamp, config.TimestampNoNegation:
		now, err := d.serverTime(c)
		if err != nil {
			return m, err
		}
		m.Time = now.Add(-d.opts.clockSkew).UTC().Format(gtLayout)
	case config.EntryCSN:
		nc := d.namingContext(d.src.BaseDN, d.src.BaseDN)
		e, err := d.baseEntry(c, nc, "(objectClass=*)", []string{"contextCSN"})
		if err != nil {
			return m, fmt.Errorf("read contextCSN of %s: %w", nc, err)
		}
		var csns []string
		if e != nil {
			csns = e.GetEqualFoldAttributeValues("contextCSN")
		}
		if len(csns) == 0 {
			// No contextCSN (OpenLDAP without syncprov, other servers with
			// entryCSN): a CSN made from the server's clock, less the skew
			// margin, orders with real ones as CSNs start with their time.
			now, err := d.serverTime(c)
			if err != nil {
				return m, err
			}
			t := now.Add(-d.opts.clockSkew).UTC()
			csns = []string{t.Format("20060102150405") + ".000000Z#000000#000#000000"}
			m.Synth = true
		}
		slices.Sort(csns)
		m.CSN = csns
	default:
		return m, fmt.Errorf("unknown change detection algorithm %q", cd.Algorithm)
	}
	return m, nil
}

const gtLayout = "20060102150405Z"

// serverTime is the server's clock: the root DSE's currentTime (Active
// Directory and others), OpenLDAP's monitor backend, or this machine's
// clock when the server tells neither.
func (d *Directory) serverTime(c *ldap.Conn) (time.Time, error) {
	e, err := d.rootDSE(c, "currentTime")
	if err != nil {
		return time.Time{}, err
	}
	if v := e.GetEqualFoldAttributeValue("currentTime"); v != "" {
		if t, err := parseGeneralizedTime(v); err == nil {
			return t, nil
		}
	}
	if d.info.monitor != "" {
		if m, err := d.baseEntry(c, "cn=Current,cn=Time,"+d.info.monitor, "(objectClass=*)", []string{"monitorTimestamp"}); err == nil && m != nil {
			if t, err := parseGeneralizedTime(m.GetEqualFoldAttributeValue("monitorTimestamp")); err == nil {
				return t, nil
			}
		}
	}
	return d.opts.now(), nil
}

// parseGeneralizedTime parses RFC 4517 GeneralizedTime: YYYYMMDDHH[MM[SS]]
// with an optional fraction and Z or a ±hhmm offset.
func parseGeneralizedTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if len(s) < 11 {
		return time.Time{}, fmt.Errorf("generalized time %q is too short", s)
	}
	var zone *time.Location
	switch {
	case strings.HasSuffix(s, "Z"):
		zone, s = time.UTC, s[:len(s)-1]
	case len(s) > 5 && (s[len(s)-5] == '+' || s[len(s)-5] == '-'):
		off := s[len(s)-5:]
		h, err1 := strconv.Atoi(off[1:3])
		m, err2 := strconv.Atoi(off[3:5])
		if err1 != nil || err2 != nil {
			return time.Time{}, fmt.Errorf("generalized time %q: bad offset", s)
		}
		secs := h*3600 + m*60
		if off[0] == '-' {
			secs = -secs
		}
		zone, s = time.FixedZone("", secs), s[:len(s)-5]
	default:
		return time.Time{}, fmt.Errorf("generalized time %q has no zone", s)
	}
	frac := ""
	if i := strings.IndexAny(s, ".,"); i >= 0 {
		s, frac = s[:i], s[i+1:]
	}
	for len(s) < 14 {
		s += "00"
	}
	t, err := time.ParseInLocation("20060102150405", s, zone)
	if err != nil {
		return time.Time{}, err
	}
	if frac != "" {
		f, err := strconv.ParseFloat("0."+frac, 64)
		if err == nil {
			t = t.Add(time.Duration(f * float64(time.Second)))
		}
	}
	return t.UTC(), nil
}

// changedClause is the filter for entries changed since m.
func (d *Directory) changedClause(m mark) (string, error) {
	attr := ldap.EscapeFilter(d.src.ChangeDetection.Attribute)
	switch m.Alg {
	case config.ADUSN:
		return fmt.Sprintf("(%s>=%d)", attr, m.USN+1), nil
	case config.Timestamp, config.TimestampNoNegation:
		t, err := time.Parse(gtLayout, m.Time)
		if err != nil {
			return "", err
		}
		if m.Alg == config.TimestampNoNegation {
			return fmt.Sprintf("(%s>=%s)", attr, t.Format(gtLayout)), nil
		}
		// "Not older than": NOT (stamp <= t-1s), i.e. everything from the
		// second t on (and fractions after t-1s). The presence test keeps
		// entries without the attribute from matching the negation.
		return fmt.Sprintf("(&(%s=*)(!(%s<=%s)))", attr, attr, t.Add(-time.Second).Format(gtLayout)), nil
	case config.EntryCSN:
		if len(m.CSN) == 0 {
			return "", errors.New("watermark without contextCSN")
		}
		return fmt.Sprintf("(%s>=%s)", attr, ldap.EscapeFilter(m.CSN[0])), nil
	}
	return "", fmt.Errorf("unknown algorithm %q", m.Alg)
}

// guidDN is a candidate of Changes: an entry of the kind's object class
// that changed.
type guidDN struct {
	dn  string
	raw []byte
}

// Changes reports what changed in scope since the watermark and returns
// the next one, which the caller stores only once it has applied the
// changes (a crash before that repeats them; nothing is lost).
//
// It reports, in order: ScopeChanged when the scope group or a nested
// group changed; Updated for each entry of the kind changed and in scope;
// Left for each entry of the kind's object class that changed and is not
// in scope; on Active Directory, Deleted for tombstones under the base DN.
// Entries whose change stamp equals the watermark may come again; none
// changed after it is missed. Entries that cannot be used (no GUID) go to
// WithProblemHandler. A watermark that cannot be continued returns an
// error wrapping ErrStaleWatermark: do a full read.
func (d *Directory) Changes(ctx context.Context, kind Kind, since Watermark, attrs []string, fn func(Change) error) (Watermark, error) {
	old, err := decodeMark(since)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrStaleWatermark, err)
	}
	cd := d.src.ChangeDetection
	switch {
	case old.Alg != cd.Algorithm:
		return "", fmt.Errorf("%w: it was made by %s, the channel uses %s", ErrStaleWatermark, old.Alg, cd.Algorithm)
	case !strings.EqualFold(old.Attr, cd.Attribute):
		return "", fmt.Errorf("%w: it was made on %s, the channel uses %s", ErrStaleWatermark, old.Attr, cd.Attribute)
	case old.Scope != d.scopeHash():
		return "", fmt.Errorf("%w: the base DN, filter, group or GUID attribute changed since", ErrStaleWatermark)
	}
	sc, err := d.newScope(kind)
	if err != nil {
		return "", err
	}
	cond, err := d.changedClause(old)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrStaleWatermark, err)
	}
	var extra []string
	if cd.Algorithm == config.EntryCSN {
		extra = append(extra, cd.Attribute)
	}
	r := d.newReader(kind, attrs, extra...)
	g := d.guidReader(kind, extra...)
	// fresh drops entries stamped exactly at the watermark's contextCSN:
	// that change was committed before the watermark was read, so the read
	// that followed it saw it.
	fresh := func(e *ldap.Entry) bool {
		if cd.Algorithm != config.EntryCSN || old.Synth {
			return true
		}
		csn := e.GetEqualFoldAttributeValue(cd.Attribute)
		return !slices.Contains(old.CSN, csn)
	}
	var next mark
	err = d.withConn(ctx, func(s *session) error {
		var st ReadStats
		var err error
		if next, err = d.position(s.c); err != nil {
			return err
		}
		if cd.Algorithm == config.ADUSN {
			if next.Server != old.Server {
				return fmt.Errorf("%w: it was made on domain controller %s, this is %s (USNs are per DC)", ErrStaleWatermark, old.Server, next.Server)
			}
			if next.USN < old.USN {
				return fmt.Errorf("%w: the DC's highestCommittedUSN went back from %d to %d", ErrStaleWatermark, old.USN, next.USN)
			}
		}
		deliver := func(c Change) error {
			s.delivered = true
			return fn(c)
		}
		if sc.byGroup() {
			changed, err := d.scopeChanged(ctx, s, &st, sc, cond, fresh)
			if err != nil {
				return err
			}
			if changed {
				if err := deliver(Change{Kind: ScopeChanged, Object: kind}); err != nil {
					return err
				}
			}
		}
		// Candidates first, in-scope entries second: an entry that changes
		// between the two searches shows in the second if it is in scope,
		// so it cannot be reported as having left wrongly.
		// The candidates come from the whole naming context, so an entry
		// moved out from under the base DN is reported as having left.
		cands := map[string]guidDN{}
		cq := query{
			base:   d.namingContext(d.src.BaseDN, d.src.BaseDN),
			scope:  ldap.ScopeWholeSubtree,
			filter: "(&(objectClass=" + ldap.EscapeFilter(d.objectClass(kind)) + ")" + cond + ")",
			attrs:  g.attrs,
		}
		if err := d.search(ctx, s, cq, &st, func(c *ldap.Conn, e *ldap.Entry) error {
			if !fresh(e) {
				return nil
			}
			if guid, raw, reason := g.guid(e); reason == "" {
				cands[guid] = guidDN{dn: e.DN, raw: raw}
			}
			return nil
		}); err != nil {
			return err
		}
		if sc.byGroup() && !sc.serverSide() && len(cands) > sc.walkLimit() {
			if err := sc.resolve(ctx, s, &st); err != nil {
				return err
			}
		}
		q := query{base: d.src.BaseDN, scope: ldap.ScopeWholeSubtree, filter: sc.filter(cond), attrs: r.attrs}
		if err := d.search(ctx, s, q, &st, func(c *ldap.Conn, e *ldap.Entry) error {
			if !fresh(e) {
				return nil
			}
			if sc.byGroup() && !sc.serverSide() {
				in, err := sc.contains(ctx, s, e.DN)
				if err != nil || !in {
					return err
				}
			}
			ent, prob, err := r.convert(ctx, c, e)
			if err != nil {
				return err
			}
			if ent.GUID != "" {
				delete(cands, ent.GUID)
			}
			if prob != nil {
				s.delivered = true
				st.problem(*prob, d.opts.problems)
				return nil
			}
			return deliver(Change{Kind: Updated, Object: kind, Entry: ent})
		}); err != nil {
			return err
		}
		left := make([]string, 0, len(cands))
		for guid := range cands {
			left = append(left, guid)
		}
		slices.SortFunc(left, func(a, b string) int { return strings.Compare(cands[a].dn, cands[b].dn) })
		for _, guid := range left {
			c := cands[guid]
			if err := deliver(Change{Kind: Left, Object: kind, Entry: Entry{DN: c.dn, GUID: guid, RawGUID: c.raw}}); err != nil {
				return err
			}
		}
		if d.info.ad && cd.Algorithm == config.ADUSN {
			return d.adDeleted(ctx, s, &st, kind, cond, g, deliver)
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("read %s changes: %w", kind, err)
	}
	return next.encode()
}

// scopeChanged reports whether the scope group, or a group nested in it,
// changed since the watermark.
func (d *Directory) scopeChanged(ctx context.Context, s *session, st *ReadStats, sc *scope, cond string, fresh func(*ldap.Entry) bool) (bool, error) {
	if err := sc.checkGroup(s.c); err != nil {
		return false, err
	}
	attrs := []string{"1.1"}
	if d.src.ChangeDetection.Algorithm == config.EntryCSN {
		attrs = []string{d.src.ChangeDetection.Attribute}
	}
	e, err := d.baseEntry(s.c, sc.loc.GroupDN, cond, attrs)
	if err != nil {
		return false, fmt.Errorf("check scope group %s: %w", sc.loc.GroupDN, err)
	}
	if e != nil && fresh(e) {
		return true, nil
	}
	if !sc.loc.NestedSearch {
		return false, nil
	}
	groupClass := "(objectClass=" + ldap.EscapeFilter(d.src.GroupObjectClass) + ")"
	if sc.serverSide() {
		q := query{base: sc.groupNC, scope: ldap.ScopeWholeSubtree, filter: "(&" + groupClass + cond + sc.groupClause() + ")", attrs: attrs}
		found := false
		err := d.search(ctx, s, q, st, func(_ *ldap.Conn, e *ldap.Entry) error {
			found = found || fresh(e)
			return nil
		})
		return found, err
	}
	var changed []string
	q := query{base: sc.groupNC, scope: ldap.ScopeWholeSubtree, filter: "(&" + groupClass + cond + ")", attrs: attrs}
	if err := d.search(ctx, s, q, st, func(_ *ldap.Conn, e *ldap.Entry) error {
		if fresh(e) {
			changed = append(changed, e.DN)
		}
		return nil
	}); err != nil {
		return false, err
	}
	for _, g := range changed {
		in, err := sc.contains(ctx, s, g)
		if err != nil {
			return false, err
		}
		if in {
			return true, nil
		}
	}
	return false, nil
}

// adDeleted reports Active Directory tombstones of the kind changed since
// the watermark whose last parent was under the base DN. Reading
// tombstones needs rights a bind account may lack; then nothing is
// reported (Enumerate still finds the deletions).
func (d *Directory) adDeleted(ctx context.Context, s *session, st *ReadStats, kind Kind, cond string, g *reader, deliver func(Change) error) error {
	nc := d.namingContext(d.src.BaseDN, d.src.BaseDN)
	q := query{
		base:     nc,
		scope:    ldap.ScopeWholeSubtree,
		filter:   "(&(isDeleted=TRUE)(objectClass=" + ldap.EscapeFilter(d.objectClass(kind)) + ")" + cond + ")",
		attrs:    append(slices.Clip(g.attrs), "lastKnownParent"),
		controls: []ldap.Control{ldap.NewControlMicrosoftShowDeleted()},
	}
	var found []Change
	err := d.search(ctx, s, q, st, func(_ *ldap.Conn, e *ldap.Entry) error {
		parent := e.GetEqualFoldAttributeValue("lastKnownParent")
		if parent == "" || !dnWithin(parent, d.src.BaseDN) {
			return nil
		}
		guid, raw, reason := g.guid(e)
		if reason != "" {
			return nil
		}
		found = append(found, Change{Kind: Deleted, Object: kind, Entry: Entry{DN: e.DN, GUID: guid, RawGUID: raw}})
		return nil
	})
	if err != nil {
		var le *ldap.Error
		if errors.As(err, &le) && !isConnError(err) {
			d.log.Debug("deleted objects not readable; deletions are found by enumeration", "err", err)
			return nil
		}
		return err
	}
	for _, c := range found {
		if err := deliver(c); err != nil {
			return err
		}
	}
	return nil
}
