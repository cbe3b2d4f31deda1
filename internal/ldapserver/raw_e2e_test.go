package ldapserver_test

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"

	"github.com/o365prov/o365prov/internal/ldapserver"
)

// These tests speak the protocol byte by byte, for what go-ldap cannot
// send: abandon, pipelined requests, garbage.

func envelope(id int64, op *ber.Packet) []byte {
	p := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "LDAPMessage")
	p.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, id, "id"))
	p.AppendChild(op)
	return p.Bytes()
}

func bindOp(dn, password string) *ber.Packet {
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, ldap.ApplicationBindRequest, nil, "bind")
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, 3, "version"))
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, dn, "dn"))
	op.AppendChild(ber.NewString(ber.ClassContext, ber.TypePrimitive, 0, password, "password"))
	return op
}

func searchOp(t *testing.T, baseDN string) *ber.Packet {
	t.Helper()
	req := search(baseDN, ldap.ScopeWholeSubtree, "(objectClass=*)", "*")
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, ldap.ApplicationSearchRequest, nil, "search")
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, req.BaseDN, "base"))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, int64(req.Scope), "scope"))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, 0, "deref"))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, 0, "size"))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, 0, "time"))
	op.AppendChild(ber.NewBoolean(ber.ClassUniversal, ber.TypePrimitive, ber.TagBoolean, false, "typesOnly"))
	f, err := ldap.CompileFilter(req.Filter)
	if err != nil {
		t.Fatal(err)
	}
	op.AppendChild(f)
	attrs := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "attrs")
	for _, a := range req.Attributes {
		attrs.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, a, "attr"))
	}
	op.AppendChild(attrs)
	return op
}

func rawDial(t *testing.T, e *env) (net.Conn, *bufio.Reader) {
	t.Helper()
	nc, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(30 * time.Second))
	return nc, bufio.NewReader(nc)
}

// read returns the message ID and protocolOp tag of the next response.
func read(t *testing.T, r *bufio.Reader) (int64, ber.Tag, *ber.Packet) {
	t.Helper()
	p, err := ber.ReadPacket(r)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	return p.Children[0].Value.(int64), p.Children[1].Tag, p.Children[1]
}

// addBigEntries adds n entries of 64 KiB each: enough bytes to fill the
// socket buffers with few entries. The value is binary so that storing it
// costs no preparation.
func addBigEntries(t *testing.T, e *env, n int) {
	t.Helper()
	photo := strings.Repeat("\xff", 64<<10)
	for i := range n {
		cn := fmt.Sprintf("big%d", i)
		if err := e.srv.Add("cn="+cn+",ou=groups,dc=example,dc=com", map[string][]string{
			"objectClass": {"device"}, "cn": {cn}, "jpegPhoto": {photo},
		}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAbandonStopsASearchAndKeepsTheConnection(t *testing.T) {
	const entries = 500 // 32 MiB of results
	e := start(t, smallLDIF, ldapserver.Options{})
	addBigEntries(t, e, entries)
	nc, r := rawDial(t, e)
	abandon := ber.NewInteger(ber.ClassApplication, ber.TypePrimitive, ldap.ApplicationAbandonRequest, int64(2), "abandon")
	var out []byte
	out = append(out, envelope(1, bindOp(adminDN, adminPW))...)
	if _, err := nc.Write(out); err != nil {
		t.Fatal(err)
	}
	if id, tag, _ := read(t, r); id != 1 || tag != ldap.ApplicationBindResponse {
		t.Fatalf("bind response: id %d tag %d", id, tag)
	}
	// A bind waits for every operation in flight (RFC 4511 §4.2.1), so its
	// response comes only once the search has ended, abandoned or not.
	out = append(envelope(2, searchOp(t, "ou=groups,dc=example,dc=com")), envelope(3, abandon)...)
	out = append(out, envelope(4, bindOp(adminDN, adminPW))...)
	if _, err := nc.Write(out); err != nil {
		t.Fatal(err)
	}
	got := 0
	for {
		id, tag, _ := read(t, r)
		switch {
		case id == 2 && tag == ldap.ApplicationSearchResultEntry:
			got++
		case id == 2 && tag == ldap.ApplicationSearchResultDone:
			t.Fatalf("the abandoned search completed (%d entries)", got)
		case id == 4 && tag == ldap.ApplicationBindResponse:
			if got >= entries {
				t.Fatalf("all %d entries were sent", got)
			}
			return
		default:
			t.Fatalf("unexpected response id %d tag %d", id, tag)
		}
	}
}

func TestGarbageGetsANoticeOfDisconnectionAndOthersCarryOn(t *testing.T) {
	e := start(t, smallLDIF, ldapserver.Options{})
	other := e.admin(t)
	nc, r := rawDial(t, e)
	if _, err := nc.Write([]byte("\x16\x03\x01 this is TLS, not LDAP")); err != nil {
		t.Fatal(err)
	}
	id, tag, op := read(t, r)
	if id != 0 || tag != ldap.ApplicationExtendedResponse {
		t.Fatalf("got id %d tag %d, want an unsolicited notification", id, tag)
	}
	if name := op.Children[3].Data.String(); name != "1.3.6.1.4.1.1466.20036" {
		t.Errorf("notification %q, want notice of disconnection", name)
	}
	if _, err := ber.ReadPacket(r); err == nil {
		t.Error("the connection stayed open after the notice")
	}
	if _, err := other.Search(search(base, ldap.ScopeBaseObject, "(objectClass=*)")); err != nil {
		t.Errorf("another connection failed: %v", err)
	}
}

func TestCloseDoesNotWaitForIdleClients(t *testing.T) {
	e := start(t, smallLDIF, ldapserver.Options{})
	idle := e.admin(t)
	done := make(chan error, 1)
	go func() { done <- e.srv.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close is waiting for an idle client")
	}
	if _, err := idle.Search(search(base, ldap.ScopeBaseObject, "(objectClass=*)")); err == nil {
		t.Error("the idle client's connection still works after Close")
	}
}
