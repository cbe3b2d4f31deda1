package ldapserver

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// persister rewrites the persistence file after changes. mark is called
// with the store's write lock held, so it only signals; one goroutine does
// the writing, and changes that arrive while it writes are coalesced into
// the next write.
type persister struct {
	srv     *Server
	path    string
	signal  chan struct{}
	done    chan struct{}
	mu      sync.Mutex
	closed  bool
	lastErr error
}

func newPersister(srv *Server, path string) *persister {
	p := &persister{srv: srv, path: path, signal: make(chan struct{}, 1), done: make(chan struct{})}
	go p.loop()
	return p
}

func (p *persister) mark() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return // Close writes the final state itself
	}
	select {
	case p.signal <- struct{}{}:
	default:
	}
}

func (p *persister) loop() {
	defer close(p.done)
	for range p.signal {
		p.save()
	}
}

// close stops the writer after a final write, and reports the last failure.
func (p *persister) close() error {
	p.mu.Lock()
	p.closed = true
	close(p.signal)
	p.mu.Unlock()
	<-p.done
	p.save()
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lastErr
}

// save writes the directory to a temporary file and renames it over the
// target, so that a crash never leaves half a file.
func (p *persister) save() {
	err := p.write()
	p.mu.Lock()
	p.lastErr = err
	p.mu.Unlock()
	if err != nil {
		p.srv.log.Error("ldap persistence failed", "path", p.path, "err", err)
	}
}

func (p *persister) write() error {
	tmp, err := os.CreateTemp(filepath.Dir(p.path), filepath.Base(p.path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("persist %s: %w", p.path, err)
	}
	werr := p.srv.WriteLDIF(tmp)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("persist %s: %w", p.path, err)
	}
	if err := os.Rename(tmp.Name(), p.path); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("persist %s: %w", p.path, err)
	}
	return nil
}
