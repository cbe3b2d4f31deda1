package bench

import (
	"net"
	"sync/atomic"
)

// countingListener counts the LDAP messages clients send the embedded
// directory, by following the BER framing of each LDAPMessage (RFC 4511
// §4.1.1) on the wire: binds, searches and unbinds all count.
type countingListener struct {
	net.Listener
	n *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, n: l.n}, nil
}

type countingConn struct {
	net.Conn
	n    *atomic.Int64
	hdr  []byte // the tag and length octets of the next message so far
	skip int64  // content octets of the current message still to come
}

func (c *countingConn) Read(p []byte) (int, error) {
	k, err := c.Conn.Read(p)
	c.feed(p[:k])
	return k, err
}

func (c *countingConn) feed(p []byte) {
	for len(p) > 0 {
		if c.skip > 0 {
			k := int(min(c.skip, int64(len(p))))
			c.skip -= int64(k)
			p = p[k:]
			continue
		}
		c.hdr = append(c.hdr, p[0])
		p = p[1:]
		length, ok, bad := berLength(c.hdr)
		switch {
		case bad:
			c.hdr = c.hdr[:0]
		case ok:
			c.n.Add(1)
			c.skip = length
			c.hdr = c.hdr[:0]
		}
	}
}

// berLength decodes the definite length after a tag: ok when hdr holds all
// of it, bad when it is not one LDAP could send.
func berLength(hdr []byte) (length int64, ok, bad bool) {
	if len(hdr) < 2 {
		return 0, false, false
	}
	first := hdr[1]
	if first < 0x80 {
		return int64(first), true, false
	}
	n := int(first & 0x7f)
	if n == 0 || n > 4 {
		return 0, false, true
	}
	if len(hdr) < 2+n {
		return 0, false, false
	}
	for _, b := range hdr[2 : 2+n] {
		length = length<<8 | int64(b)
	}
	return length, true, false
}
