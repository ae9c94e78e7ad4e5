package failures_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/signet-dev/signet/config"
	"github.com/signet-dev/signet/gateway"
	"github.com/signet-dev/signet/sw1"
)

var t0 = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

const secret = "failures-secret-0b7e"

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type env struct {
	t      *testing.T
	gw     *gateway.Gateway
	url    string
	logs   *syncBuffer
	client *http.Client
}

// newEnv serves key "app" allowed to reach every given upstream origin.
func newEnv(t *testing.T, limits string, origins ...string) *env {
	t.Helper()
	doc := "keys:\n  - id: app\n    secrets: [\"" + secret + "\"]\n    upstreams:\n"
	for _, o := range origins {
		doc += "      - origin: \"" + o + "\"\n"
	}
	if limits != "" {
		doc += "limits:\n" + limits
	}
	cfg, err := config.Parse([]byte(doc), nil)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, logs: &syncBuffer{}}
	e.gw = &gateway.Gateway{
		Logger: slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:    func() time.Time { return t0 },
		DialControl: func(_, address string, _ syscall.RawConn) error {
			if host, _, _ := net.SplitHostPort(address); host != "127.0.0.1" {
				return fmt.Errorf("test: refusing to dial %s", address)
			}
			return nil
		},
	}
	if err := e.gw.Reload(cfg); err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(e.gw)
	e.url = front.URL
	e.client = newClient()
	t.Cleanup(func() {
		e.client.CloseIdleConnections()
		front.Close()
		_ = e.gw.Close()
	})
	return e
}

func newClient() *http.Client {
	return &http.Client{
		Timeout: 60 * time.Second,
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				if host, _, _ := net.SplitHostPort(addr); host != "127.0.0.1" {
					return nil, errors.New("test client: refusing " + addr)
				}
				var d net.Dialer
				return d.DialContext(ctx, network, addr)
			},
		},
	}
}

func (e *env) presign(target, method string) string {
	u, err := sw1.Presign(sw1.PresignOptions{KeyID: "app", Secret: secret, Gateway: e.url, Target: target, Method: method, Time: t0.Add(-time.Minute)})
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

func (e *env) get(target string) (*http.Response, error) {
	req, err := http.NewRequest("GET", e.presign(target, "GET"), nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.client.Do(req)
}

// waitLog waits for a log line containing all of want.
func (e *env) waitLog(want ...string) bool {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		for _, line := range strings.Split(e.logs.String(), "\n") {
			ok := true
			for _, w := range want {
				ok = ok && strings.Contains(line, w)
			}
			if ok {
				return true
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}

// goroutineBaseline returns a check that the goroutine count settles back to
// what it is now (within slack), dumping the stacks when it does not.
func goroutineBaseline(t *testing.T, slack int, closeIdle ...func()) func() {
	t.Helper()
	base := runtime.NumGoroutine()
	return func() {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		n := 0
		for time.Now().Before(deadline) {
			for _, f := range closeIdle {
				f()
			}
			runtime.GC()
			if n = runtime.NumGoroutine(); n <= base+slack {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		var b bytes.Buffer
		_ = pprof.Lookup("goroutine").WriteTo(&b, 1)
		t.Errorf("goroutines: %d, baseline %d (+%d): leak?\n%s", n, base, slack, b.String())
	}
}

// heapInuse is the live heap after a GC.
func heapInuse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// heapSampler records the peak HeapInuse while it runs.
type heapSampler struct {
	stop chan struct{}
	done chan struct{}
	peak uint64
}

func sampleHeap(every time.Duration) *heapSampler {
	h := &heapSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(h.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			h.peak = max(h.peak, m.HeapInuse)
			select {
			case <-h.stop:
				return
			case <-t.C:
			}
		}
	}()
	return h
}

func (h *heapSampler) Stop() uint64 {
	close(h.stop)
	<-h.done
	return h.peak
}

func longRun() bool { return os.Getenv("SIGNET_LONG") == "1" }

var _ = io.EOF
