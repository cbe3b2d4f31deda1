package graph

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"
)

// maxResponseBody bounds what the client reads of one answer. A page of 999
// users with many properties is a few MB.
const maxResponseBody = 64 << 20

// finalError marks a failure that happened before the request left (no
// token, unencodable batch): never retried, never an unknown outcome.
type finalError struct{ error }

func (e finalError) Unwrap() error { return e.error }

// sendOne sends a call on its own. The exchange is bound to the caller's
// context as well as the client's, since nobody else waits on it.
func (c *Client) sendOne(cl *call) attempt {
	ctx, cancel := context.WithTimeout(cl.ctx, c.timeout)
	defer cancel()
	stop := context.AfterFunc(c.ctx, cancel)
	defer stop()

	target := cl.req.rawURL
	if target == "" {
		target = c.base + cl.req.relativeURL()
	}
	start := c.clock.Now()
	status, header, body, token, err := c.exchange(ctx, cl.req.Method, target, cl.req.Header, cl.req.body)
	dur := c.clock.Now().Sub(start)
	c.metrics.ObserveHTTP(0, status, dur)
	c.observeLatency(dur, err)
	if err != nil {
		err = wrapFailure(cl.req, err)
		c.logRequest(cl.req, status, "", dur, 0, false, err)
		return attempt{c: cl, err: err, ru: estimateRU(cl.req)}
	}
	return c.answer(cl, status, header, body, token, dur, false)
}

// sendBatch sends calls (2 to 20, grouped by unit, dependency order) as one
// $batch and pairs each with its answer.
func (c *Client) sendBatch(calls []*call) []attempt {
	out := make([]attempt, len(calls))
	payload, err := encodeBatch(calls)
	if err != nil {
		for i, cl := range calls {
			out[i] = attempt{c: cl, err: finalError{err}}
		}
		return out
	}
	ctx, cancel := context.WithTimeout(c.ctx, c.timeout)
	defer cancel()
	start := c.clock.Now()
	status, header, body, token, err := c.exchange(ctx, http.MethodPost, c.base+"/$batch", nil, payload)
	dur := c.clock.Now().Sub(start)
	c.metrics.ObserveHTTP(len(calls), status, dur)
	c.observeLatency(dur, err)
	if err == nil && status != http.StatusOK {
		// The batch as a whole was refused (429, 401, 5xx, 400): every
		// request in it shares that answer.
		for i, cl := range calls {
			out[i] = c.answer(cl, status, header, body, token, dur, true)
		}
		return out
	}
	var answers []*batchAnswer
	if err == nil {
		answers, err = decodeBatch(body, calls)
	}
	for i, cl := range calls {
		switch {
		case err != nil:
			ferr := wrapFailure(cl.req, err)
			c.logRequest(cl.req, status, "", dur, 0, true, ferr)
			out[i] = attempt{c: cl, err: ferr, ru: estimateRU(cl.req)}
		case answers[i] == nil:
			out[i] = attempt{c: cl, err: &TransportError{Method: cl.req.Method, Path: cl.req.Template, Err: errNoAnswer}, ru: estimateRU(cl.req)}
		default:
			a := answers[i]
			h := a.header()
			// Graph gives the inner answers of a $batch no request-id of
			// their own; the batch's is the one Microsoft support can trace,
			// and the audit log must name one for every write.
			if h.Get("request-id") == "" && header.Get("request-id") != "" {
				h.Set("request-id", header.Get("request-id"))
			}
			out[i] = c.answer(cl, a.Status, h, a.body(), token, dur, true)
		}
	}
	return out
}

// answer turns one request's status, headers and body into an attempt, and
// records it: metrics, log, pacing correction, token invalidation.
func (c *Client) answer(cl *call, status int, h http.Header, body []byte, token string, dur time.Duration, batched bool) attempt {
	ru := resourceUnitsOf(h)
	charged := ru
	if ru == 0 {
		charged = estimateRU(cl.req)
	}
	resp := &Response{Status: status, Header: h, Body: body, RequestID: h.Get("request-id"), ResourceUnits: ru}
	c.metrics.ObserveRequest(cl.req.Method, cl.req.Template, status, dur, ru)
	c.logRequest(cl.req, status, resp.RequestID, dur, ru, batched, nil)
	if status == http.StatusUnauthorized {
		c.tokens.Invalidate(token)
	}
	if status >= 300 {
		return attempt{c: cl, err: decodeError(cl.req.Method, cl.req.Template, status, h, body), ru: charged}
	}
	return attempt{c: cl, resp: resp, ru: charged}
}

// exchange performs one HTTP request with a bearer token.
func (c *Client) exchange(ctx context.Context, method, target string, extra http.Header, body []byte) (int, http.Header, []byte, string, error) {
	token, err := c.tokens.Token(ctx)
	if err != nil {
		return 0, nil, nil, "", finalError{fmt.Errorf("graph: %w", err)}
	}
	var rd io.Reader
	if len(body) > 0 {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return 0, nil, nil, token, finalError{err}
	}
	for k, v := range extra {
		req.Header[k] = v
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("client-request-id", c.requestID())
	if len(body) > 0 {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, nil, token, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	if err != nil {
		return 0, nil, nil, token, err
	}
	return resp.StatusCode, resp.Header, data, token, nil
}

// wrapFailure makes a failure without an answer into an error that names
// the request and carries no URL (the url.Error of net/http would print
// query values: UPNs, immutableIds).
func wrapFailure(r *Request, err error) error {
	if _, ok := err.(finalError); ok {
		return err
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return &TransportError{Method: r.Method, Path: r.Template, Err: err}
}

func (c *Client) logRequest(r *Request, status int, requestID string, dur time.Duration, ru int, batched bool, err error) {
	if !c.log.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", r.Method), slog.String("path", r.Template),
		slog.Int("status", status), slog.String("request-id", requestID),
		slog.Duration("duration", dur), slog.Int("resourceUnits", ru), slog.Bool("batched", batched),
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	c.log.LogAttrs(context.Background(), slog.LevelDebug, "graph request", attrs...)
}

// requestID makes a client-request-id (a random UUID), which Graph echoes
// so one request can be followed through its logs.
func (c *Client) requestID() string {
	c.jitter.mu.Lock()
	a, b := c.jitter.rng.Uint64(), c.jitter.rng.Uint64()
	c.jitter.mu.Unlock()
	a = a&^(0xf<<12) | 0x4<<12       // version 4
	b = b&^(0x3<<62) | uint64(1)<<63 // RFC 4122 variant
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", a>>32, (a>>16)&0xffff, a&0xffff, b>>48, b&0xffffffffffff)
}
