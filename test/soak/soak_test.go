package soak_test

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
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/signet-dev/signet/config"
	"github.com/signet-dev/signet/gateway"
	"github.com/signet-dev/signet/reqsig"
	"github.com/signet-dev/signet/sw1"
)

const secret = "soak-secret-2f61"

// TestSoak: a fixed request rate mixing valid SW1 URLs, header-signed
// requests, SSE streams, large downloads and invalid signatures. Zero
// unexpected statuses, every request answered, goroutines and heap back to
// baseline afterwards; p99 latency per kind is logged. 15s by default;
// SIGNET_SOAK=10m for the long form.
func TestSoak(t *testing.T) {
	dur := 15 * time.Second
	if s := os.Getenv("SIGNET_SOAK"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatal(err)
		}
		dur = d
	} else if testing.Short() {
		dur = 3 * time.Second
	}
	const rate = 200 // requests per second
	big := bytes.Repeat([]byte("d"), 1<<20)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		switch {
		case strings.HasSuffix(r.URL.Path, "/sse"):
			w.Header().Set("Content-Type", "text/event-stream")
			for i := range 5 {
				fmt.Fprintf(w, "data: %d\n\n", i)
				w.(http.Flusher).Flush()
				time.Sleep(10 * time.Millisecond)
			}
		case strings.HasSuffix(r.URL.Path, "/big"):
			_, _ = w.Write(big)
		default:
			_, _ = io.WriteString(w, "ok")
		}
	}))
	defer up.Close()
	doc := `
keys:
  - id: app
    secrets: ["` + secret + `"]
    upstreams:
      - origin: "` + up.URL + `"
routes:
  - path: /rs/
    upstream: "` + up.URL + `/rs/"
    schemes: [reqsig]
`
	cfg, err := config.Parse([]byte(doc), nil)
	if err != nil {
		t.Fatal(err)
	}
	gw := &gateway.Gateway{
		Logger: slog.New(slog.DiscardHandler),
		DialControl: func(_, address string, _ syscall.RawConn) error {
			if host, _, _ := net.SplitHostPort(address); host != "127.0.0.1" {
				return fmt.Errorf("soak: refusing %s", address)
			}
			return nil
		},
	}
	if err := gw.Reload(cfg); err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(gw)
	defer front.Close()
	tr := &http.Transport{
		MaxIdleConnsPerHost: 64,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if host, _, _ := net.SplitHostPort(addr); host != "127.0.0.1" {
				return nil, errors.New("refusing " + addr)
			}
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: tr}

	runtime.GC()
	baseG := runtime.NumGoroutine()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	baseHeap := ms.HeapInuse
	baseRSS, haveRSS := rssKiB()

	type kind struct {
		name   string
		status int
		req    func() *http.Request
		check  func([]byte) bool
	}
	presign := func(path string) string {
		u, err := sw1.Presign(sw1.PresignOptions{KeyID: "app", Secret: secret, Gateway: front.URL, Target: up.URL + path})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	newReq := func(u string) *http.Request { r, _ := http.NewRequest("GET", u, nil); return r }
	rs := &reqsig.Signer{KeyID: "app", Secret: secret}
	kinds := []kind{
		{"sw1", 200, func() *http.Request { return newReq(presign("/x")) }, func(b []byte) bool { return string(b) == "ok" }},
		{"reqsig", 200, func() *http.Request {
			r := newReq(front.URL + "/rs/x")
			_ = rs.SignRequest(r)
			return r
		}, func(b []byte) bool { return string(b) == "ok" }},
		{"sse", 200, func() *http.Request { return newReq(presign("/sse")) }, func(b []byte) bool { return bytes.Count(b, []byte("data: ")) == 5 }},
		{"download", 200, func() *http.Request { return newReq(presign("/big")) }, func(b []byte) bool { return len(b) == len(big) }},
		{"invalid", 401, func() *http.Request {
			u := presign("/x")
			return newReq(u[:len(u)-1] + map[bool]string{true: "1", false: "0"}[u[len(u)-1] == '0'])
		}, func(b []byte) bool { return bytes.Contains(b, []byte("signature_mismatch")) }},
	}
	var mu sync.Mutex
	lat := map[string][]time.Duration{}
	var unexpected []string
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Second / rate)
	deadline := time.Now().Add(dur)
	sent := 0
	for now := range tick.C {
		if now.After(deadline) {
			break
		}
		k := kinds[sent%len(kinds)]
		sent++
		wg.Go(func() {
			start := time.Now()
			res, err := client.Do(k.req())
			var b []byte
			if err == nil {
				b, err = io.ReadAll(res.Body)
				res.Body.Close()
			}
			d := time.Since(start)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				unexpected = append(unexpected, k.name+": "+err.Error())
			case res.StatusCode != k.status || !k.check(b):
				unexpected = append(unexpected, fmt.Sprintf("%s: %d %.100q", k.name, res.StatusCode, b))
			default:
				lat[k.name] = append(lat[k.name], d)
			}
		})
	}
	tick.Stop()
	wg.Wait()
	answered := 0
	for _, k := range kinds {
		ds := lat[k.name]
		answered += len(ds)
		slices.Sort(ds)
		if len(ds) > 0 {
			t.Logf("%-8s n=%d p50=%v p99=%v max=%v", k.name, len(ds), ds[len(ds)/2].Round(time.Microsecond), ds[len(ds)*99/100].Round(time.Microsecond), ds[len(ds)-1].Round(time.Microsecond))
		}
	}
	t.Logf("%v at %d req/s: %d sent, %d answered as expected, %d unexpected", dur, rate, sent, answered, len(unexpected))
	for i, u := range unexpected {
		if i == 10 {
			t.Errorf("... and %d more", len(unexpected)-10)
			break
		}
		t.Errorf("unexpected: %s", u)
	}
	if answered != sent {
		t.Errorf("%d of %d requests answered as expected", answered, sent)
	}

	// Back to baseline: goroutines and heap.
	settle := time.Now().Add(10 * time.Second)
	var g int
	for {
		client.CloseIdleConnections()
		_ = gw.Close()
		runtime.GC()
		if g = runtime.NumGoroutine(); g <= baseG+3 || time.Now().After(settle) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	runtime.ReadMemStats(&ms)
	t.Logf("goroutines %d (baseline %d); heap in use %d KiB (baseline %d KiB)", g, baseG, ms.HeapInuse>>10, baseHeap>>10)
	if haveRSS && raceEnabled {
		t.Log("RSS not checked under the race detector (its shadow memory is never given back); make test runs this test without -race too")
	} else if haveRSS {
		// RSS counts what the runtime holds, not only what is live: give
		// back what the GC freed first, as a long-running process would.
		debug.FreeOSMemory()
		rss, _ := rssKiB()
		t.Logf("RSS %d KiB (baseline %d KiB; client, upstream and gateway in one process)", rss, baseRSS)
		if rss > baseRSS+64<<10 {
			t.Errorf("RSS did not return to baseline: %d MiB vs %d MiB", rss>>10, baseRSS>>10)
		}
	}
	if g > baseG+3 {
		var b bytes.Buffer
		_ = pprof.Lookup("goroutine").WriteTo(&b, 1)
		t.Errorf("goroutines did not return to baseline: %d vs %d\n%s", g, baseG, b.String())
	}
	if ms.HeapInuse > baseHeap+32<<20 {
		t.Errorf("heap did not return to baseline: %d MiB vs %d MiB", ms.HeapInuse>>20, baseHeap>>20)
	}
}

// rssKiB is this process's resident set size (VmRSS), where /proc has it.
func rssKiB() (int, bool) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return n, err == nil
		}
	}
	return 0, false
}
