package gateway

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet/config"
	"github.com/signet-dev/signet/sw1"
)

// With FlushInterval 0, a body of unknown length (chunked, not SSE) is still
// flushed after every write: each chunk reaches the client while the
// upstream waits for it to be read.
func TestChunkedStreaming(t *testing.T) {
	next := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-ndjson")
		for i := range 3 {
			fmt.Fprintf(w, "{\"n\":%d}\n", i)
			w.(http.Flusher).Flush()
			select {
			case <-next:
			case <-time.After(10 * time.Second):
				return
			}
		}
	}))
	defer up.Close()
	gw := startGateway(t, baseConfig(up.URL))
	res, err := client.Do(newRequest(t, "GET", presign(t, gw.URL, up.URL+"/stream", "GET", nil, nil), nil))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.ContentLength != -1 {
		t.Fatalf("ContentLength = %d, want -1 (streamed)", res.ContentLength)
	}
	br := bufio.NewReader(res.Body)
	for i := range 3 {
		got := make(chan string, 1)
		go func() { line, _ := br.ReadString('\n'); got <- line }()
		select {
		case line := <-got:
			if want := fmt.Sprintf("{\"n\":%d}\n", i); line != want {
				t.Fatalf("chunk %d = %q, want %q", i, line, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("chunk %d did not arrive while the upstream waited: buffered, not streamed", i)
		}
		next <- struct{}{}
	}
}

// Many config keys load without converting each: a key is found, verified
// and its policy applied on first use, the same pointer every time.
func TestConfigKeysLazy(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") }))
	defer up.Close()
	cfg := baseConfig(up.URL)
	for i := range 2000 {
		cfg.Keys = append(cfg.Keys, config.Key{ID: fmt.Sprintf("k%d", i), Secrets: []string{"s"}, Upstreams: []config.Upstream{{Origin: "https://elsewhere.example"}}})
	}
	g := &Gateway{Now: func() time.Time { return t0 }}
	if err := g.Reload(cfg); err != nil {
		t.Fatal(err)
	}
	st := g.state.Load()
	k1, err := st.keys.Key(context.Background(), "k1999")
	if err != nil {
		t.Fatal(err)
	}
	k2, _ := st.keys.Key(context.Background(), "k1999")
	if k1 != k2 || k1.Upstreams[0].Origin != "https://elsewhere.example" {
		t.Fatalf("Key = %p %+v, then %p", k1, k1, k2)
	}
	if p := g.policyFor(st, k1); p == nil || p.upstreams["https://elsewhere.example"] == nil {
		t.Fatalf("policy = %+v", p)
	}
	if _, err := st.keys.Key(context.Background(), "nope"); err == nil {
		t.Fatal("unknown key found")
	}
	// The key may not reach the test upstream: its policy applies.
	srv := httptest.NewServer(g)
	defer srv.Close()
	u := presign(t, srv.URL, up.URL, "GET", nil, func(o *sw1.PresignOptions) { o.KeyID, o.Secret = "k1999", "s" })
	res, b := do(t, newRequest(t, "GET", u, nil))
	if res.StatusCode != 403 || !strings.Contains(string(b), "forbidden_upstream") {
		t.Fatalf("got %d %s, want 403 forbidden_upstream", res.StatusCode, b)
	}
	dup := baseConfig(up.URL)
	dup.Keys = append(dup.Keys, dup.Keys[0])
	if _, err := New(dup, nil); err == nil {
		t.Fatal("duplicate key id accepted")
	}
}
