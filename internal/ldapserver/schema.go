package ldapserver

import (
	"strings"
)

// syntax decides how values of an attribute are compared. The server has no
// loadable schema; it knows the syntaxes of the attributes a provisioning
// source uses and treats every other attribute as a case-ignore string, which
// is what directoryString attributes are on real servers.
type syntax uint8

const (
	synString    syntax = iota // caseIgnoreMatch, caseIgnoreOrderingMatch, caseIgnoreSubstringsMatch
	synDN                      // distinguishedNameMatch; no ordering, no substrings
	synInteger                 // integerMatch, integerOrderingMatch
	synTime                    // generalizedTimeMatch, generalizedTimeOrderingMatch
	synOctet                   // octetStringMatch: bytes compared exactly
	synTelephone               // telephoneNumberMatch: spaces and hyphens ignored
)

// attrType is what the server knows about an attribute description.
type attrType struct {
	key  string // canonical lower-case name with options, the map key
	name string // canonical spelling, used for virtual attributes
	syn  syntax
	// operational attributes are returned only when asked for by name or "+".
	operational bool
	// virtual attributes are computed on read, never stored.
	virtual bool
}

// lookupAttr resolves an attribute description ("CN", "commonName",
// "userCertificate;binary") to its type.
func lookupAttr(desc string) attrType {
	base, opts, _ := strings.Cut(desc, ";")
	canon, syn := knownAttr(strings.ToLower(base))
	key := strings.ToLower(canon)
	if opts != "" {
		key += ";" + strings.ToLower(opts)
		if strings.Contains(key, ";binary") {
			syn = synOctet
		}
	}
	t := attrType{key: key, name: canon, syn: syn}
	switch key {
	case "entryuuid", "entrycsn", "createtimestamp", "modifytimestamp", "creatorsname", "modifiersname":
		t.operational = true
	case "memberof", "hassubordinates", "entrydn", "subschemasubentry", "contextcsn":
		t.operational, t.virtual = true, true
	}
	return t
}

// knownAttr maps a lower-case attribute name to its canonical spelling
// (resolving the standard aliases) and its syntax. Unknown names keep their
// spelling and compare as strings.
func knownAttr(lower string) (string, syntax) {
	switch lower {
	case "cn", "commonname":
		return "cn", synString
	case "sn", "surname":
		return "sn", synString
	case "gn", "givenname":
		return "givenName", synString
	case "uid", "userid":
		return "uid", synString
	case "mail", "rfc822mailbox":
		return "mail", synString
	case "l", "localityname":
		return "l", synString
	case "st", "stateorprovincename":
		return "st", synString
	case "c", "countryname":
		return "c", synString
	case "o", "organizationname":
		return "o", synString
	case "ou", "organizationalunitname":
		return "ou", synString
	case "street", "streetaddress":
		return "street", synString
	case "dc", "domaincomponent":
		return "dc", synString
	case "objectclass":
		return "objectClass", synString
	case "entryuuid":
		return "entryUUID", synString
	case "entrycsn":
		return "entryCSN", synString
	case "contextcsn":
		return "contextCSN", synString
	case "memberof":
		return "memberOf", synDN
	case "hassubordinates":
		return "hasSubordinates", synString
	case "entrydn":
		return "entryDN", synDN
	case "subschemasubentry":
		return "subschemaSubentry", synDN
	case "creatorsname":
		return "creatorsName", synDN
	case "modifiersname":
		return "modifiersName", synDN
	case "createtimestamp":
		return "createTimestamp", synTime
	case "modifytimestamp":
		return "modifyTimestamp", synTime
	case "member", "uniquemember", "manager", "owner", "seealso", "secretary",
		"roleoccupant", "distinguishedname", "aliasedobjectname", "managedby", "directreports":
		return lower, synDN
	case "telephonenumber", "mobile", "mobiletelephonenumber", "homephone", "pager",
		"facsimiletelephonenumber":
		if lower == "mobiletelephonenumber" {
			return "mobile", synTelephone
		}
		return lower, synTelephone
	case "uidnumber", "gidnumber", "usnchanged", "usncreated", "useraccountcontrol",
		"shadowlastchange", "shadowmin", "shadowmax", "shadowwarning", "shadowinactive",
		"shadowexpire", "pwdlastset", "accountexpires", "primarygroupid", "grouptype",
		"samaccounttype", "admincount", "badpwdcount", "logoncount", "msds-user-account-control-computed":
		return lower, synInteger
	case "pwdchangedtime", "pwdaccountlockedtime", "pwdfailuretime", "whenchanged", "whencreated":
		return lower, synTime
	case "userpassword", "jpegphoto", "photo", "thumbnailphoto", "objectguid", "objectsid",
		"usercertificate", "cacertificate", "userpkcs12", "usersmimecertificate", "audio":
		return lower, synOctet
	}
	return lower, synString
}

// isUserModifiable tells whether a client may write the attribute; the
// operational attributes are the server's to maintain.
func (t attrType) isUserModifiable() bool { return !t.operational }

// virtualAttrs lists the attributes computed on read, in the order they are
// returned.
func virtualAttrs() []string {
	return []string{"memberOf", "hasSubordinates", "entryDN", "contextCSN"}
}

// checkDescription refuses what is not an attribute description (RFC 4512
// §2.5: a name or OID, then options).
func checkDescription(desc string) error {
	if !validDescription(desc) {
		return errorf(UndefinedAttributeType, "%q is not an attribute description: want a name such as mail, or an OID, with optional ;options", desc)
	}
	return nil
}

// checkValue refuses a value invalid in the syntaxes the server checks: DN,
// integer and GeneralizedTime, as a real server's schema would. The
// message never shows the value, which may be a secret.
func checkValue(desc string, t attrType, value string) error {
	switch t.syn {
	case synDN, synInteger, synTime:
		if _, ok := normalize(t.syn, value); !ok {
			return errorf(InvalidAttributeSyntax, "%s: a value is not a valid %s", desc, syntaxName(t.syn))
		}
	}
	return nil
}

func syntaxName(s syntax) string {
	switch s {
	case synDN:
		return "DN"
	case synInteger:
		return "integer"
	case synTime:
		return "GeneralizedTime (YYYYMMDDHHMMSSZ)"
	default:
		return "value"
	}
}

func validDescription(desc string) bool {
	if desc == "" {
		return false
	}
	for part := range strings.SplitSeq(desc, ";") {
		if part == "" || !isAttrName(part) || part[0] == '-' {
			return false
		}
	}
	return true
}
