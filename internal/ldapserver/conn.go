package ldapserver

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
)

// maxInFlight bounds the operations one connection runs at once; the
// reader stops reading until one finishes, which is back-pressure enough.
const maxInFlight = 32

// oidNoticeOfDisconnection is the unsolicited notification sent before the
// server closes a connection it cannot continue (RFC 4511 §4.4.1).
const oidNoticeOfDisconnection = "1.3.6.1.4.1.1466.20036"

// conn is one client connection. Operations run concurrently, as a client
// may send several before reading any answer (go-ldap does); bind and
// StartTLS wait for the others to finish, as RFC 4511 §4.2.1 requires.
type conn struct {
	srv *Server
	id  uint64
	log *slog.Logger

	nc  net.Conn
	r   *bufio.Reader
	wmu sync.Mutex
	w   *bufio.Writer

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	sem    chan struct{}

	mu       sync.Mutex
	bindDN   string // display form; "" is anonymous
	admin    bool
	tls      bool
	inflight map[int64]context.CancelFunc
	pages    pager
}

func newConn(srv *Server, id uint64, nc net.Conn) *conn {
	ctx, cancel := context.WithCancel(context.Background())
	c := &conn{
		srv: srv, id: id, nc: nc,
		log:      srv.log.With("conn", id, "remote", nc.RemoteAddr().String()),
		r:        bufio.NewReader(nc),
		w:        bufio.NewWriter(nc),
		ctx:      ctx,
		cancel:   cancel,
		sem:      make(chan struct{}, maxInFlight),
		inflight: make(map[int64]context.CancelFunc),
		pages:    newPager(),
	}
	return c
}

// shutdown is called by Server.Close: it unblocks the reader.
func (c *conn) shutdown() {
	c.cancel()
	_ = c.nc.Close()
}

func (c *conn) serve() {
	c.log.Debug("ldap connection opened")
	defer func() {
		// Closing first unblocks operations stuck writing to a client that
		// stopped reading.
		c.cancel()
		_ = c.nc.Close()
		c.wg.Wait()
		c.log.Debug("ldap connection closed")
	}()
	for {
		raw, err := readFrame(c.r)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && c.ctx.Err() == nil {
				c.log.Info("ldap connection dropped", "err", err)
				c.notice(ProtocolError, err.Error())
			}
			return
		}
		req, err := decodeRequest(raw)
		if err != nil {
			c.log.Info("ldap request rejected", "err", err)
			c.notice(ProtocolError, err.Error())
			return
		}
		if !c.route(req) {
			return
		}
	}
}

// route runs req; it returns false when the connection must end.
func (c *conn) route(req *request) bool {
	switch req.op {
	case appUnbindRequest:
		return false
	case appAbandonRequest:
		c.abandon(req)
		return true
	case appBindRequest:
		c.wg.Wait()
		c.guard(req, func() { c.handleBind(req) })
		return true
	case appExtendedRequest:
		if name, _ := str(req.body, 0); name == oidStartTLS {
			c.wg.Wait()
			return c.handleStartTLS(req)
		}
	case appSearchRequest, appModifyRequest, appAddRequest, appDelRequest, appModDNRequest, appCompareRequest:
	default:
		c.log.Info("ldap request with unknown operation", "op", req.op)
		c.notice(ProtocolError, fmt.Sprintf("unknown protocol operation %d", req.op))
		return false
	}
	select {
	case c.sem <- struct{}{}:
	case <-c.ctx.Done():
		return false
	}
	ctx, cancel := context.WithCancel(c.ctx)
	c.mu.Lock()
	c.inflight[req.id] = cancel
	c.mu.Unlock()
	c.wg.Add(1)
	go func() {
		defer func() {
			cancel()
			c.mu.Lock()
			delete(c.inflight, req.id)
			c.mu.Unlock()
			<-c.sem
			c.wg.Done()
		}()
		c.guard(req, func() { c.dispatch(ctx, req) })
	}()
	return true
}

// guard turns a panic in a handler into an operationsError for that
// request, so that one bad request cannot take the server down.
func (c *conn) guard(req *request, f func()) {
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("ldap handler panicked", "op", req.op, "panic", fmt.Sprint(r))
			c.reply(req, OperationsError, "", "internal error")
		}
	}()
	f()
}

func (c *conn) dispatch(ctx context.Context, req *request) {
	if ctl := c.unsupportedCritical(req); ctl != "" {
		c.reply(req, UnavailableCriticalExtension, "", fmt.Sprintf("critical control %s is not supported", ctl))
		return
	}
	switch req.op {
	case appSearchRequest:
		c.handleSearch(ctx, req)
	case appModifyRequest:
		c.handleModify(req)
	case appAddRequest:
		c.handleAdd(req)
	case appDelRequest:
		c.handleDelete(req)
	case appModDNRequest:
		c.handleModifyDN(req)
	case appCompareRequest:
		c.handleCompare(req)
	case appExtendedRequest:
		c.handleExtended(req)
	}
}

// unsupportedCritical returns the OID of the first critical control the
// server cannot honour for req (RFC 4511 §4.1.11 asks for
// unavailableCriticalExtension), or "".
func (c *conn) unsupportedCritical(req *request) string {
	for _, ctl := range req.controls {
		if !ctl.critical {
			continue
		}
		switch {
		case ctl.oid == oidManageDsaIT:
			// no referrals are ever returned, so the control is honoured
		case ctl.oid == oidPaging && req.op == appSearchRequest:
		default:
			return ctl.oid
		}
	}
	return ""
}

func (c *conn) abandon(req *request) {
	id, ok := req.body.Value.(int64)
	if !ok {
		id, _ = parseAbandonID(req.body.Data.Bytes())
	}
	c.mu.Lock()
	cancel := c.inflight[id]
	c.mu.Unlock()
	if cancel != nil {
		cancel()
		c.log.Debug("ldap operation abandoned", "msgid", id)
	}
}

// parseAbandonID decodes the bare INTEGER content of an AbandonRequest.
func parseAbandonID(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 8 {
		return 0, false
	}
	var v int64
	for _, x := range b {
		v = v<<8 | int64(x)
	}
	return v, true
}

// state returns the bound DN and whether it is the administrator.
func (c *conn) state() (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bindDN, c.admin
}

func (c *conn) setBind(dn string, admin bool) {
	c.mu.Lock()
	c.bindDN, c.admin = dn, admin
	c.mu.Unlock()
}

// send writes one message; flush is false while a search streams entries,
// so that they leave in large writes.
func (c *conn) send(msg []byte, flush bool) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if _, err := c.w.Write(msg); err != nil {
		return err
	}
	if flush {
		return c.w.Flush()
	}
	return nil
}

// reply sends the final response of req.
func (c *conn) reply(req *request, code ResultCode, matchedDN, diag string) {
	c.replyWith(req, code, matchedDN, diag, nil, nil)
}

func (c *conn) replyWith(req *request, code ResultCode, matchedDN, diag string, extra, controls []byte) {
	app, ok := responseTag(req.op)
	if !ok {
		return // abandon and unbind have no response
	}
	if err := c.send(message(req.id, result(app, code, matchedDN, diag, extra), controls), true); err != nil {
		c.log.Debug("ldap reply not delivered", "err", err)
	}
}

// replyErr answers with the code of err, an *Error, or operationsError.
func (c *conn) replyErr(req *request, err error) {
	var le *Error
	if errors.As(err, &le) {
		c.reply(req, le.Code, le.MatchedDN, le.Msg)
		return
	}
	c.log.Error("ldap operation failed", "op", req.op, "err", err)
	c.reply(req, OperationsError, "", "internal error")
}

func (c *conn) notice(code ResultCode, diag string) {
	extra := octets(nil, ctxPrim(10), oidNoticeOfDisconnection)
	_ = c.send(message(0, result(appExtendedResponse, code, "", diag, extra), nil), true)
}

func responseTag(op int) (int, bool) {
	switch op {
	case appBindRequest:
		return appBindResponse, true
	case appSearchRequest:
		return appSearchDone, true
	case appModifyRequest:
		return appModifyResponse, true
	case appAddRequest:
		return appAddResponse, true
	case appDelRequest:
		return appDelResponse, true
	case appModDNRequest:
		return appModDNResponse, true
	case appCompareRequest:
		return appCompareResponse, true
	case appExtendedRequest:
		return appExtendedResponse, true
	}
	return 0, false
}
