package directory

import (
	"context"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/go-ldap/ldap/v3"
	"github.com/o365prov/o365prov/internal/config"
)

// reader turns search entries into Entries for one kind of object.
type reader struct {
	d          *Directory
	kind       Kind
	attrs      []string          // what the search asks for
	names      map[string]string // lower-case name -> the caller's spelling
	guidOnly   bool
	guidBinary bool
	status     bool   // compute account status (users with AD or FLAG)
	members    string // member attribute, groups only
}

// newReader prepares the attribute list of a read: what the caller asked
// for (nil: every user attribute) plus what this package needs. extra are
// attributes needed for bookkeeping (the change attribute).
func (d *Directory) newReader(kind Kind, attrs []string, extra ...string) *reader {
	r := &reader{
		d:          d,
		kind:       kind,
		names:      map[string]string{},
		guidBinary: d.src.GUIDBinary || strings.EqualFold(d.src.GUIDAttribute, "objectGUID"),
	}
	if attrs == nil {
		attrs = []string{"*"}
	}
	add := func(a string) {
		if a == "" {
			return
		}
		if _, ok := r.names[strings.ToLower(a)]; ok {
			return
		}
		r.names[strings.ToLower(a)] = a
		r.attrs = append(r.attrs, a)
	}
	for _, a := range attrs {
		add(a)
	}
	add(d.src.GUIDAttribute)
	if kind == KindUser && d.src.AccountStatus.Algorithm != config.StatusNone {
		r.status = true
		add(d.src.AccountStatus.Attribute)
	}
	if kind == KindGroup {
		r.members = d.src.MemberAttribute
		if d.info.ad && d.opts.rangeStep > 0 {
			add(fmt.Sprintf("%s;range=0-%d", r.members, d.opts.rangeStep-1))
		} else {
			add(r.members)
		}
	}
	for _, a := range extra {
		add(a)
	}
	return r
}

// guidReader asks for the GUID alone (and extra), for enumeration.
func (d *Directory) guidReader(kind Kind, extra ...string) *reader {
	r := &reader{
		d:          d,
		kind:       kind,
		names:      map[string]string{},
		guidOnly:   true,
		guidBinary: d.src.GUIDBinary || strings.EqualFold(d.src.GUIDAttribute, "objectGUID"),
	}
	r.attrs = append([]string{d.src.GUIDAttribute}, extra...)
	return r
}

// convert builds the Entry. A *Problem means the entry is to be skipped;
// an error means the read failed (a ranged member read did not complete).
func (r *reader) convert(ctx context.Context, c *ldap.Conn, e *ldap.Entry) (Entry, *Problem, error) {
	out := Entry{DN: e.DN, Enabled: true}
	guid, raw, reason := r.guid(e)
	if reason != "" {
		return out, &Problem{DN: e.DN, Reason: reason}, nil
	}
	out.GUID, out.RawGUID = guid, raw
	if r.guidOnly {
		return out, nil, nil
	}
	if r.status {
		enabled, reason := r.d.accountEnabled(e)
		if reason != "" {
			return out, &Problem{DN: e.DN, Reason: reason}, nil
		}
		out.Enabled = enabled
	}
	out.Attributes = make(map[string][]string, len(e.Attributes))
	var ranged *ldap.EntryAttribute
	for _, a := range e.Attributes {
		base, rng := splitRange(a.Name)
		if r.members != "" && strings.EqualFold(base, r.members) {
			if rng != "" {
				ranged = a
			} else {
				out.Members = append(out.Members, a.Values...)
			}
			continue
		}
		name := a.Name
		if n, ok := r.names[strings.ToLower(name)]; ok {
			name = n
		}
		out.Attributes[name] = a.Values
	}
	if ranged != nil {
		all, err := r.d.rangedValues(ctx, c, e.DN, r.members, ranged)
		if err != nil {
			return out, nil, err
		}
		out.Members = append(out.Members, all...)
	}
	out.Members = cleanMembers(out.Members)
	return out, nil, nil
}

// guid finds and renders the entry's identity anchor, or says why not.
func (r *reader) guid(e *ldap.Entry) (string, []byte, string) {
	name := r.d.src.GUIDAttribute
	vals := e.GetEqualFoldRawAttributeValues(name)
	switch {
	case len(vals) == 0:
		return "", nil, "no " + name + " (the GUID attribute)"
	case len(vals) > 1:
		return "", nil, fmt.Sprintf("%s has %d values; a GUID has one", name, len(vals))
	}
	v := vals[0]
	if r.guidBinary {
		if len(v) != 16 {
			return "", nil, fmt.Sprintf("%s is %d bytes; a binary GUID is 16", name, len(v))
		}
		raw := append([]byte(nil), v...)
		return FormatObjectGUID(raw), raw, ""
	}
	s := strings.TrimSpace(string(v))
	if s == "" {
		return "", nil, name + " is empty"
	}
	if raw, ok := parseUUID(s); ok {
		return strings.ToLower(s), raw, ""
	}
	return s, []byte(s), ""
}

// FormatObjectGUID renders a 16-byte objectGUID the way Active Directory
// does: the first three fields are little-endian, so their bytes are
// reversed; the last two are in order. The result is lower case.
func FormatObjectGUID(b []byte) string {
	if len(b) != 16 {
		return hex.EncodeToString(b)
	}
	var x [16]byte
	x[0], x[1], x[2], x[3] = b[3], b[2], b[1], b[0]
	x[4], x[5] = b[5], b[4]
	x[6], x[7] = b[7], b[6]
	copy(x[8:], b[8:])
	h := hex.EncodeToString(x[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// ParseObjectGUID is FormatObjectGUID's inverse: the 16 stored bytes of
// an objectGUID from its text form.
func ParseObjectGUID(s string) ([]byte, bool) {
	b, ok := parseUUID(s)
	if !ok {
		return nil, false
	}
	b[0], b[1], b[2], b[3] = b[3], b[2], b[1], b[0]
	b[4], b[5] = b[5], b[4]
	b[6], b[7] = b[7], b[6]
	return b, true
}

// parseUUID parses the 8-4-4-4-12 hex form into its 16 bytes in text
// order.
func parseUUID(s string) ([]byte, bool) {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return nil, false
	}
	h := s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:36]
	b, err := hex.DecodeString(h)
	if err != nil {
		return nil, false
	}
	return b, true
}

// accountEnabled applies the account status algorithm; a non-empty
// reason means the value cannot be read.
func (d *Directory) accountEnabled(e *ldap.Entry) (bool, string) {
	as := d.src.AccountStatus
	vals := e.GetEqualFoldAttributeValues(as.Attribute)
	if len(vals) == 0 {
		return d.enabledByDefault(), ""
	}
	switch as.Algorithm {
	case config.StatusAD:
		if len(vals) > 1 {
			return false, fmt.Sprintf("%s has %d values", as.Attribute, len(vals))
		}
		v, err := strconv.ParseInt(strings.TrimSpace(vals[0]), 10, 64)
		if err != nil {
			return false, fmt.Sprintf("%s %q is not a number", as.Attribute, vals[0])
		}
		return v&0x2 == 0, "" // ADS_UF_ACCOUNTDISABLE
	case config.StatusFlag:
		match := false
		for _, v := range vals {
			if strings.EqualFold(strings.TrimSpace(v), as.FlagValue) {
				match = true
			}
		}
		return match != as.FlagMeansDisabled, ""
	}
	return true, ""
}

// splitRange splits "member;range=0-1499" into "member" and "0-1499".
func splitRange(name string) (string, string) {
	parts := strings.Split(name, ";")
	for _, p := range parts[1:] {
		if len(p) > 6 && strings.EqualFold(p[:6], "range=") {
			return parts[0], p[6:]
		}
	}
	return name, ""
}

// rangedValues completes an Active Directory ranged attribute: first holds
// "attr;range=0-1499" and its values; the rest is read with
// "attr;range=1500-*" (or explicit windows) until the server answers with
// a range ending in "*".
func (d *Directory) rangedValues(ctx context.Context, c *ldap.Conn, dn, attr string, first *ldap.EntryAttribute) ([]string, error) {
	values := append([]string(nil), first.Values...)
	_, rng := splitRange(first.Name)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		lo, hi, ok := strings.Cut(rng, "-")
		if !ok {
			return nil, fmt.Errorf("ranged read of %s on %s: bad range %q", attr, dn, rng)
		}
		if hi == "*" {
			return values, nil
		}
		l, err1 := strconv.Atoi(lo)
		h, err2 := strconv.Atoi(hi)
		if err1 != nil || err2 != nil || h < l {
			return nil, fmt.Errorf("ranged read of %s on %s: bad range %q", attr, dn, rng)
		}
		next := fmt.Sprintf("%s;range=%d-*", attr, h+1)
		if d.opts.rangeStep > 0 {
			next = fmt.Sprintf("%s;range=%d-%d", attr, h+1, h+d.opts.rangeStep)
		}
		e, err := d.baseEntry(c, dn, "(objectClass=*)", []string{next})
		if err != nil {
			return nil, fmt.Errorf("ranged read of %s on %s: %w", attr, dn, err)
		}
		if e == nil {
			return nil, fmt.Errorf("ranged read of %s on %s: %w: the entry went away", attr, dn, ErrIncomplete)
		}
		var got *ldap.EntryAttribute
		for _, a := range e.Attributes {
			if b, r := splitRange(a.Name); strings.EqualFold(b, attr) && r != "" {
				got = a
			}
		}
		if got == nil {
			// No values beyond the last range (the count was a multiple of
			// the window).
			return values, nil
		}
		values = append(values, got.Values...)
		_, rng = splitRange(got.Name)
	}
}

// readMembers returns the member values of a group, ranged reads
// included; found is false when the group does not exist.
func (d *Directory) readMembers(ctx context.Context, c *ldap.Conn, dn string) (members []string, found bool, err error) {
	attr := d.src.MemberAttribute
	ask := attr
	if d.info.ad && d.opts.rangeStep > 0 {
		ask = fmt.Sprintf("%s;range=0-%d", attr, d.opts.rangeStep-1)
	}
	e, err := d.baseEntry(c, dn, "(objectClass=*)", []string{ask})
	if err != nil {
		return nil, false, fmt.Errorf("read members of %s: %w", dn, err)
	}
	if e == nil {
		return nil, false, nil
	}
	for _, a := range e.Attributes {
		base, rng := splitRange(a.Name)
		if !strings.EqualFold(base, attr) {
			continue
		}
		if rng == "" {
			members = append(members, a.Values...)
			continue
		}
		all, err := d.rangedValues(ctx, c, dn, attr, a)
		if err != nil {
			return nil, true, err
		}
		members = append(members, all...)
	}
	return cleanMembers(members), true, nil
}

// cleanMembers strips optional UIDs and drops empty values (groupOfNames
// must list a member, so an empty group lists the empty DN).
func cleanMembers(ms []string) []string {
	out := ms[:0]
	for _, m := range ms {
		if m = stripUID(m); strings.TrimSpace(m) != "" {
			out = append(out, m)
		}
	}
	return out
}
