// Command upstream is the benchmark suite's origin server: the physical limit
// every proxy is compared with. It listens on a loopback address and serves
//
//	/small          64 bytes
//	/big?mb=N       N MiB streamed from one reused buffer (Content-Length set)
//	/sse?n=K&ms=D   K server-sent events, one every D ms; each event's data is
//	                its send time in Unix nanoseconds, so a client can measure
//	                the latency a proxy adds
//	/echo           the request body, streamed back
//
// Any other path gets 404. Queries other than the ones above are ignored, so
// nginx secure_link parameters (md5, expires) reach it harmlessly.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18101", "listen address (loopback)")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "upstream: listening on %s\n", ln.Addr())
	srv := &http.Server{Handler: handler(), ReadHeaderTimeout: 10 * time.Second}
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

// small is the /small answer: 64 bytes, newline-terminated.
var small = []byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\n")

// chunk is the reused /big buffer: 64 KiB of 'x'.
var chunk = func() []byte {
	b := make([]byte, 64<<10)
	for i := range b {
		b[i] = 'x'
	}
	return b
}()

func handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/small", func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Content-Type"] = []string{"text/plain"}
		h["Content-Length"] = []string{"64"}
		_, _ = w.Write(small)
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		mb, err := strconv.Atoi(r.URL.Query().Get("mb"))
		if err != nil || mb < 0 || mb > 64<<10 {
			http.Error(w, "mb: 0..65536", http.StatusBadRequest)
			return
		}
		total := int64(mb) << 20
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.FormatInt(total, 10))
		for sent := int64(0); sent < total; sent += int64(len(chunk)) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("/sse", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		n, err1 := strconv.Atoi(q.Get("n"))
		ms, err2 := strconv.Atoi(q.Get("ms"))
		if err1 != nil || err2 != nil || n < 0 || n > 1_000_000 || ms < 0 || ms > 60_000 {
			http.Error(w, "n: 0..1000000, ms: 0..60000", http.StatusBadRequest)
			return
		}
		fl, ok := w.(http.Flusher)
		if !ok {
			http.Error(w, "no flusher", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-cache")
		w.WriteHeader(http.StatusOK)
		fl.Flush()
		tick := time.NewTicker(time.Duration(max(ms, 1)) * time.Millisecond)
		defer tick.Stop()
		buf := make([]byte, 0, 64)
		for i := 0; i < n; i++ {
			if ms > 0 {
				select {
				case <-tick.C:
				case <-r.Context().Done():
					return
				}
			}
			buf = append(buf[:0], "data: "...)
			buf = strconv.AppendInt(buf, time.Now().UnixNano(), 10)
			buf = append(buf, "\n\n"...)
			if _, err := w.Write(buf); err != nil {
				return
			}
			fl.Flush()
		}
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		if ct := r.Header.Get("Content-Type"); ct != "" {
			w.Header().Set("Content-Type", ct)
		}
		if r.ContentLength >= 0 {
			w.Header().Set("Content-Length", strconv.FormatInt(r.ContentLength, 10))
		}
		_, _ = io.Copy(w, r.Body)
	})
	return mux
}
