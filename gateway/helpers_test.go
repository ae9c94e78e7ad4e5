package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/signet-dev/signet"
	"github.com/signet-dev/signet/config"
	"github.com/signet-dev/signet/sw1"
)

// t0 is the fixed time every test signs and verifies at.
var t0 = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

const (
	testKey    = "app"
	testSecret = "app-secret"
)

// echoed is what the echo upstream saw.
type echoed struct {
	Method string      `json:"method"`
	Host   string      `json:"host"`
	Path   string      `json:"path"`
	Query  string      `json:"query"`
	Header http.Header `json:"header"`
	Body   string      `json:"body"`
}

// echoUpstream answers every request with what it received, as JSON.
func echoUpstream(t *testing.T) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "body: "+err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Access-Control-Allow-Origin", "https://upstream-says.example")
		_ = json.NewEncoder(w).Encode(echoed{
			Method: r.Method, Host: r.Host, Path: r.URL.EscapedPath(), Query: r.URL.RawQuery,
			Header: r.Header, Body: string(body),
		})
	}))
	t.Cleanup(s.Close)
	return s
}

// baseConfig is the defaults plus one key that may reach the given origins,
// injecting Authorization there.
func baseConfig(origins ...string) *config.Config {
	c := config.Default()
	k := config.Key{ID: testKey, Secrets: []string{"old-secret", testSecret}}
	for _, o := range origins {
		k.Upstreams = append(k.Upstreams, config.Upstream{Origin: o, Headers: map[string]string{"Authorization": "Bearer injected"}})
	}
	c.Keys = []config.Key{k}
	return c
}

// dialLog records every dial that passed the guard, and refuses those not
// to 127.0.0.1 so that no test sends a packet off the machine.
type dialLog struct {
	mu    sync.Mutex
	addrs []string
}

func (d *dialLog) control(_, address string, _ syscall.RawConn) error {
	d.mu.Lock()
	d.addrs = append(d.addrs, address)
	d.mu.Unlock()
	if host, _, _ := net.SplitHostPort(address); host != "127.0.0.1" {
		return fmt.Errorf("test: refusing to dial %s", address)
	}
	return nil
}

func (d *dialLog) list() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.addrs...)
}

type testGateway struct {
	*Gateway
	URL   string
	dials *dialLog
	logs  *bytes.Buffer
	logMu *sync.Mutex
}

func (tg *testGateway) logText() string {
	tg.logMu.Lock()
	defer tg.logMu.Unlock()
	return tg.logs.String()
}

// waitLog waits for a log line containing want: the request line is
// written when the handler returns, which may be after the client has read
// the answer.
func (tg *testGateway) waitLog(t *testing.T, want string) string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		logs := tg.logText()
		if strings.Contains(logs, want) || time.Now().After(deadline) {
			return logs
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// startGateway serves cfg at a fixed clock behind an httptest front end.
func startGateway(t *testing.T, cfg *config.Config) *testGateway {
	t.Helper()
	tg := &testGateway{Gateway: &Gateway{}, dials: &dialLog{}, logs: &bytes.Buffer{}, logMu: &sync.Mutex{}}
	tg.Logger = slog.New(slog.NewJSONHandler(lockedWriter{tg.logMu, tg.logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	tg.Now = func() time.Time { return t0 }
	tg.dialControl = tg.dials.control
	if err := tg.Reload(cfg); err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(tg)
	t.Cleanup(front.Close)
	t.Cleanup(func() { _ = tg.Close() })
	tg.URL = front.URL
	return tg
}

// client only dials 127.0.0.1.
var client = &http.Client{
	Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, _, _ := net.SplitHostPort(addr)
			if host != "127.0.0.1" {
				return nil, errors.New("test client: refusing " + addr)
			}
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	},
	Timeout: 10 * time.Second,
}

func presign(t *testing.T, gw, target, method string, body []byte, mutate func(*sw1.PresignOptions)) string {
	t.Helper()
	o := sw1.PresignOptions{KeyID: testKey, Secret: testSecret, Gateway: gw, Target: target, Method: method, Body: body, Time: t0.Add(-time.Minute)}
	if mutate != nil {
		mutate(&o)
	}
	u, err := sw1.Presign(o)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func do(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, b
}

func newRequest(t *testing.T, method, url string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func decodeEcho(t *testing.T, b []byte) echoed {
	t.Helper()
	var e echoed
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("upstream answer %q: %v", b, err)
	}
	return e
}

// wantError checks a JSON error answer.
func wantError(t *testing.T, res *http.Response, body []byte, status int, code string) {
	t.Helper()
	if res.StatusCode != status {
		t.Errorf("status = %d, want %d (body %s)", res.StatusCode, status, body)
	}
	var eb signet.ErrorBody
	if err := json.Unmarshal(body, &eb); err != nil {
		t.Fatalf("error body %q is not JSON: %v", body, err)
	}
	if eb.Error != code {
		t.Errorf("error = %q, want %q (message %q)", eb.Error, code, eb.Message)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	if strings.Contains(string(body), testSecret) {
		t.Errorf("error body leaks the secret: %s", body)
	}
}
