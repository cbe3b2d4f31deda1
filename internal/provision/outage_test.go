package provision_test

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/o365prov/o365prov/internal/engine"
)

// cutProxy forwards LDAP connections and, once armed, cuts each one after
// the server has sent a given number of bytes: a directory that dies in
// the middle of a paged read.
type cutProxy struct {
	l       net.Listener
	backend string
	cut     atomic.Int64 // bytes from the server before cutting; 0: never
	wg      sync.WaitGroup
}

func newCutProxy(t *testing.T, backend string) *cutProxy {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{l: l, backend: backend}
	t.Cleanup(func() { l.Close(); p.wg.Wait() })
	go p.serve()
	return p
}

func (p *cutProxy) addr() string { return p.l.Addr().String() }

func (p *cutProxy) serve() {
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.forward(c)
		}()
	}
}

func (p *cutProxy) forward(c net.Conn) {
	defer c.Close()
	b, err := net.Dial("tcp", p.backend)
	if err != nil {
		return
	}
	defer b.Close()
	go func() { _, _ = io.Copy(b, c); b.Close() }()
	limit := p.cut.Load()
	buf := make([]byte, 512)
	var sent int64
	for {
		n, err := b.Read(buf)
		if n > 0 {
			if limit > 0 && sent+int64(n) > limit {
				_, _ = c.Write(buf[:limit-sent])
				return // cut mid-message
			}
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
			sent += int64(n)
		}
		if err != nil {
			return
		}
	}
}

func TestAnOutageMidReadDeprovisionsNobody(t *testing.T) {
	w := newWorld(t, withLDIF(orgLDIF(40)), withSource("      pageSize: 5\n"))
	w.sync(engine.Full)
	proxy := newCutProxy(t, w.url[len("ldap://"):])
	// The connections o365prov opens from now on die after about two pages.
	proxy.cut.Store(2500)
	w.reconfigure(w.url, "ldap://"+proxy.addr())
	before := w.writes()
	_, err := w.engine().Sync(w.ctx, engine.SyncOptions{Mode: engine.Full})
	if !errors.Is(err, engine.ErrAborted) {
		t.Fatalf("err = %v, want the cycle aborted", err)
	}
	t.Logf("aborted as wanted: %v", err)
	if got := w.writes() - before; got != 0 {
		t.Errorf("%d writes after a partial read, want none", got)
	}
	for i := 0; i < 40; i++ {
		if !w.mustUser(userUPN(i)).AccountEnabled {
			t.Fatalf("user %d deprovisioned after a partial read", i)
		}
	}
	t.Run("the next cycle after the outage works", func(t *testing.T) {
		proxy.cut.Store(0)
		res := w.sync(engine.Full)
		if !res.Plan.Empty() {
			t.Errorf("plan after recovery = %+v", res.Plan.Ops)
		}
	})
}
