package browser_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/signet-dev/signet/config"
	"github.com/signet-dev/signet/gateway"
	"github.com/signet-dev/signet/sw1"
)

const (
	keyID     = "browser-app"
	keySecret = "browser-secret"
	// upstreamToken is what the gateway injects; the page never sees it.
	upstreamToken = "Bearer upstream-token"
)

// TestBrowserSSEThroughGateway runs the browser scenario in real
// headless Chromium. Three servers on 127.0.0.1, three origins: the page,
// Signet's gateway, and an SSE upstream that sends event 1 and then blocks
// until the page has reported event 1. The page fetches the signed URL with
// a custom header (so Chromium sends a CORS preflight), reads the body with
// a ReadableStream and reports each event to its own server. Event 1 can
// only reach the page while the upstream is blocked if the gateway streams;
// a buffering gateway makes the test time out.
func TestBrowserSSEThroughGateway(t *testing.T) {
	bin := os.Getenv("SIGNET_CHROMIUM")
	if bin == "" {
		t.Skip("set SIGNET_CHROMIUM=/usr/bin/chromium to run the browser tests")
	}
	if fi, err := os.Stat(bin); err != nil || fi.IsDir() {
		t.Fatalf("SIGNET_CHROMIUM=%q: not a file (%v); install it with .ci/install-chromium.sh", bin, err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()

	// Unstarted servers: their addresses are known before any handler runs,
	// so the config and the page can name each other's origins.
	up := newSSEUpstream()
	upSrv := httptest.NewUnstartedServer(up)
	gwLog := &lockedBuffer{}
	seen := &requestLog{}
	var gw *gateway.Gateway
	gwSrv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.add(r)
		gw.ServeHTTP(w, r)
	}))
	reports := make(chan report, 64)
	pg := &pageServer{reports: reports, upstream: up}
	pageSrv := httptest.NewUnstartedServer(pg)

	upURL := "http://" + upSrv.Listener.Addr().String()
	gwURL := "http://" + gwSrv.Listener.Addr().String()
	pageURL := "http://" + pageSrv.Listener.Addr().String()

	cfg, err := config.Parse([]byte(fmt.Sprintf(`
keys:
  - id: %s
    secrets: [%q]
    schemes: [sw1]
    max_expires: 10m
    upstreams:
      # Loopback, so refused unless listed: listing it allows it.
      - origin: %q
        headers: { Authorization: %q }
cors:
  allow_origins: [%q]
  allow_headers: ["x-custom"]
  expose_headers: ["X-Request-Id"]
`, keyID, keySecret, upURL, upstreamToken, pageURL)), func(string) string { return "" })
	if err != nil {
		t.Fatalf("config.Parse: %v", err)
	}
	gw, err = gateway.New(cfg, slog.New(slog.NewJSONHandler(gwLog, nil)))
	if err != nil {
		t.Fatalf("gateway.New: %v", err)
	}
	t.Cleanup(func() { _ = gw.Close() })

	now := time.Now()
	presign := func(at time.Time, expires time.Duration) string {
		t.Helper()
		u, err := sw1.Presign(sw1.PresignOptions{
			KeyID: keyID, Secret: keySecret, Gateway: gwURL,
			Target: upURL + "/events?topic=demo", Method: "GET",
			Expires: expires, Time: at,
		})
		if err != nil {
			t.Fatalf("sw1.Presign: %v", err)
		}
		return u
	}
	pg.urls = pageURLs{
		Stream:   presign(now, 5*time.Minute),
		Expired:  presign(now.Add(-time.Hour), time.Minute),
		Tampered: tamper(t, presign(now, 5*time.Minute)),
	}

	// Every server closes after the upstream is released (cleanups run
	// last in, first out), so a failed test does not wait on the blocked
	// upstream handler.
	upSrv.Start()
	t.Cleanup(upSrv.Close)
	gwSrv.Start()
	t.Cleanup(gwSrv.Close)
	pageSrv.Start()
	t.Cleanup(pageSrv.Close)
	t.Cleanup(up.releaseNow)

	// Any connection Chromium tries to a host other than 127.0.0.1 lands
	// here (IP literals bypass the resolver rules); it is refused and logged.
	offBox := &requestLog{}
	blackhole := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		offBox.add(r)
		http.Error(w, "test: no network", http.StatusForbidden)
	}))
	t.Cleanup(blackhole.Close)

	chromeOut := &lockedBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("gateway log:\n%s", gwLog.String())
			t.Logf("chromium output (D-Bus noise removed):\n%s", quiet(chromeOut.String()))
		}
		if got := offBox.list(); len(got) > 0 {
			t.Logf("chromium tried to leave 127.0.0.1 (refused by the test proxy): %q", got)
		}
	})

	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(bin),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-breakpad", true),
		chromedp.Flag("disable-client-side-phishing-detection", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("safebrowsing-disable-auto-update", true),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("use-mock-keychain", true),
		// No name resolves but 127.0.0.1, and everything not on loopback
		// goes to a proxy that refuses it: a broken page cannot reach the
		// network.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"),
		chromedp.ProxyServer(blackhole.URL),
		chromedp.Flag("proxy-bypass-list", "127.0.0.1"),
		chromedp.CombinedOutput(chromeOut),
	)
	defer cancelAlloc()
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()
	// Listen starts the browser, so its error is Chromium failing to start.
	start := time.Now()
	err = chromedp.Listen(browserCtx, func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			var args []string
			for _, a := range ev.Args {
				args = append(args, string(a.Value))
			}
			t.Logf("page console.%s: %s", ev.Type, strings.Join(args, " "))
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			desc := ""
			if d.Exception != nil {
				desc = d.Exception.Description
			}
			t.Logf("page exception at %d:%d: %s %s", d.LineNumber+1, d.ColumnNumber+1, d.Text, desc)
		}
	})
	if err != nil {
		t.Fatalf("chromium: start: %v", err)
	}

	t.Logf("chromium started in %v", time.Since(start).Round(time.Millisecond))
	start = time.Now()
	res, err := chromedp.Run(browserCtx, chromedp.NavigateResponse(pageURL+"/"))
	if err != nil {
		t.Fatalf("chromium: navigate: %v", err)
	}
	if res.Status != http.StatusOK {
		t.Fatalf("chromium: the page answered %d %s", res.Status, res.StatusText)
	}
	t.Logf("page loaded in %v", time.Since(start).Round(time.Millisecond))

	var (
		stream   *report
		events   []report
		cases    = map[string]report{}
		finished bool
	)
	for !finished {
		select {
		case <-ctx.Done():
			// A gateway that buffers the SSE response ends here: event 1
			// cannot reach the page while the upstream waits for it.
			t.Fatalf("timed out waiting for the page (stream response: %v, events: %v, error cases: %v)", stream != nil, events, cases)
		case rep := <-reports:
			switch rep.Kind {
			case "response":
				stream = &rep
			case "event":
				events = append(events, rep)
			case "stream-end":
			case "error-case":
				cases[rep.Name] = rep
			case "done":
				finished = true
			case "error":
				t.Fatalf("page failed: %s", rep.Message)
			default:
				t.Fatalf("page sent an unknown report %+v", rep)
			}
		}
	}
	t.Logf("page finished %v after navigation", time.Since(start).Round(time.Millisecond))

	t.Run("stream", func(t *testing.T) {
		if stream == nil {
			t.Fatal("no response report for the signed SSE URL")
		}
		if stream.Status != http.StatusOK {
			t.Fatalf("status = %d, want 200", stream.Status)
		}
		if !strings.HasPrefix(stream.ContentType, "text/event-stream") {
			t.Errorf("content-type = %q, want text/event-stream", stream.ContentType)
		}
		if stream.RequestID == "" {
			t.Error("X-Request-Id not readable by the page (cors.expose_headers)")
		}
		var data []string
		for _, e := range events {
			data = append(data, e.Data)
		}
		if want := []string{"event 1", "event 2"}; !slices.Equal(data, want) {
			t.Fatalf("events = %q, want %q in order", data, want)
		}
		if !events[0].UpstreamBlocked {
			t.Error("event 1 reached the page only after the upstream had finished: the gateway buffered the response")
		}
		t.Logf("event 1 at %.0f ms, event 2 at %.0f ms (page clock)", events[0].At, events[1].At)
	})

	t.Run("preflight", func(t *testing.T) {
		var preflights, gets int
		for _, r := range seen.list() {
			switch {
			case strings.HasPrefix(r, "OPTIONS ") && strings.Contains(strings.ToLower(r), "x-custom"):
				preflights++
			case strings.HasPrefix(r, "GET "):
				gets++
			}
		}
		if preflights == 0 {
			t.Errorf("the gateway saw no CORS preflight (OPTIONS asking for x-custom); requests: %q", seen.list())
		}
		if gets != 3 {
			t.Errorf("the gateway saw %d GETs, want 3 (stream, expired, tampered); requests: %q", gets, seen.list())
		}
	})

	t.Run("upstream", func(t *testing.T) {
		got := up.requests()
		if len(got) != 1 {
			t.Fatalf("upstream saw %d requests, want 1 (refused URLs must not be forwarded): %+v", len(got), got)
		}
		r := got[0]
		if r.URI != "/events?topic=demo" {
			t.Errorf("upstream URI = %q, want %q (X-Sw-* parameters stripped)", r.URI, "/events?topic=demo")
		}
		if r.Authorization != upstreamToken {
			t.Errorf("upstream Authorization = %q, want the injected %q", r.Authorization, upstreamToken)
		}
		if r.Custom != "1" {
			t.Errorf("upstream X-Custom = %q, want %q", r.Custom, "1")
		}
	})

	for _, tc := range []struct{ name, code string }{
		{"expired", "expired"},
		{"tampered", "signature_mismatch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, ok := cases[tc.name]
			if !ok {
				t.Fatalf("no report for the %s URL", tc.name)
			}
			if rep.FetchError != "" {
				t.Fatalf("fetch threw %q: the error response is not readable cross-origin (missing CORS headers?)", rep.FetchError)
			}
			if rep.Status != http.StatusUnauthorized {
				t.Errorf("status = %d, want 401", rep.Status)
			}
			if rep.Body == nil {
				t.Fatalf("body is not JSON: %q", rep.Text)
			}
			if got := rep.Body["error"]; got != tc.code {
				t.Errorf("body error = %v, want %q (body %q)", got, tc.code, rep.Text)
			}
			if msg, _ := rep.Body["message"].(string); msg == "" {
				t.Errorf("body has no message: %q", rep.Text)
			}
			if strings.Contains(rep.Text, keySecret) {
				t.Errorf("error body leaks the secret: %q", rep.Text)
			}
		})
	}
}

// tamper changes one hex digit of the URL's X-Sw-Signature in place,
// leaving every other byte (and so the rest of the canonical request) as
// signed.
func tamper(t *testing.T, u string) string {
	t.Helper()
	const param = "X-Sw-Signature="
	i := strings.Index(u, param)
	if i < 0 || i+len(param) >= len(u) {
		t.Fatalf("no %s in %q", param, u)
	}
	j := i + len(param)
	b := []byte(u)
	if b[j] == '0' {
		b[j] = '1'
	} else {
		b[j] = '0'
	}
	return string(b)
}

// sseUpstream sends event 1, then blocks until released (or its request
// ends), then sends event 2 and finishes.
type sseUpstream struct {
	release  chan struct{}
	once     sync.Once
	blocked  atomic.Bool // event 1 sent and flushed, event 2 not yet
	mu       sync.Mutex
	received []upstreamRequest
}

type upstreamRequest struct {
	URI, Authorization, Custom string
}

func newSSEUpstream() *sseUpstream { return &sseUpstream{release: make(chan struct{})} }

func (u *sseUpstream) releaseNow() { u.once.Do(func() { close(u.release) }) }

func (u *sseUpstream) requests() []upstreamRequest {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.received)
}

func (u *sseUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u.mu.Lock()
	u.received = append(u.received, upstreamRequest{
		URI: r.URL.RequestURI(), Authorization: r.Header.Get("Authorization"), Custom: r.Header.Get("X-Custom"),
	})
	u.mu.Unlock()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	fmt.Fprint(w, "id: 1\ndata: event 1\n\n")
	if err := rc.Flush(); err != nil {
		return
	}
	u.blocked.Store(true)
	defer u.blocked.Store(false)
	select {
	case <-u.release:
	case <-r.Context().Done():
		return
	case <-time.After(45 * time.Second):
		return
	}
	fmt.Fprint(w, "id: 2\ndata: event 2\n\n")
}

// report is what the page POSTs to its server at each step.
type report struct {
	Kind        string         `json:"kind"` // response, event, stream-end, error-case, done, error
	Name        string         `json:"name"`
	Status      int            `json:"status"`
	ContentType string         `json:"contentType"`
	RequestID   string         `json:"requestId"`
	Data        string         `json:"data"`
	At          float64        `json:"at"` // performance.now() on the page
	Body        map[string]any `json:"body"`
	Text        string         `json:"text"`
	FetchError  string         `json:"fetchError"`
	Message     string         `json:"message"`

	// UpstreamBlocked is set by the page server when the report arrives:
	// the upstream had sent event 1 and was still waiting to send event 2.
	UpstreamBlocked bool `json:"-"`
}

type pageURLs struct {
	Stream, Expired, Tampered string
}

// pageServer serves the page and receives its reports. On the report of
// event 1 it releases the upstream.
type pageServer struct {
	urls     pageURLs
	upstream *sseUpstream
	reports  chan<- report
}

func (p *pageServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := pageTemplate.Execute(w, p.urls); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	case r.Method == http.MethodPost && r.URL.Path == "/report":
		var rep report
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&rep); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if rep.Kind == "event" && rep.Data == "event 1" {
			// Judge before releasing: the page has event 1 and the
			// upstream has not sent event 2.
			rep.UpstreamBlocked = p.upstream.blocked.Load()
			p.upstream.releaseNow()
		}
		select {
		case p.reports <- rep:
			w.WriteHeader(http.StatusNoContent)
		case <-r.Context().Done():
		}
	default:
		http.NotFound(w, r)
	}
}

// pageTemplate is the browser side. html/template JS-escapes the URLs.
var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<meta charset="utf-8">
<title>signet browser test</title>
<script>
const urls = {stream: {{.Stream}}, expired: {{.Expired}}, tampered: {{.Tampered}}};
const custom = {headers: {'X-Custom': '1'}}; // not CORS-safelisted: forces a preflight

async function report(o) {
  const r = await fetch('/report', {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(o)});
  if (!r.ok) throw new Error('report failed: ' + r.status);
}

async function stream() {
  const r = await fetch(urls.stream, custom);
  await report({kind: 'response', status: r.status, contentType: r.headers.get('Content-Type') || '',
                requestId: r.headers.get('X-Request-Id') || ''});
  const reader = r.body.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  for (;;) {
    const {value, done} = await reader.read();
    if (done) break;
    buf += decoder.decode(value, {stream: true}).replace(/\r\n?/g, '\n');
    let i;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const data = block.split('\n').filter(l => l.startsWith('data:')).map(l => l.slice(5).trim()).join('\n');
      await report({kind: 'event', data, at: performance.now()});
    }
  }
  await report({kind: 'stream-end'});
}

async function failing(name, url) {
  let r;
  try {
    r = await fetch(url, custom);
  } catch (e) {
    await report({kind: 'error-case', name, fetchError: String(e)});
    return;
  }
  const text = await r.text();
  let body = null;
  try { body = JSON.parse(text); } catch (e) {}
  await report({kind: 'error-case', name, status: r.status, body, text});
}

(async () => {
  try {
    await stream();
    await failing('expired', urls.expired);
    await failing('tampered', urls.tampered);
    await report({kind: 'done'});
  } catch (e) {
    await report({kind: 'error', message: String(e && e.stack || e)});
  }
})();
</script>
`))

// requestLog records "METHOD URI ACRH" of each request, for assertions.
type requestLog struct {
	mu   sync.Mutex
	reqs []string
}

func (l *requestLog) add(r *http.Request) {
	line := r.Method + " " + r.URL.Host + r.URL.Path
	if r.Method == http.MethodConnect {
		line = r.Method + " " + r.Host
	}
	if h := r.Header.Get("Access-Control-Request-Headers"); h != "" {
		line += " [" + h + "]"
	}
	l.mu.Lock()
	l.reqs = append(l.reqs, line)
	l.mu.Unlock()
}

func (l *requestLog) list() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.reqs)
}

// quiet drops Chromium's D-Bus complaints (there is no bus in CI) and keeps
// the last 8 KiB.
func quiet(out string) string {
	var keep []string
	for line := range strings.Lines(out) {
		if !strings.Contains(line, "dbus") {
			keep = append(keep, line)
		}
	}
	s := strings.Join(keep, "")
	if len(s) > 8<<10 {
		s = "...\n" + s[len(s)-8<<10:]
	}
	return s
}

// lockedBuffer is a bytes.Buffer safe for the writers of several goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
