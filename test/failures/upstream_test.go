package failures_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signet-dev/signet"
)

func wantCode(t *testing.T, res *http.Response, status int, code string) {
	t.Helper()
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var eb signet.ErrorBody
	_ = json.Unmarshal(b, &eb)
	if res.StatusCode != status || eb.Error != code {
		t.Errorf("got %d %q, want %d %q (%s)", res.StatusCode, eb.Error, status, code, b)
	}
}

func TestUpstreamRefusesConnections(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := "http://" + l.Addr().String()
	l.Close() // nothing listens there now: connection refused
	e := newEnv(t, "", addr)
	res, err := e.get(addr + "/x")
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, res, 502, "upstream_unreachable")
	if !e.waitLog(`"outcome":"upstream_unreachable"`) {
		t.Errorf("no log line:\n%s", e.logs)
	}
}

func TestUpstreamHeaderTimeout(t *testing.T) {
	release := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer up.Close()
	defer close(release)
	e := newEnv(t, "  upstream_response_header_timeout: 200ms\n", up.URL)
	start := time.Now()
	res, err := e.get(up.URL + "/slow")
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, res, 504, "upstream_timeout")
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("504 after %v, want about 200ms", d)
	}
}

// The upstream dies after part of the body: the client must see an error,
// never a clean EOF (which would pass a truncated body off as complete), the
// gateway logs it, and nothing leaks.
func TestUpstreamDiesMidStream(t *testing.T) {
	for _, chunked := range []bool{false, true} {
		name := "content-length"
		if chunked {
			name = "chunked"
		}
		t.Run(name, func(t *testing.T) {
			up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if !chunked {
					w.Header().Set("Content-Length", "1048576")
				}
				_, _ = w.Write(make([]byte, 64<<10))
				w.(http.Flusher).Flush()
				time.Sleep(20 * time.Millisecond)
				panic(http.ErrAbortHandler) // drop the connection mid-body
			}))
			defer up.Close()
			e := newEnv(t, "", up.URL)
			check := goroutineBaseline(t, 3, e.client.CloseIdleConnections, func() { _ = e.gw.Close() }, up.CloseClientConnections)
			for range 5 {
				res, err := e.get(up.URL + "/stream")
				if err != nil {
					t.Fatal(err)
				}
				if res.StatusCode != 200 {
					t.Fatalf("status %d", res.StatusCode)
				}
				n, err := io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if err == nil {
					t.Errorf("clean EOF after %d bytes of a body cut mid-stream", n)
				}
			}
			if !e.waitLog(`"level":"WARN"`, `"upstream_aborted"`) {
				t.Errorf("the gateway did not log the cut stream as a warning:\n%s", e.logs)
			}
			check()
		})
	}
}

// A huge body sent slowly streams through with flat memory.
func TestUpstreamHugeSlowBody(t *testing.T) {
	size := int64(64 << 20)
	if longRun() {
		size = 1 << 30
	}
	chunk := make([]byte, 256<<10)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", itoa(size))
		for sent := int64(0); sent < size; sent += int64(len(chunk)) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
			if sent%(8<<20) == 0 {
				time.Sleep(time.Millisecond) // slow, in bursts
			}
		}
	}))
	defer up.Close()
	e := newEnv(t, "", up.URL)
	base := heapInuse()
	hs := sampleHeap(5 * time.Millisecond)
	start := time.Now()
	res, err := e.get(up.URL + "/huge")
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, res.Body)
	res.Body.Close()
	peak := hs.Stop()
	if err != nil || n != size {
		t.Fatalf("read %d of %d: %v", n, size, err)
	}
	growth := int64(peak) - int64(base)
	t.Logf("%d MiB in %v; heap in use: baseline %d KiB, peak %d KiB (+%d KiB)", size>>20, time.Since(start).Round(time.Millisecond), base>>10, peak>>10, growth>>10)
	if growth > 16<<20 {
		t.Errorf("heap grew by %d MiB streaming %d MiB: not flat", growth>>20, size>>20)
	}
}

func itoa(n int64) string { return strings.TrimSpace(strings.Repeat(" ", 0) + formatInt(n)) }

func formatInt(n int64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

// The upstream closes keep-alive connections at random, idle or right
// after answering: idempotent requests are retried on a fresh connection,
// and none fails.
func TestUpstreamClosesKeepAliveAtRandom(t *testing.T) {
	var mu sync.Mutex
	conns := map[net.Conn]bool{}
	up := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rand.IntN(4) == 0 {
			w.Header().Set("Connection", "close")
		}
		_, _ = io.WriteString(w, "ok")
	}))
	up.Config.ConnState = func(c net.Conn, s http.ConnState) {
		mu.Lock()
		defer mu.Unlock()
		switch s {
		case http.StateIdle:
			conns[c] = true
		case http.StateActive, http.StateClosed, http.StateHijacked:
			delete(conns, c)
		}
	}
	up.Start()
	defer up.Close()
	stop := make(chan struct{})
	killerDone := make(chan struct{})
	go func() { // close idle connections at random moments
		defer close(killerDone)
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Duration(rand.IntN(3000)) * time.Microsecond):
			}
			mu.Lock()
			for c := range conns {
				if rand.IntN(2) == 0 {
					_ = c.Close()
					delete(conns, c)
				}
			}
			mu.Unlock()
		}
	}()
	e := newEnv(t, "", up.URL)
	var failed atomic.Int64
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 50 {
				res, err := e.get(up.URL + "/k")
				if err != nil {
					failed.Add(1)
					t.Errorf("worker %d request %d: %v", w, i, err)
					continue
				}
				b, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != 200 || string(b) != "ok" {
					failed.Add(1)
					t.Errorf("worker %d request %d: %d %s", w, i, res.StatusCode, b)
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	<-killerDone
	t.Logf("400 requests, %d failed", failed.Load())
}

// A client that reads an SSE stream very slowly: the upstream is
// back-pressured (its writes block once the buffers between are full) and
// the gateway's memory stays bounded.
func TestSlowSSEReader(t *testing.T) {
	var written atomic.Int64
	upDone := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(upDone)
		w.Header().Set("Content-Type", "text/event-stream")
		ev := []byte("data: " + strings.Repeat("e", 1000) + "\n\n")
		for {
			if _, err := w.Write(ev); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			written.Add(int64(len(ev)))
			if r.Context().Err() != nil {
				return
			}
		}
	}))
	defer up.Close()
	e := newEnv(t, "", up.URL)
	base := heapInuse()
	res, err := e.get(up.URL + "/events")
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReaderSize(res.Body, 1024)
	// Read a little, very slowly.
	for range 5 {
		if _, err := br.ReadString('\n'); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	w1 := written.Load()
	time.Sleep(500 * time.Millisecond)
	w2 := written.Load()
	heap := heapInuse()
	t.Logf("upstream wrote %d KiB while the client read ~5 KiB; then %d more bytes in 500ms; heap +%d KiB", w1>>10, w2-w1, (int64(heap)-int64(base))>>10)
	// Kernel socket buffers on two hops plus the proxy's 32 KiB buffer:
	// a few MiB at most. Without back-pressure it would be gigabytes.
	if w2 > 32<<20 {
		t.Errorf("the upstream wrote %d MiB to a client that read 5 KiB: no back-pressure", w2>>20)
	}
	if w2-w1 > 1<<20 {
		t.Errorf("the upstream kept writing (%d bytes in 500ms) while the client did not read", w2-w1)
	}
	if growth := int64(heap) - int64(base); growth > 16<<20 {
		t.Errorf("heap grew by %d MiB", growth>>20)
	}
	res.Body.Close()
	select {
	case <-upDone:
	case <-time.After(5 * time.Second):
		t.Error("the upstream handler did not end after the client left")
	}
}

// A client that disconnects mid-stream cancels the upstream request.
func TestClientDisconnectCancelsUpstream(t *testing.T) {
	canceled := make(chan error, 1)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: first\n\n")
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
			canceled <- r.Context().Err()
		case <-time.After(10 * time.Second):
			canceled <- errors.New("not canceled within 10s")
		}
	}))
	defer up.Close()
	e := newEnv(t, "", up.URL)
	check := goroutineBaseline(t, 3, e.client.CloseIdleConnections, func() { _ = e.gw.Close() })
	res, err := e.get(up.URL + "/events")
	if err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(res.Body).ReadString('\n')
	if err != nil || line != "data: first\n" {
		t.Fatalf("%q %v", line, err)
	}
	res.Body.Close() // the client goes away mid-stream
	e.client.CloseIdleConnections()
	select {
	case err := <-canceled:
		if !errors.Is(err, errCanceled(err)) || err == nil || strings.Contains(err.Error(), "not canceled") {
			t.Errorf("upstream: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no word from the upstream")
	}
	check()
}

func errCanceled(err error) error { return err }
