package directory

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/o365prov/o365prov/internal/config"
)

// testLogger logs to the test when -v is given, else discards.
func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() && os.Getenv("DIRECTORY_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func open(t testing.TB, src config.Source, opts ...Option) *Directory {
	t.Helper()
	opts = append([]Option{WithLogger(testLogger(t))}, opts...)
	d, err := Open(ctxT(t), src, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// readAll collects a read into a map by DN.
func readAll(t testing.TB, d *Directory, kind Kind, attrs []string) (map[string]Entry, ReadStats) {
	t.Helper()
	got := map[string]Entry{}
	read := d.Users
	if kind == KindGroup {
		read = d.Groups
	}
	st, err := read(ctxT(t), attrs, func(e Entry) error {
		if _, dup := got[e.DN]; dup {
			t.Errorf("entry %s delivered twice", e.DN)
		}
		got[e.DN] = e
		return nil
	})
	if err != nil {
		t.Fatalf("read %ss: %v", kind, err)
	}
	return got, st
}

func enumerate(t testing.TB, d *Directory, kind Kind) map[string]string {
	t.Helper()
	got := map[string]string{}
	if err := d.Enumerate(ctxT(t), kind, func(guid, dn string) error {
		got[guid] = dn
		return nil
	}); err != nil {
		t.Fatalf("enumerate %ss: %v", kind, err)
	}
	return got
}

func changes(t testing.TB, d *Directory, kind Kind, wm Watermark) ([]Change, Watermark) {
	t.Helper()
	var out []Change
	next, err := d.Changes(ctxT(t), kind, wm, nil, func(c Change) error {
		out = append(out, c)
		return nil
	})
	if err != nil {
		t.Fatalf("Changes: %v", err)
	}
	return out, next
}

func watermark(t testing.TB, d *Directory) Watermark {
	t.Helper()
	wm, err := d.Watermark(ctxT(t))
	if err != nil {
		t.Fatalf("Watermark: %v", err)
	}
	return wm
}

// byKind indexes changes as "kind dn" strings, sorted.
func summary(cs []Change) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Kind.String()+" "+c.Entry.DN)
	}
	sort.Strings(out)
	return out
}

func hasChange(cs []Change, kind ChangeKind, dn string) bool {
	for _, c := range cs {
		if c.Kind == kind && normDN(c.Entry.DN) == normDN(dn) {
			return true
		}
	}
	return false
}

// faultProxy forwards TCP to a target and can stall or cut the server's
// side after a number of bytes, to turn a read into a partial one.
type faultProxy struct {
	target  string
	cutAt   atomic.Int64 // close both sides once this many server bytes passed (0: never)
	stallAt atomic.Int64 // stop forwarding server bytes after this many (0: never)
	down    atomic.Bool  // refuse new connections
	ln      net.Listener
	mu      sync.Mutex
	conns   []net.Conn
}

// setDown cuts every connection and refuses new ones (true), or lets
// them in again (false): a network outage.
func (p *faultProxy) setDown(down bool) {
	p.down.Store(down)
	if down {
		p.mu.Lock()
		for _, c := range p.conns {
			c.Close()
		}
		p.conns = nil
		p.mu.Unlock()
	}
}

func newFaultProxy(t testing.TB, target string) *faultProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{target: target, ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
	})
	return p
}

// dial is a WithDialer that goes through the proxy whatever the address.
func (p *faultProxy) dial(ctx context.Context, network, _ string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, network, p.ln.Addr().String())
}

func (p *faultProxy) serve(c net.Conn) {
	if p.down.Load() {
		c.Close()
		return
	}
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns = append(p.conns, c, s)
	p.mu.Unlock()
	go func() { io.Copy(s, c); s.Close() }()
	var n int64
	buf := make([]byte, 4096)
	for {
		k, err := s.Read(buf)
		if k > 0 {
			if cut := p.cutAt.Load(); cut > 0 && n+int64(k) >= cut {
				c.Write(buf[:max(0, cut-n)])
				c.Close()
				s.Close()
				return
			}
			if stall := p.stallAt.Load(); stall > 0 && n+int64(k) >= stall {
				c.Write(buf[:max(0, stall-n)])
				// Hold the connection open, silent, until the test ends.
				io.Copy(io.Discard, s)
				return
			}
			n += int64(k)
			if _, err := c.Write(buf[:k]); err != nil {
				s.Close()
				return
			}
		}
		if err != nil {
			c.Close()
			return
		}
	}
}

func isErr(err, target error) bool { return errors.Is(err, target) }
