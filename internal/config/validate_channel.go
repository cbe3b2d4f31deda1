package config

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"
)

func validateChannel(ch *Channel, path string, ps *problemSet) {
	switch {
	case ch.Name == "":
		ps.add(join(path, "name"), "required (letters, digits, '.', '_' or '-')")
	case !nameRE.MatchString(ch.Name):
		ps.add(join(path, "name"), "%q is not a channel name (letters, digits, '.', '_' or '-', at most 63)", ch.Name)
	}
	if ch.Interval < time.Second {
		ps.add(join(path, "interval"), "%v is too short (at least 1s)", ch.Interval)
	}
	if ch.FullSyncInterval != 0 && ch.FullSyncInterval < ch.Interval {
		ps.add(join(path, "fullSyncInterval"), "%v is shorter than interval %v (0 turns scheduled full syncs off)", ch.FullSyncInterval, ch.Interval)
	}
	if ch.MaxThreads < 1 || ch.MaxThreads > 64 {
		ps.add(join(path, "maxThreads"), "%d is out of range (1 to 64)", ch.MaxThreads)
	}
	if ch.Timeout < time.Second {
		ps.add(join(path, "timeout"), "%v is too short (at least 1s)", ch.Timeout)
	}
	validateSource(&ch.Source, join(path, "source"), ps)
	validateOptions(&ch.Options, join(path, "options"), ps)
	validateMapping(ch, join(path, "mapping"), ps)
}

func validateSource(s *Source, path string, ps *problemSet) {
	if !oneOf(s.Type, Types()...) {
		ps.add(join(path, "type"), "%q is not a directory type (%s)", s.Type, strings.Join(Types(), ", "))
	}
	u, err := url.Parse(s.URL)
	switch {
	case s.URL == "":
		ps.add(join(path, "url"), "required (ldap://host[:389] or ldaps://host[:636])")
	case err != nil || (u.Scheme != "ldap" && u.Scheme != "ldaps") || u.Host == "":
		ps.add(join(path, "url"), "%q is not an LDAP URL (ldap://host[:389] or ldaps://host[:636])", redactURL(s.URL))
	case s.StartTLS && u.Scheme == "ldaps":
		ps.add(join(path, "startTLS"), "set with an ldaps:// url (startTLS upgrades ldap://; ldaps:// is TLS already)")
	}
	checkFile(ps, join(path, "caFile"), s.CAFile)
	switch {
	case s.BindDN == "" && s.Password.IsSet():
		ps.add(join(path, "bindDN"), "required with password")
	case s.BindDN != "" && !s.Password.IsSet():
		// A DN with an empty password is an unauthenticated bind, which
		// many servers accept as anonymous: refuse it.
		ps.add(join(path, "password"), "required with bindDN (an empty password binds anonymously)")
	case s.BindDN != "":
		checkDN(ps, join(path, "bindDN"), s.BindDN)
	}
	if s.BaseDN == "" {
		ps.add(join(path, "baseDN"), "required (the entry under which users and groups are searched, e.g. DC=corp,DC=contoso,DC=com)")
	} else {
		checkDN(ps, join(path, "baseDN"), s.BaseDN)
	}
	validateLocation(&s.Users, join(path, "users"), ps)
	if s.Groups != nil {
		validateLocation(s.Groups, join(path, "groups"), ps)
	}
	for _, a := range []struct{ key, v string }{
		{"guidAttribute", s.GUIDAttribute},
		{"userObjectClass", s.UserObjectClass},
		{"groupObjectClass", s.GroupObjectClass},
		{"memberAttribute", s.MemberAttribute},
	} {
		checkAttribute(ps, join(path, a.key), a.v, true)
	}
	checkAttribute(ps, join(path, "memberOfAttribute"), s.MemberOfAttribute, false)
	validateChangeDetection(s, join(path, "changeDetection"), ps)
	validateAccountStatus(&s.AccountStatus, join(path, "accountStatus"), ps)
	if s.PageSize < 1 || s.PageSize > 10000 {
		ps.add(join(path, "pageSize"), "%d is out of range (1 to 10000; Active Directory serves at most 1000)", s.PageSize)
	}
	if s.Timeout < time.Second {
		ps.add(join(path, "timeout"), "%v is too short (at least 1s)", s.Timeout)
	}
}

func validateLocation(l *Location, path string, ps *problemSet) {
	if l.GroupDN == "" && l.Filter == "" {
		ps.add(path, "names no entries (set groupDN, filter or both)")
	}
	if l.GroupDN != "" {
		checkDN(ps, join(path, "groupDN"), l.GroupDN)
	}
	if l.Filter != "" {
		if _, err := ldap.CompileFilter(l.Filter); err != nil {
			ps.add(join(path, "filter"), "%q is not an LDAP filter: %v (e.g. (&(objectClass=user)(department=Sales)))", l.Filter, filterError(err))
		}
	}
	if l.NestedSearch && l.GroupDN == "" {
		ps.add(join(path, "nestedSearch"), "set without groupDN (nested search follows the groups inside groupDN)")
	}
}

func validateChangeDetection(s *Source, path string, ps *problemSet) {
	cd := s.ChangeDetection
	algorithms := []string{ADUSN, Timestamp, TimestampNoNegation, EntryCSN}
	switch {
	case !oneOf(cd.Algorithm, algorithms...):
		ps.add(join(path, "algorithm"), "%q is not a change-detection algorithm (%s)", cd.Algorithm, strings.Join(algorithms, ", "))
	case cd.Algorithm == ADUSN && s.Type != ActiveDirectory && s.Type != "":
		ps.add(join(path, "algorithm"), "ACTIVE_DIRECTORY_USN needs type activeDirectory (use TIMESTAMP or ENTRY_CSN for %s)", s.Type)
	case cd.Algorithm == EntryCSN && s.Type == ActiveDirectory:
		ps.add(join(path, "algorithm"), "Active Directory has no entryCSN (use ACTIVE_DIRECTORY_USN)")
	}
	checkAttribute(ps, join(path, "attribute"), cd.Attribute, true)
	if !oneOf(cd.Push, PushAuto, PushOff) {
		ps.add(join(path, "push"), "%q is not a push mode (auto or off)", cd.Push)
	}
}

func validateAccountStatus(a *AccountStatus, path string, ps *problemSet) {
	switch a.Algorithm {
	case StatusAD:
		checkAttribute(ps, join(path, "attribute"), a.Attribute, true)
	case StatusFlag:
		checkAttribute(ps, join(path, "attribute"), a.Attribute, true)
		if a.FlagValue == "" {
			ps.add(join(path, "flagValue"), "required with algorithm FLAG (the value the attribute is compared with, e.g. true)")
		}
	case StatusNone:
	default:
		ps.add(join(path, "algorithm"), "%q is not an account-status algorithm (AD, FLAG or NONE)", a.Algorithm)
	}
	if !oneOf(a.Default, "enabled", "disabled") {
		ps.add(join(path, "default"), "%q is not a status (enabled or disabled)", a.Default)
	}
}

func validateOptions(o *Options, path string, ps *problemSet) {
	if !oneOf(o.RemoveUserAction, RemoveDisable, RemoveDelete) {
		ps.add(join(path, "removeUserAction"), "%q is not an action (disable or delete)", o.RemoveUserAction)
	}
	if !oneOf(o.GroupType, GroupSecurity, GroupMicrosoft365) {
		ps.add(join(path, "groupType"), "%q is not a group type (security or microsoft365)", o.GroupType)
	}
	if !oneOf(o.AdoptExistingGroups, "", "displayName", "mailNickname") {
		ps.add(join(path, "adoptExistingGroups"), "%q cannot match groups (leave empty to never adopt, or displayName or mailNickname)", o.AdoptExistingGroups)
	}
	if o.DeleteThreshold.Count < 0 {
		ps.add(join(path, "deleteThreshold.count"), "%d is negative (0 turns the count limit off)", o.DeleteThreshold.Count)
	}
	if p := o.DeleteThreshold.Percent; p < 0 || p > 100 {
		ps.add(join(path, "deleteThreshold.percent"), "%v is not a percentage (0 to 100; 0 turns the percentage limit off)", p)
	}
	if pw := o.GlobalDefaultPassword; pw.IsSet() {
		if msg := passwordComplexity(pw.Value()); msg != "" {
			ps.add(join(path, "globalDefaultPassword"), "%s", msg)
		}
	}
}

// passwordComplexity applies Entra's rule for cloud passwords: 8 to 256
// characters from at least three of lower case, upper case, digits and
// symbols. The message never includes the password.
func passwordComplexity(pw string) string {
	if n := len([]rune(pw)); n < 8 || n > 256 {
		return fmt.Sprintf("has %d characters (Entra requires 8 to 256)", n)
	}
	var lower, upper, digit, other int
	for _, r := range pw {
		switch {
		case r >= 'a' && r <= 'z':
			lower = 1
		case r >= 'A' && r <= 'Z':
			upper = 1
		case r >= '0' && r <= '9':
			digit = 1
		default:
			other = 1
		}
	}
	if lower+upper+digit+other < 3 {
		return "is too simple (Entra requires three of: lower case, upper case, digits, symbols)"
	}
	return ""
}

func validateMapping(ch *Channel, path string, ps *problemSet) {
	check := func(kind string, m map[string]FieldMapping, fieldKind func(string) (string, bool), allowed []string, required []string, needRequired bool) {
		base := join(path, kind)
		for name, f := range m {
			p := join(base, name)
			if _, ok := fieldKind(name); !ok {
				ps.add(p, "unknown %s field (allowed: %s)", kind, strings.Join(allowed, ", "))
				continue
			}
			if err := f.validate(); err != nil {
				ps.add(p, "%v", err)
			} else if f.IsZero() {
				ps.add(p, "createOnly or required without a value or expr")
			}
		}
		if !needRequired {
			return
		}
		for _, name := range required {
			if f, ok := m[name]; !ok || f.IsZero() {
				ps.add(join(base, name), "must be mapped (Graph requires it to create a %s)", kind)
			}
		}
	}
	check("user", ch.Mapping.User, UserFieldKind, fieldNames(userFields), requiredUserFields, ch.Options.UserCreate)
	check("group", ch.Mapping.Group, GroupFieldKind, fieldNames(groupFields), requiredGroupFields, ch.Source.Groups != nil && ch.Options.GroupCreate)
}

func checkDN(ps *problemSet, path, dn string) {
	if _, err := ldap.ParseDN(dn); err != nil {
		ps.add(path, "%q is not a distinguished name: %v (e.g. OU=Staff,DC=contoso,DC=com)", dn, err)
	}
}

func checkAttribute(ps *problemSet, path, name string, required bool) {
	switch {
	case name == "" && required:
		ps.add(path, "required (an attribute name)")
	case name != "" && !attrRE.MatchString(name):
		ps.add(path, "%q is not an attribute name (a letter, then letters, digits or '-')", name)
	}
}

// filterError shortens go-ldap's filter errors, which repeat the LDAP result
// code in front of the cause.
func filterError(err error) string {
	var le *ldap.Error
	if errors.As(err, &le) && le.Err != nil {
		return le.Err.Error()
	}
	return err.Error()
}

// channelWarnings records advice for a channel that is valid but risky.
func channelWarnings(ch *Channel, path string, ws *problemSet) {
	warn := ws.add
	o := ch.Options
	if o.ProvisionDisabledUsers && o.RemoveUserAction == RemoveDelete && o.UserDisableDelete {
		warn(join(path, "options.provisionDisabledUsers"), "has no effect with removeUserAction delete: as in PingFederate, the remove action applies to users disabled in the directory, so they are deleted from Entra and are neither created nor restored while disabled (set removeUserAction: disable to keep them in Entra, disabled)")
	}
	if o.DeleteThreshold.Count == 0 && o.DeleteThreshold.Percent == 0 && o.UserDisableDelete {
		warn(join(path, "options.deleteThreshold"), "both limits are 0: no plan is ever held for approval, however many users it removes")
	}
	if ch.FullSyncInterval == 0 && ch.Source.ChangeDetection.Push == PushOff {
		warn(join(path, "fullSyncInterval"), "0 with push off: users deleted from the directory are noticed only by `o365prov sync --full`")
	}
	if ch.Source.InsecureSkipVerify {
		warn(join(path, "source.insecureSkipVerify"), "true: the directory's certificate is not checked, so anyone on the path can read the bind password")
	}
}
