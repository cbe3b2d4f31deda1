package ldapserver

// Responses are encoded by appending to byte slices rather than through
// asn1-ber's packet tree: a paged search of 5,000 entries would otherwise
// build a quarter of a million packet objects. Requests are still decoded
// with asn1-ber.

// BER identifiers used in responses.
const (
	tagBoolean     = 0x01
	tagInteger     = 0x02
	tagOctetString = 0x04
	tagEnumerated  = 0x0a
	tagSequence    = 0x30
	tagSet         = 0x31
)

// LDAP protocolOp application tags (RFC 4511 §4.2 onwards).
const (
	appBindRequest      = 0
	appBindResponse     = 1
	appUnbindRequest    = 2
	appSearchRequest    = 3
	appSearchEntry      = 4
	appSearchDone       = 5
	appModifyRequest    = 6
	appModifyResponse   = 7
	appAddRequest       = 8
	appAddResponse      = 9
	appDelRequest       = 10
	appDelResponse      = 11
	appModDNRequest     = 12
	appModDNResponse    = 13
	appCompareRequest   = 14
	appCompareResponse  = 15
	appAbandonRequest   = 16
	appExtendedRequest  = 23
	appExtendedResponse = 24
)

func application(tag int) byte { return 0x60 | byte(tag) } // constructed
func ctxPrim(tag int) byte     { return 0x80 | byte(tag) } // primitive
func ctxCons(tag int) byte     { return 0xa0 | byte(tag) } // constructed

func appendLength(dst []byte, n int) []byte {
	switch {
	case n < 0x80:
		return append(dst, byte(n))
	case n <= 0xff:
		return append(dst, 0x81, byte(n))
	case n <= 0xffff:
		return append(dst, 0x82, byte(n>>8), byte(n))
	case n <= 0xffffff:
		return append(dst, 0x83, byte(n>>16), byte(n>>8), byte(n))
	default:
		return append(dst, 0x84, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
}

// tlv appends one element with the given identifier and content.
func tlv(dst []byte, tag byte, content []byte) []byte {
	return append(header(dst, tag, len(content)), content...)
}

func octets(dst []byte, tag byte, s string) []byte {
	return append(header(dst, tag, len(s)), s...)
}

// integer appends a two's complement INTEGER or ENUMERATED.
func integer(dst []byte, tag byte, v int64) []byte {
	n := 1
	for x := v; x > 127 || x < -128; x >>= 8 {
		n++
	}
	dst = append(dst, tag, byte(n))
	for i := n - 1; i >= 0; i-- {
		dst = append(dst, byte(v>>(8*i)))
	}
	return dst
}

func boolean(dst []byte, v bool) []byte {
	b := byte(0)
	if v {
		b = 0xff
	}
	return append(dst, tagBoolean, 1, b)
}

// message wraps a protocolOp in an LDAPMessage with optional controls.
func message(id int64, op []byte, controls []byte) []byte {
	body := integer(make([]byte, 0, len(op)+len(controls)+8), tagInteger, id)
	body = append(body, op...)
	if len(controls) > 0 {
		body = tlv(body, ctxCons(0), controls)
	}
	return tlv(make([]byte, 0, len(body)+6), tagSequence, body)
}

// result encodes an LDAPResult-shaped protocolOp; extra is appended after
// the diagnostic message (serverSaslCreds, responseName, responseValue).
func result(app int, code ResultCode, matchedDN, diag string, extra []byte) []byte {
	body := integer(nil, tagEnumerated, int64(code))
	body = octets(body, tagOctetString, matchedDN)
	body = octets(body, tagOctetString, diag)
	body = append(body, extra...)
	return tlv(nil, application(app), body)
}

// control encodes one Control; the caller concatenates them.
func control(oid string, critical bool, value []byte) []byte {
	body := octets(nil, tagOctetString, oid)
	if critical {
		body = boolean(body, true)
	}
	if value != nil {
		body = octets(body, tagOctetString, string(value))
	}
	return tlv(nil, tagSequence, body)
}

// pagingValue is the value of a paged results control: the estimated size
// (0 when unknown, as OpenLDAP and Active Directory send) and the cookie.
func pagingValue(size int, cookie []byte) []byte {
	body := integer(nil, tagInteger, int64(size))
	body = octets(body, tagOctetString, string(cookie))
	return tlv(nil, tagSequence, body)
}

// partial is an attribute to send in a search result entry.
type partial struct {
	name string
	vals []string
}

// lengthSize is how many bytes the BER length n takes.
func lengthSize(n int) int {
	switch {
	case n < 0x80:
		return 1
	case n <= 0xff:
		return 2
	case n <= 0xffff:
		return 3
	case n <= 0xffffff:
		return 4
	default:
		return 5
	}
}

// tlvSize is the size of an element with n bytes of content.
func tlvSize(n int) int { return 1 + lengthSize(n) + n }

func header(dst []byte, tag byte, n int) []byte {
	return appendLength(append(dst, tag), n)
}

// sizes returns the content sizes of a PartialAttribute and of its value set.
func (p partial) sizes(typesOnly bool) (attr, set int) {
	if !typesOnly {
		for _, v := range p.vals {
			set += tlvSize(len(v))
		}
	}
	return tlvSize(len(p.name)) + tlvSize(set), set
}

// entryMessage encodes an LDAPMessage holding a SearchResultEntry. Sizes
// are computed first so that the message is built in one allocation: a
// search of 10,000 entries would otherwise copy each one at every level of
// nesting. Attributes without values are left out, as RFC 4511 wants.
func entryMessage(id int64, dn string, attrs []partial, typesOnly bool) []byte {
	attrsLen := 0
	for _, p := range attrs {
		if len(p.vals) > 0 {
			a, _ := p.sizes(typesOnly)
			attrsLen += tlvSize(a)
		}
	}
	entryLen := tlvSize(len(dn)) + tlvSize(attrsLen)
	idBytes := integer(nil, tagInteger, id)
	msgLen := len(idBytes) + tlvSize(entryLen)
	buf := make([]byte, 0, tlvSize(msgLen))
	buf = header(buf, tagSequence, msgLen)
	buf = append(buf, idBytes...)
	buf = header(buf, application(appSearchEntry), entryLen)
	buf = octets(buf, tagOctetString, dn)
	buf = header(buf, tagSequence, attrsLen)
	for _, p := range attrs {
		if len(p.vals) == 0 {
			continue
		}
		a, set := p.sizes(typesOnly)
		buf = header(buf, tagSequence, a)
		buf = octets(buf, tagOctetString, p.name)
		buf = header(buf, tagSet, set)
		if !typesOnly {
			for _, v := range p.vals {
				buf = octets(buf, tagOctetString, v)
			}
		}
	}
	return buf
}
