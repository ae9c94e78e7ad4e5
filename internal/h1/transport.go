// Package h1 is an HTTP/1.1 client transport for plain-HTTP upstreams that
// runs each exchange on the caller's goroutine.
//
// net/http's Transport gives every connection a reader and a writer
// goroutine and hands each request and response between them and the
// caller over channels: four goroutine switches per exchange. On a proxy's
// hot path, on small machines, those switches (and the futex wake-ups they
// cost) were the largest cost after the syscalls themselves. This transport
// writes the request and reads the response where RoundTrip is called,
// with net/http's own wire code (Request.Write, ReadResponse), so the wire
// format is the standard library's.
//
// It takes only what it can do that way: http:// requests without a body
// and without an upgrade. Everything else (TLS, HTTP/2, request bodies,
// WebSockets) goes to Fallback, a net/http Transport.
package h1

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// Transport is an http.RoundTripper. Its zero value is not usable: set
// Fallback and DialContext.
type Transport struct {
	// DialContext dials the upstream (the caller's SSRF guard lives here).
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// Fallback serves every request this transport does not take.
	Fallback http.RoundTripper
	// MaxIdleConnsPerHost bounds the idle connections kept per host:port.
	// Zero means 2, as net/http.
	MaxIdleConnsPerHost int
	// IdleConnTimeout closes connections idle for longer. Zero means 90 s.
	IdleConnTimeout time.Duration
	// ResponseHeaderTimeout bounds the wait for the response headers once
	// the request is written. Zero means no limit.
	ResponseHeaderTimeout time.Duration
	// MaxResponseHeaderBytes bounds the response head. Zero means 1 MiB.
	MaxResponseHeaderBytes int64

	mu    sync.Mutex
	idle  map[string][]*conn
	sweep *time.Timer
}

// ErrHeaderTooLarge is returned when the upstream's response head is over
// MaxResponseHeaderBytes.
var ErrHeaderTooLarge = errors.New("h1: response headers too large")

// errReusedConnFailed marks a failure on a connection from the idle pool
// before any byte of the response arrived: the upstream had closed it, so
// the request is retried once on a new connection.
var errReusedConnFailed = errors.New("h1: reused connection failed")

// takes reports whether RoundTrip handles req itself.
func takes(req *http.Request) bool {
	return req.URL.Scheme == "http" &&
		(req.Body == nil || req.Body == http.NoBody) &&
		req.ContentLength == 0 && len(req.TransferEncoding) == 0 &&
		req.Header.Get("Upgrade") == "" &&
		!req.Close
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !takes(req) {
		return t.Fallback.RoundTrip(req)
	}
	addr := canonicalAddr(req)
	c, reused, err := t.get(req.Context(), addr)
	if err != nil {
		return nil, err
	}
	resp, err := t.exchange(c, req, reused)
	if errors.Is(err, errReusedConnFailed) && replayable(req) {
		// As net/http: an idle connection the upstream closed is not the
		// upstream's answer. A new one is.
		if c, err = t.dial(req.Context(), addr); err != nil {
			return nil, err
		}
		resp, err = t.exchange(c, req, false)
	}
	if err != nil {
		return nil, err
	}
	return resp, nil
}

func replayable(req *http.Request) bool {
	switch req.Method {
	case "GET", "HEAD", "OPTIONS", "TRACE", "":
		return true
	}
	return req.Header.Get("Idempotency-Key") != "" || req.Header.Get("X-Idempotency-Key") != ""
}

// canonicalAddr is the host:port dialed for req, as net/http computes it.
func canonicalAddr(req *http.Request) string {
	host, port := req.URL.Hostname(), req.URL.Port()
	if port == "" {
		port = "80"
	}
	return net.JoinHostPort(host, port)
}

// conn is one upstream connection.
type conn struct {
	nc     net.Conn
	lr     limitedReader
	br     *bufio.Reader
	bw     *bufio.Writer
	addr   string
	idleAt time.Time
}

// limitedReader bounds what the response head may read; the body is
// bounded by its own framing.
type limitedReader struct {
	r io.Reader
	n int64 // < 0: no limit
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n < 0 {
		return l.r.Read(p)
	}
	if l.n == 0 {
		return 0, ErrHeaderTooLarge
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

func (t *Transport) dial(ctx context.Context, addr string) (*conn, error) {
	nc, err := t.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	c := &conn{nc: nc, addr: addr}
	c.lr = limitedReader{r: nc, n: -1}
	c.br = bufio.NewReaderSize(&c.lr, 4<<10)
	c.bw = bufio.NewWriterSize(nc, 4<<10)
	return c, nil
}

// get returns an idle connection to addr, or a new one.
func (t *Transport) get(ctx context.Context, addr string) (*conn, bool, error) {
	timeout := t.idleTimeout()
	now := time.Now()
	t.mu.Lock()
	for {
		list := t.idle[addr]
		if len(list) == 0 {
			break
		}
		c := list[len(list)-1]
		list[len(list)-1] = nil
		t.idle[addr] = list[:len(list)-1]
		if now.Sub(c.idleAt) > timeout || c.br.Buffered() > 0 {
			// Too old, or the upstream said something unasked.
			c.nc.Close()
			continue
		}
		t.mu.Unlock()
		return c, true, nil
	}
	t.mu.Unlock()
	c, err := t.dial(ctx, addr)
	return c, false, err
}

func (t *Transport) idleTimeout() time.Duration {
	if t.IdleConnTimeout > 0 {
		return t.IdleConnTimeout
	}
	return 90 * time.Second
}

// put returns c to the idle pool, or closes it when the pool is full.
func (t *Transport) put(c *conn) {
	max := t.MaxIdleConnsPerHost
	if max <= 0 {
		max = 2
	}
	c.idleAt = time.Now()
	t.mu.Lock()
	if len(t.idle[c.addr]) >= max {
		t.mu.Unlock()
		c.nc.Close()
		return
	}
	if t.idle == nil {
		t.idle = make(map[string][]*conn)
	}
	t.idle[c.addr] = append(t.idle[c.addr], c)
	if t.sweep == nil {
		t.sweep = time.AfterFunc(t.idleTimeout(), t.sweepIdle)
	}
	t.mu.Unlock()
}

// sweepIdle closes connections idle for longer than IdleConnTimeout, so an
// idle pool does not hold sockets forever.
func (t *Transport) sweepIdle() {
	timeout := t.idleTimeout()
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for addr, list := range t.idle {
		keep := list[:0]
		for _, c := range list {
			if now.Sub(c.idleAt) > timeout {
				c.nc.Close()
				continue
			}
			keep = append(keep, c)
		}
		clear(list[len(keep):])
		if len(keep) == 0 {
			delete(t.idle, addr)
			continue
		}
		t.idle[addr] = keep
		n += len(keep)
	}
	t.sweep = nil
	if n > 0 {
		t.sweep = time.AfterFunc(timeout, t.sweepIdle)
	}
}

// CloseIdleConnections closes the idle connections of this transport and
// of Fallback.
func (t *Transport) CloseIdleConnections() {
	t.mu.Lock()
	for addr, list := range t.idle {
		for _, c := range list {
			c.nc.Close()
		}
		delete(t.idle, addr)
	}
	t.mu.Unlock()
	if ci, ok := t.Fallback.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}

// aLongTimeAgo is a deadline in the past: it makes blocked I/O return now.
var aLongTimeAgo = time.Unix(1, 0)

// exchange writes req on c and reads the response head. On success the
// response body owns c; on failure c is closed. A failure of a reused
// connection before any response byte wraps errReusedConnFailed.
func (t *Transport) exchange(c *conn, req *http.Request, reused bool) (*http.Response, error) {
	ctx := req.Context()
	// Cancellation (the client went away) unblocks whatever I/O is
	// pending, until the body is done with.
	stop := context.AfterFunc(ctx, func() { c.nc.SetDeadline(aLongTimeAgo) })
	fail := func(err error, beforeResponse bool) (*http.Response, error) {
		stop()
		c.nc.Close()
		if ctxErr := ctx.Err(); ctxErr != nil {
			err = fmt.Errorf("%w (%w)", ctxErr, err)
		} else if reused && beforeResponse && !isTimeout(err) {
			err = fmt.Errorf("%w: %w", errReusedConnFailed, err)
		}
		return nil, err
	}
	if err := req.Write(c.bw); err != nil {
		return fail(err, true)
	}
	if err := c.bw.Flush(); err != nil {
		return fail(err, true)
	}
	if t.ResponseHeaderTimeout > 0 {
		c.nc.SetReadDeadline(time.Now().Add(t.ResponseHeaderTimeout))
	}
	max := t.MaxResponseHeaderBytes
	if max <= 0 {
		max = 1 << 20
	}
	c.lr.n = max - int64(c.br.Buffered())
	if _, err := c.br.Peek(1); err != nil {
		return fail(err, true)
	}
	var resp *http.Response
	for {
		var err error
		resp, err = http.ReadResponse(c.br, req)
		if err != nil {
			return fail(err, false)
		}
		if resp.StatusCode < 100 {
			// Three digits, but no status a server may answer: passed
			// on, it would make the proxy's WriteHeader panic.
			return fail(fmt.Errorf("h1: invalid status %03d", resp.StatusCode), false)
		}
		// 1xx answers other than 101 precede the real one (103 Early
		// Hints); 101 is never asked for here.
		if resp.StatusCode >= 200 {
			break
		}
		if resp.StatusCode == http.StatusSwitchingProtocols {
			return fail(errors.New("h1: unexpected 101 Switching Protocols"), false)
		}
	}
	c.lr.n = -1
	if t.ResponseHeaderTimeout > 0 {
		c.nc.SetReadDeadline(time.Time{})
		if ctx.Err() != nil {
			// Canceled meanwhile: the line above undid the cancellation.
			c.nc.SetDeadline(aLongTimeAgo)
		}
	}
	b := &body{rc: resp.Body, c: c, t: t, stop: stop, reusable: !resp.Close}
	if resp.Body == http.NoBody || resp.Body == nil {
		b.rc = http.NoBody
		b.release(true)
		resp.Body = http.NoBody
		return resp, nil
	}
	resp.Body = b
	return resp, nil
}

func isTimeout(err error) bool {
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}

// body is a response body: at EOF its connection goes back to the pool;
// closed before EOF, the connection is closed.
type body struct {
	rc       io.ReadCloser
	c        *conn
	t        *Transport
	stop     func() bool
	reusable bool
	done     bool
	mu       sync.Mutex // Close may race Read (ReverseProxy closes on client abort)
}

func (b *body) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if err == io.EOF {
		b.release(true)
	} else if err != nil {
		b.release(false)
	}
	return n, err
}

func (b *body) Close() error {
	b.release(false)
	return nil
}

// release hands the connection back (atEOF and reusable) or closes it, once.
func (b *body) release(atEOF bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		return
	}
	b.done = true
	// stop reports false when the cancellation already fired: the
	// connection has a past deadline and is not reusable.
	if b.stop() && atEOF && b.reusable {
		b.t.put(b.c)
		return
	}
	b.c.nc.Close()
}

var _ http.RoundTripper = (*Transport)(nil)
