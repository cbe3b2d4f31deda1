package ldapserver

import (
	"bufio"
	"errors"
	"fmt"
	"io"

	ber "github.com/go-asn1-ber/asn1-ber"
)

// maxRequestBytes bounds one LDAPMessage. The largest legitimate requests
// are adds and modifies with photos or certificates; anything bigger is a
// broken or hostile client, refused before its bytes are buffered.
const maxRequestBytes = 16 << 20

// readFrame reads one BER element (an LDAPMessage) and returns its bytes.
func readFrame(r *bufio.Reader) ([]byte, error) {
	tag, err := r.ReadByte()
	if err != nil {
		return nil, err
	}
	if tag != tagSequence {
		return nil, fmt.Errorf("message starts with 0x%02x: want a SEQUENCE (0x30); is the client speaking TLS to a plain port?", tag)
	}
	first, err := r.ReadByte()
	if err != nil {
		return nil, err
	}
	head := []byte{tag, first}
	length := int(first)
	if first&0x80 != 0 {
		n := int(first & 0x7f)
		if n == 0 || n > 4 {
			return nil, fmt.Errorf("message length uses %d bytes: want a definite length of at most 4 bytes", n)
		}
		length = 0
		for range n {
			b, err := r.ReadByte()
			if err != nil {
				return nil, err
			}
			head = append(head, b)
			length = length<<8 | int(b)
		}
	}
	if length > maxRequestBytes {
		return nil, fmt.Errorf("message of %d bytes: the limit is %d", length, maxRequestBytes)
	}
	buf := make([]byte, len(head)+length)
	copy(buf, head)
	if _, err := io.ReadFull(r, buf[len(head):]); err != nil {
		return nil, err
	}
	return buf, nil
}

// request is a decoded LDAPMessage.
type request struct {
	id       int64
	op       int
	body     *ber.Packet
	controls []reqControl
}

type reqControl struct {
	oid      string
	critical bool
	value    []byte
}

func (r *request) control(oid string) *reqControl {
	for i := range r.controls {
		if r.controls[i].oid == oid {
			return &r.controls[i]
		}
	}
	return nil
}

// errMalformed marks a request the server cannot make sense of; the
// connection is then closed with a notice of disconnection.
var errMalformed = errors.New("malformed LDAP message")

func decodeRequest(raw []byte) (*request, error) {
	p, err := ber.DecodePacketErr(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errMalformed, err)
	}
	if len(p.Children) < 2 {
		return nil, fmt.Errorf("%w: %d elements, want messageID and protocolOp", errMalformed, len(p.Children))
	}
	id, ok := p.Children[0].Value.(int64)
	if !ok || id < 0 {
		return nil, fmt.Errorf("%w: bad messageID", errMalformed)
	}
	op := p.Children[1]
	if op.ClassType != ber.ClassApplication {
		return nil, fmt.Errorf("%w: protocolOp is not an application element", errMalformed)
	}
	req := &request{id: id, op: int(op.Tag), body: op}
	if len(p.Children) > 2 {
		c := p.Children[2]
		if c.ClassType != ber.ClassContext || c.Tag != 0 {
			return nil, fmt.Errorf("%w: third element is not [0] controls", errMalformed)
		}
		for _, cp := range c.Children {
			ctl, err := decodeControl(cp)
			if err != nil {
				return nil, err
			}
			req.controls = append(req.controls, ctl)
		}
	}
	return req, nil
}

func decodeControl(p *ber.Packet) (reqControl, error) {
	if len(p.Children) == 0 {
		return reqControl{}, fmt.Errorf("%w: empty control", errMalformed)
	}
	c := reqControl{oid: p.Children[0].Data.String()}
	for _, ch := range p.Children[1:] {
		switch ch.Tag {
		case ber.TagBoolean:
			c.critical, _ = ch.Value.(bool)
		case ber.TagOctetString:
			c.value = ch.Data.Bytes()
		}
	}
	return c, nil
}

// Field readers for request bodies: each checks the element exists and has
// the expected kind, so that a malformed request gets protocolError rather
// than a panic.

func child(p *ber.Packet, i int) (*ber.Packet, error) {
	if p == nil {
		return nil, errorf(ProtocolError, "request element missing")
	}
	if i >= len(p.Children) {
		return nil, errorf(ProtocolError, "request has %d elements, element %d is missing", len(p.Children), i)
	}
	return p.Children[i], nil
}

func str(p *ber.Packet, i int) (string, error) {
	c, err := child(p, i)
	if err != nil {
		return "", err
	}
	if c.TagType != ber.TypePrimitive {
		return "", errorf(ProtocolError, "element %d: want a string", i)
	}
	return c.Data.String(), nil
}

func num(p *ber.Packet, i int) (int64, error) {
	c, err := child(p, i)
	if err != nil {
		return 0, err
	}
	v, ok := c.Value.(int64)
	if !ok {
		return 0, errorf(ProtocolError, "element %d: want an integer", i)
	}
	return v, nil
}

func flag(p *ber.Packet, i int) (bool, error) {
	c, err := child(p, i)
	if err != nil {
		return false, err
	}
	v, ok := c.Value.(bool)
	if !ok {
		return false, errorf(ProtocolError, "element %d: want a boolean", i)
	}
	return v, nil
}

// strs reads a SEQUENCE OF or SET OF OCTET STRING.
func strs(p *ber.Packet) ([]string, error) {
	out := make([]string, 0, len(p.Children))
	for i := range p.Children {
		s, err := str(p, i)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// partialAttribute reads SEQUENCE { type, SET OF value }.
func partialAttribute(p *ber.Packet) (Attribute, error) {
	name, err := str(p, 0)
	if err != nil {
		return Attribute{}, err
	}
	set, err := child(p, 1)
	if err != nil {
		return Attribute{}, err
	}
	vals, err := strs(set)
	if err != nil {
		return Attribute{}, err
	}
	return Attribute{Name: name, Values: vals}, nil
}
