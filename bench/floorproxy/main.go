// Command floorproxy is the least a proxy built like Signet can do: a
// net/http server whose handler forwards every request to one upstream
// through Signet's upstream transport (internal/h1) and copies the answer
// back. No verification, no header policy, no logging, no metrics.
//
// bench/run.sh measures it beside Signet in scenario 1 as "go-floor": the
// throughput net/http's server allows a proxy on this machine. Signet's
// ratio to it is what Signet's own work costs; its ratio to nginx is what
// the HTTP stack costs. It is a benchmark peer only, never a gateway: it
// checks nothing.
package main

import (
	"context"
	"flag"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"time"

	"github.com/signet-dev/signet/internal/h1"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18106", "listen address (loopback)")
	upstream := flag.String("upstream", "http://127.0.0.1:18101", "upstream origin (loopback)")
	useRP := flag.Bool("reverseproxy", false, "forward with httputil.ReverseProxy (over the same transport) instead of the minimal handler")
	flag.Parse()

	up, err := url.Parse(*upstream)
	if err != nil || up.Scheme != "http" || up.Host == "" {
		log.Fatalf("floorproxy: -upstream must be an http:// origin, got %q", *upstream)
	}
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	loopbackOnly := func(ctx context.Context, network, a string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(a)
		if err != nil {
			return nil, err
		}
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			return nil, &net.AddrError{Err: "floorproxy dials loopback only", Addr: a}
		}
		return dialer.DialContext(ctx, network, a)
	}
	p := &proxy{
		origin: up,
		rt: &h1.Transport{
			DialContext:         loopbackOnly,
			Fallback:            &http.Transport{DialContext: loopbackOnly, MaxIdleConnsPerHost: 256},
			MaxIdleConnsPerHost: 256,
			IdleConnTimeout:     5 * time.Minute,
		},
	}
	var h http.Handler = p
	if *useRP {
		h = &httputil.ReverseProxy{
			Transport:  p.rt,
			BufferPool: bufferPool{},
			Rewrite:    func(pr *httputil.ProxyRequest) { pr.SetURL(up); pr.Out.Host = "" },
		}
	}
	srv := &http.Server{
		Addr:              *addr,
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       5 * time.Minute,
	}
	log.Fatal(srv.ListenAndServe())
}

type proxy struct {
	origin *url.URL
	rt     http.RoundTripper
}

var bufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// bufferPool lends ReverseProxy the same pooled buffers.
type bufferPool struct{}

func (bufferPool) Get() []byte  { return *bufs.Get().(*[]byte) }
func (bufferPool) Put(b []byte) { bufs.Put(&b) }

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u := *p.origin
	u.Path, u.RawPath, u.RawQuery = r.URL.Path, r.URL.RawPath, r.URL.RawQuery
	out, err := http.NewRequestWithContext(r.Context(), r.Method, u.String(), nil)
	if err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	if r.ContentLength != 0 {
		out.Body, out.ContentLength = r.Body, r.ContentLength
	}
	resp, err := p.rt.RoundTrip(out)
	if err != nil {
		http.Error(w, "bad gateway", http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	h := w.Header()
	for k, vs := range resp.Header {
		h[k] = vs
	}
	w.WriteHeader(resp.StatusCode)
	b := bufs.Get().(*[]byte)
	defer bufs.Put(b)
	io.CopyBuffer(w, resp.Body, *b)
}
