package config

import "time"

// Defaults shared by every channel whatever its directory.
const (
	DefaultInterval         = 60 * time.Second
	DefaultFullSyncInterval = time.Hour
	DefaultTimeout          = 60 * time.Second
	DefaultMaxThreads       = 4
	DefaultPageSize         = 500
	DefaultLDAPTimeout      = 30 * time.Second
	DefaultDeleteCount      = 500
	DefaultDeletePercent    = 10

	DefaultGraphURL = "https://graph.microsoft.com"
	DefaultLoginURL = "https://login.microsoftonline.com"
	// DefaultWriteRate is Graph's documented write limit for one app in one
	// tenant: 3,000 writes per 150 s (docs/graph.md §6.2).
	DefaultWriteRate = 20.0
	// DefaultResourceUnits is the smallest tenant class's read budget, 3,500
	// resource units per 10 s: safe for every tenant size.
	DefaultResourceUnits = 3500

	DefaultStateDSN        = "o365prov.db"
	DefaultFailoverGrace   = 15 * time.Second
	DefaultSSOListen       = "127.0.0.1:9031"
	DefaultSessionLifetime = 8 * time.Hour
	DefaultConsoleListen   = "127.0.0.1:9090"
)

// Types lists the directory types, in the order `init --type` offers them.
func Types() []string { return []string{ActiveDirectory, OpenLDAP, PingDirectory, Generic} }

// defaultTarget is the target section before the file is applied.
func defaultTarget() Target {
	return Target{
		GraphURL:      DefaultGraphURL,
		LoginURL:      DefaultLoginURL,
		WriteRate:     DefaultWriteRate,
		ResourceUnits: DefaultResourceUnits,
	}
}

// DefaultChannel returns a channel for a directory type with PingFederate's
// template settings (docs/pingfederate.md §1.3, §2.4) and a user and
// group mapping that works without edits. An unknown type gets the generic
// defaults; validation reports the type.
func DefaultChannel(sourceType string) Channel {
	return Channel{
		Active:           true,
		Interval:         DefaultInterval,
		FullSyncInterval: DefaultFullSyncInterval,
		MaxThreads:       DefaultMaxThreads,
		Timeout:          DefaultTimeout,
		Source:           defaultSource(sourceType),
		Options:          defaultOptions(),
		Mapping:          defaultMapping(sourceType),
	}
}

func defaultOptions() Options {
	return Options{
		UserCreate:             true,
		UserUpdate:             true,
		UserDisableDelete:      true,
		ProvisionDisabledUsers: true,
		RemoveUserAction:       RemoveDisable,
		Base64ImmutableID:      true,
		GroupCreate:            true,
		GroupUpdate:            true,
		// Graph deletes security groups for good (graph.md §4.2), so
		// deleting groups is something an administrator turns on.
		GroupDelete:         false,
		GroupType:           GroupSecurity,
		FlattenNested:       true,
		DeleteThreshold:     DeleteThreshold{Count: DefaultDeleteCount, Percent: DefaultDeletePercent},
		RestoreDeletedUsers: true,
	}
}

func defaultSource(sourceType string) Source {
	s := Source{
		Type:          sourceType,
		PageSize:      DefaultPageSize,
		Timeout:       DefaultLDAPTimeout,
		GUIDAttribute: "entryUUID",
		ChangeDetection: ChangeDetection{
			Algorithm: Timestamp, Attribute: "modifyTimestamp", Push: PushAuto,
		},
		AccountStatus:     AccountStatus{Algorithm: StatusNone, Default: "enabled"},
		UserObjectClass:   "inetOrgPerson",
		GroupObjectClass:  "groupOfNames",
		MemberAttribute:   "member",
		MemberOfAttribute: "memberOf",
	}
	switch sourceType {
	case ActiveDirectory:
		s.GUIDAttribute, s.GUIDBinary = "objectGUID", true
		s.ChangeDetection.Algorithm, s.ChangeDetection.Attribute = ADUSN, "uSNChanged"
		s.AccountStatus = AccountStatus{Algorithm: StatusAD, Attribute: "userAccountControl", Default: "enabled"}
		s.UserObjectClass, s.GroupObjectClass = "user", "group"
		s.Users.Filter = "(&(objectCategory=person)(objectClass=user))"
	case OpenLDAP:
		// entryCSN orders changes below a second, which modifyTimestamp
		// cannot; syncrepl push needs the syncprov overlay.
		s.ChangeDetection.Algorithm, s.ChangeDetection.Attribute = EntryCSN, "entryCSN"
	case PingDirectory:
		s.ChangeDetection.Algorithm = TimestampNoNegation
		s.AccountStatus = AccountStatus{
			Algorithm: StatusFlag, Attribute: "nsaccountlock", FlagValue: "true",
			FlagMeansDisabled: true, Default: "enabled",
		}
		s.GroupObjectClass, s.MemberAttribute, s.MemberOfAttribute = "groupOfUniqueNames", "uniqueMember", "isMemberOf"
	}
	if s.Users.Filter == "" {
		s.Users.Filter = "(objectClass=" + s.UserObjectClass + ")"
	}
	return s
}

// defaultMapping is the mapping a channel of that directory type starts
// with. The file's mapping entries replace these field by field; a field
// mapped to "" is left unmapped.
func defaultMapping(sourceType string) Mapping {
	common := map[string]FieldMapping{
		"givenName":             Template("${givenName}"),
		"surname":               Template("${sn}"),
		"mail":                  Template("${mail}"),
		"jobTitle":              Template("${title}"),
		"officeLocation":        Template("${physicalDeliveryOfficeName}"),
		"businessPhones":        Template("${telephoneNumber}"),
		"mobilePhone":           Template("${mobile}"),
		"city":                  Template("${l}"),
		"state":                 Template("${st}"),
		"postalCode":            Template("${postalCode}"),
		"usageLocation":         Template("${c}"),
		"preferredLanguage":     Template("${preferredLanguage}"),
		"displayName":           Expression(`default(attr("displayName"), attr("cn"))`),
		"onPremisesImmutableId": {Expr: "immutableId", CreateOnly: true},
		"accountEnabled":        Expression("enabled"),
		"pingSourceDN":          Expression("dn"),
		"manager":               Template("${manager}"),
	}
	group := map[string]FieldMapping{
		"displayName":  Expression(`default(attr("displayName"), attr("cn"))`),
		"description":  Template("${description}"),
		"mailNickname": Expression(`nickname(attr("cn"))`),
	}
	set := func(m map[string]FieldMapping, kv ...string) {
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = Template(kv[i+1])
		}
	}
	if sourceType == ActiveDirectory {
		set(common,
			"userPrincipalName", "${userPrincipalName}",
			"mailNickname", "${sAMAccountName}",
			"department", "${department}",
			"streetAddress", "${streetAddress}",
			"country", "${co}",
			"employeeId", "${employeeID}",
			"companyName", "${company}",
		)
		set(group, "mailNickname", "${sAMAccountName}")
	} else {
		set(common,
			"userPrincipalName", "${mail}",
			"mailNickname", "${uid}",
			"department", "${departmentNumber}",
			"streetAddress", "${street}",
			"country", "${c}",
			"employeeId", "${employeeNumber}",
			"companyName", "${o}",
		)
	}
	return Mapping{User: common, Group: group}
}
