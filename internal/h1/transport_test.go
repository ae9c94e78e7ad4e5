package h1

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// loopbackDial dials only loopback addresses, whatever a test asks.
func loopbackDial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("test dialer: %s is not loopback", addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

// recordingFallback notes the requests handed to it.
type recordingFallback struct {
	mu   sync.Mutex
	reqs []*http.Request
	base http.RoundTripper
}

func (f *recordingFallback) RoundTrip(r *http.Request) (*http.Response, error) {
	f.mu.Lock()
	f.reqs = append(f.reqs, r)
	f.mu.Unlock()
	if f.base == nil {
		return nil, errors.New("fallback called")
	}
	return f.base.RoundTrip(r)
}

func (f *recordingFallback) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.reqs)
}

// server is an httptest server counting the connections it accepted.
type server struct {
	*httptest.Server
	conns  atomic.Int32
	closed chan struct{} // one per closed connection
}

func newServer(t *testing.T, h http.HandlerFunc) *server {
	t.Helper()
	s := &server{closed: make(chan struct{}, 64)}
	s.Server = httptest.NewUnstartedServer(h)
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		switch st {
		case http.StateNew:
			s.conns.Add(1)
		case http.StateClosed:
			select {
			case s.closed <- struct{}{}:
			default:
			}
		}
	}
	s.Start()
	t.Cleanup(s.Close)
	return s
}

func newTransport(fb http.RoundTripper) *Transport {
	tr := &Transport{DialContext: loopbackDial, MaxIdleConnsPerHost: 4}
	if fb == nil {
		fb = &recordingFallback{}
	}
	tr.Fallback = fb
	return tr
}

func get(t *testing.T, tr http.RoundTripper, method, url string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("%s %s: body: %v", method, url, err)
	}
	return resp, string(b)
}

func TestReusesConnections(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/chunked":
			w.Header().Set("Trailer", "X-Sum")
			w.Write([]byte("a"))
			w.(http.Flusher).Flush()
			w.Write([]byte("b"))
			w.Header().Set("X-Sum", "2")
		case "/empty":
			w.WriteHeader(http.StatusNoContent)
		case "/hints":
			w.Header().Set("Link", "</a.css>; rel=preload")
			w.WriteHeader(http.StatusEarlyHints)
			w.Write([]byte("after hints"))
		default:
			fmt.Fprintf(w, "%s %s %s", r.Method, r.URL.RequestURI(), r.Header.Get("X-In"))
		}
	})
	tr := newTransport(nil)
	defer tr.CloseIdleConnections()
	for i, tc := range []struct {
		method, path string
		status       int
		body         string
		trailer      string
	}{
		{"GET", "/a?x=1", 200, "GET /a?x=1 ", ""},
		{"HEAD", "/a", 200, "", ""},
		{"GET", "/chunked", 200, "ab", "2"},
		{"GET", "/empty", 204, "", ""},
		{"DELETE", "/b", 200, "DELETE /b ", ""},
		{"GET", "/hints", 200, "after hints", ""},
	} {
		resp, body := get(t, tr, tc.method, s.URL+tc.path)
		if resp.StatusCode != tc.status || body != tc.body || resp.Trailer.Get("X-Sum") != tc.trailer {
			t.Errorf("%d %s %s: %d %q trailer %q, want %d %q %q", i, tc.method, tc.path, resp.StatusCode, body, resp.Trailer.Get("X-Sum"), tc.status, tc.body, tc.trailer)
		}
	}
	if n := s.conns.Load(); n != 1 {
		t.Errorf("sequential requests used %d connections, want 1", n)
	}
}

func TestFallback(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) { io.Copy(w, r.Body) })
	fb := &recordingFallback{base: &http.Transport{DialContext: loopbackDial}}
	tr := newTransport(fb)
	for _, tc := range []struct {
		name string
		req  func() *http.Request
	}{
		{"body", func() *http.Request {
			r, _ := http.NewRequest("POST", s.URL, strings.NewReader("hi"))
			return r
		}},
		{"chunked", func() *http.Request {
			r, _ := http.NewRequest("POST", s.URL, io.NopCloser(strings.NewReader("hi")))
			return r
		}},
		{"upgrade", func() *http.Request {
			r, _ := http.NewRequest("GET", s.URL, nil)
			r.Header.Set("Connection", "Upgrade")
			r.Header.Set("Upgrade", "websocket")
			return r
		}},
		{"close", func() *http.Request {
			r, _ := http.NewRequest("GET", s.URL, nil)
			r.Close = true
			return r
		}},
		{"https", func() *http.Request {
			r, _ := http.NewRequest("GET", strings.Replace(s.URL, "http:", "https:", 1), nil)
			return r
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := fb.count()
			resp, err := tr.RoundTrip(tc.req())
			if err == nil {
				resp.Body.Close()
			}
			if fb.count() != before+1 {
				t.Errorf("not handed to the fallback")
			}
		})
	}
	get(t, tr, "GET", s.URL)
	if fb.count() != 5 {
		t.Errorf("a plain GET went to the fallback")
	}
}

// rawServer accepts connections on loopback and runs serve on each.
func rawServer(t *testing.T, serve func(c net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				serve(c)
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

// readRequest reads one request head from br.
func readRequest(br *bufio.Reader) (*http.Request, error) {
	return http.ReadRequest(br)
}

func TestRetriesClosedIdleConnection(t *testing.T) {
	var accepted atomic.Int32
	// Each connection answers one request, keeps the socket open as if
	// reusable, then closes it without answering the next one.
	url := rawServer(t, func(c net.Conn) {
		accepted.Add(1)
		br := bufio.NewReader(c)
		if _, err := readRequest(br); err != nil {
			return
		}
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		readRequest(br) // the reuse: closed unanswered
	})
	for _, tc := range []struct {
		method    string
		header    string
		wantRetry bool
	}{
		{"GET", "", true},
		{"HEAD", "", true},
		{"POST", "", false},
		{"POST", "Idempotency-Key", true},
	} {
		t.Run(tc.method+tc.header, func(t *testing.T) {
			tr := newTransport(nil)
			defer tr.CloseIdleConnections()
			get(t, tr, "GET", url)
			req, _ := http.NewRequest(tc.method, url, nil)
			if tc.header != "" {
				req.Header.Set(tc.header, "1")
			}
			resp, err := tr.RoundTrip(req)
			if tc.wantRetry {
				if err != nil {
					t.Fatalf("reused closed connection: %v, want a retry", err)
				}
				resp.Body.Close()
				return
			}
			if err == nil {
				resp.Body.Close()
				t.Fatal("non-idempotent request retried")
			}
			if !errors.Is(err, errReusedConnFailed) {
				t.Errorf("error %v does not say the reused connection failed", err)
			}
		})
	}
}

func TestFailures(t *testing.T) {
	silent := rawServer(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		readRequest(br)
		io.Copy(io.Discard, br) // never answers
	})
	huge := rawServer(t, func(c net.Conn) {
		readRequest(bufio.NewReader(c))
		io.WriteString(c, "HTTP/1.1 200 OK\r\n")
		line := "X-Big: " + strings.Repeat("a", 1000) + "\r\n"
		for range 2000 {
			if _, err := io.WriteString(c, line); err != nil {
				return
			}
		}
	})
	garbage := rawServer(t, func(c net.Conn) {
		readRequest(bufio.NewReader(c))
		io.WriteString(c, "NOT HTTP\r\n\r\n")
	})
	switching := rawServer(t, func(c net.Conn) {
		readRequest(bufio.NewReader(c))
		io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\n")
	})
	for _, tc := range []struct {
		name  string
		url   string
		check func(error) bool
	}{
		{"header timeout", silent, isTimeout},
		{"header too large", huge, func(err error) bool { return errors.Is(err, ErrHeaderTooLarge) }},
		{"not HTTP", garbage, func(err error) bool { return err != nil }},
		{"unasked 101", switching, func(err error) bool { return err != nil && strings.Contains(err.Error(), "101") }},
		{"refused", "http://127.0.0.1:1", func(err error) bool { return err != nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTransport(nil)
			tr.ResponseHeaderTimeout = 100 * time.Millisecond
			tr.MaxResponseHeaderBytes = 64 << 10
			req, _ := http.NewRequest("GET", tc.url, nil)
			resp, err := tr.RoundTrip(req)
			if err == nil {
				resp.Body.Close()
			}
			if !tc.check(err) {
				t.Errorf("error %v", err)
			}
		})
	}
}

func TestCancel(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/head" {
			<-release
		}
		w.Write([]byte("first"))
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	tr := newTransport(nil)
	for _, path := range []string{"/head", "/body"} {
		t.Run(path, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			req, _ := http.NewRequestWithContext(ctx, "GET", s.URL+path, nil)
			if path == "/head" {
				time.AfterFunc(50*time.Millisecond, cancel)
				_, err := tr.RoundTrip(req)
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("canceled while waiting for headers: %v", err)
				}
				return
			}
			resp, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 5)
			if _, err := io.ReadFull(resp.Body, buf); err != nil {
				t.Fatal(err)
			}
			cancel()
			if _, err := io.ReadAll(resp.Body); err == nil {
				t.Error("body read after cancel ended cleanly")
			}
			resp.Body.Close()
		})
	}
	tr.mu.Lock()
	n := len(tr.idle)
	tr.mu.Unlock()
	if n != 0 {
		t.Errorf("a canceled connection went back to the pool")
	}
}

func TestNotReused(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/close" {
			w.Header().Set("Connection", "close")
		}
		w.Write([]byte(strings.Repeat("x", 100)))
	})
	for _, tc := range []struct {
		name string
		use  func(tr *Transport)
	}{
		{"connection close", func(tr *Transport) { get(t, tr, "GET", s.URL+"/close") }},
		{"body closed early", func(tr *Transport) {
			req, _ := http.NewRequest("GET", s.URL, nil)
			resp, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Read(make([]byte, 10))
			resp.Body.Close()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTransport(nil)
			defer tr.CloseIdleConnections()
			before := s.conns.Load()
			tc.use(tr)
			get(t, tr, "GET", s.URL)
			if n := s.conns.Load() - before; n != 2 {
				t.Errorf("%d connections, want 2 (no reuse)", n)
			}
		})
	}
}

func TestIdlePool(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	closed := s.closed
	t.Run("cap", func(t *testing.T) {
		tr := newTransport(nil)
		tr.MaxIdleConnsPerHost = 1
		defer tr.CloseIdleConnections()
		var resps []*http.Response
		for range 3 {
			req, _ := http.NewRequest("GET", s.URL, nil)
			resp, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resps = append(resps, resp)
		}
		for _, r := range resps {
			io.ReadAll(r.Body)
			r.Body.Close()
		}
		for range 2 {
			<-closed // two of three closed: the pool keeps one
		}
		tr.mu.Lock()
		n := 0
		for _, l := range tr.idle {
			n += len(l)
		}
		tr.mu.Unlock()
		if n != 1 {
			t.Errorf("%d idle connections, want 1", n)
		}
		tr.CloseIdleConnections()
		<-closed
	})
	t.Run("timeout", func(t *testing.T) {
		tr := newTransport(nil)
		tr.IdleConnTimeout = 20 * time.Millisecond
		get(t, tr, "GET", s.URL)
		<-closed // the sweep closes it
		tr.mu.Lock()
		n := len(tr.idle)
		tr.mu.Unlock()
		if n != 0 {
			t.Errorf("swept pool still lists %d hosts", n)
		}
	})
}

func TestUnsolicitedDataDiscards(t *testing.T) {
	var accepted atomic.Int32
	url := rawServer(t, func(c net.Conn) {
		accepted.Add(1)
		br := bufio.NewReader(c)
		for {
			if _, err := readRequest(br); err != nil {
				return
			}
			// The answer, then bytes nobody asked for.
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n")
		}
	})
	tr := newTransport(nil)
	defer tr.CloseIdleConnections()
	for range 2 {
		if _, body := get(t, tr, "GET", url); body != "ok" {
			t.Fatalf("body %q", body)
		}
		time.Sleep(10 * time.Millisecond) // let the stray bytes arrive
	}
	if accepted.Load() < 2 {
		t.Errorf("a connection with unsolicited data was reused")
	}
}

// pipeDial serves every dial from fn over an in-memory pipe: fuzzing never
// touches the network.
func pipeDial(fn func(c net.Conn)) func(context.Context, string, string) (net.Conn, error) {
	return func(context.Context, string, string) (net.Conn, error) {
		client, server := net.Pipe()
		go func() {
			defer server.Close()
			fn(server)
		}()
		return client, nil
	}
}

func FuzzResponse(f *testing.F) {
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
	f.Add([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nX: y\r\n\r\n"))
	f.Add([]byte("HTTP/1.1 103 Early Hints\r\nLink: x\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n"))
	f.Add([]byte("HTTP/1.0 200 OK\r\n\r\nuntil close"))
	f.Add([]byte("HTTP/1.1 101 Switching Protocols\r\n\r\n"))
	f.Fuzz(func(t *testing.T, answer []byte) {
		tr := &Transport{
			DialContext: pipeDial(func(c net.Conn) {
				br := bufio.NewReader(c)
				if _, err := readRequest(br); err != nil {
					return
				}
				c.Write(answer)
			}),
			Fallback:               &recordingFallback{},
			ResponseHeaderTimeout:  time.Second,
			MaxResponseHeaderBytes: 4 << 10,
		}
		defer tr.CloseIdleConnections()
		for range 2 {
			req, _ := http.NewRequest("GET", "http://upstream.test/", nil)
			resp, err := tr.RoundTrip(req)
			if err != nil {
				continue
			}
			if resp.StatusCode < 100 || resp.StatusCode == 101 {
				t.Fatalf("status %d returned", resp.StatusCode)
			}
			io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
		}
	})
}
