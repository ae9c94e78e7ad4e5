package hostile_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/signet-dev/signet/config"
	"github.com/signet-dev/signet/gateway"
)

// t0 is the gateway's clock: every signature is made relative to it.
var t0 = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

// The secrets and injected values are distinctive so that a scan of
// everything the gateway emits finds them if they leak.
const (
	appSecretOld   = "old-secret-hostile-41d2"
	appSecret      = "app-secret-hostile-9c07"
	openSecret     = "open-secret-hostile-5e88"
	onceSecret     = "once-secret-hostile-a310"
	namedSecret    = "named-secret-hostile-3b6e"
	injectedAuth   = "Bearer injected-token-51ab"
	injectedAPIKey = "injected-apikey-88cd"
	routeInjected  = "route-injected-value-77f1"
	maxSignedBody  = 1024
)

// edPriv is a fixed Ed25519 key so that runs are reproducible.
var edPriv = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))

// upstreamLog records what the upstream received.
type upstreamLog struct {
	mu   sync.Mutex
	reqs []*http.Request // header and URL only
}

func (u *upstreamLog) add(r *http.Request) {
	u.mu.Lock()
	defer u.mu.Unlock()
	c := r.Clone(context.Background())
	c.Body = nil
	u.reqs = append(u.reqs, c)
}

func (u *upstreamLog) all() []*http.Request {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]*http.Request(nil), u.reqs...)
}

// dialLog records every address that got past the gateway's SSRF guard and
// refuses all of them but 127.0.0.1, so that no test ever sends a packet
// off this machine, even when the guard is broken.
type dialLog struct {
	mu    sync.Mutex
	addrs []string
}

func (d *dialLog) control(_, address string, _ syscall.RawConn) error {
	d.mu.Lock()
	d.addrs = append(d.addrs, address)
	d.mu.Unlock()
	if host, _, _ := net.SplitHostPort(address); host != "127.0.0.1" {
		return fmt.Errorf("hostile test: refusing to dial %s", address)
	}
	return nil
}

func (d *dialLog) since(n int) []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.addrs[n:]...)
}

func (d *dialLog) len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.addrs)
}

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

// env is a gateway with every scheme enabled, in front of a recording
// upstream, all on 127.0.0.1.
type env struct {
	t      *testing.T
	gw     *gateway.Gateway
	url    string // the gateway
	host   string // the gateway's host:port
	up     *httptest.Server
	upLog  *upstreamLog
	dials  *dialLog
	dns    *fakeDNS
	logs   *syncBuffer
	sigs   *sigSet
	client *http.Client
}

// sigSet collects every signature the signers produced, valid or expected:
// none may appear in anything the gateway emits.
type sigSet struct {
	mu sync.Mutex
	m  map[string]bool
}

var sigPatterns = []*regexp.Regexp{
	regexp.MustCompile(`X-Sw-Signature=([0-9a-fA-F]{64})`),
	regexp.MustCompile(`Signature=([A-Za-z0-9_\-+/=]{16,})`), // reqsig, sigv4 header
	regexp.MustCompile(`signature="([A-Za-z0-9+/=]{16,})"`),  // cavage
	regexp.MustCompile(`=:([A-Za-z0-9+/=]{16,}):`),           // rfc9421
	regexp.MustCompile(`X-Amz-Signature=([0-9a-f]{64})`),     // sigv4 presigned
}

func (s *sigSet) addFrom(text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, re := range sigPatterns {
		for _, m := range re.FindAllStringSubmatch(text, -1) {
			s.m[m[1]] = true
		}
	}
}

func (s *sigSet) list() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for k := range s.m {
		out = append(out, k)
	}
	return out
}

// addReq records the signatures a request carries.
func (s *sigSet) addReq(r *http.Request) {
	s.addFrom(r.URL.String())
	for _, h := range []string{"Authorization", "Signature"} {
		for _, v := range r.Header.Values(h) {
			s.addFrom(v)
		}
	}
}

func edPublicPEM(t testing.TB) string {
	der, err := x509.MarshalPKIXPublicKey(edPriv.Public())
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = prefix + l
	}
	return strings.Join(lines, "\n")
}

// configYAML is the suite's configuration, as an operator writes it.
func configYAML(t testing.TB, upstream string) string {
	return `
keys:
  - id: app
    secrets: ["` + appSecretOld + `", "` + appSecret + `"]
    max_expires: 1h
    upstreams:
      - origin: "` + upstream + `"
        headers:
          Authorization: "` + injectedAuth + `"
          X-Api-Key: "` + injectedAPIKey + `"
  - id: open
    secrets: ["` + openSecret + `"]
    schemes: [sw1]
  - id: once
    secrets: ["` + onceSecret + `"]
    single_use: true
    upstreams:
      - origin: "` + upstream + `"
  - id: named
    secrets: ["` + namedSecret + `"]
    schemes: [sw1]
    upstreams:
      - origin: "` + strings.Replace(upstream, "127.0.0.1", loopbackName, 1) + `"
  - id: edkey
    schemes: [rfc9421, cavage]
    algorithms: [ed25519, hs2019]
    public_key: |
` + indent(edPublicPEM(t), "      ") + `
routes:
  - path: /rs/
    upstream: "` + upstream + `/rs/"
    schemes: [reqsig]
    headers:
      X-Api-Key: "` + routeInjected + `"
  - path: /cav/
    upstream: "` + upstream + `/cav/"
    schemes: [cavage]
  - path: /msg/
    upstream: "` + upstream + `/msg/"
    schemes: [rfc9421]
  - path: /aws/
    upstream: "` + upstream + `/aws/"
    schemes: [sigv4]
    region: eu-west-1
    service: execute-api
limits:
  max_signed_body: ` + fmt.Sprint(maxSignedBody) + `
  upstream_response_header_timeout: 5s
`
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, upLog: &upstreamLog{}, dials: &dialLog{}, dns: newFakeDNS(dnsTable()), logs: &syncBuffer{}, sigs: &sigSet{m: map[string]bool{}}}
	e.up = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.upLog.add(r)
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 64<<20))
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "upstream-ok")
	}))
	t.Cleanup(e.up.Close)
	cfg, err := config.Parse([]byte(configYAML(t, e.up.URL)), nil)
	if err != nil {
		t.Fatal(err)
	}
	e.gw = &gateway.Gateway{
		Logger:      slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:         func() time.Time { return t0 },
		DialControl: e.dials.control,
		Resolver:    e.dns.resolver(),
	}
	if err := e.gw.Reload(cfg); err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(e.gw)
	t.Cleanup(front.Close)
	t.Cleanup(func() { _ = e.gw.Close() })
	e.url = front.URL
	e.host = strings.TrimPrefix(front.URL, "http://")
	e.client = &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				if host, _, _ := net.SplitHostPort(addr); host != "127.0.0.1" {
					return nil, errors.New("test client: refusing " + addr)
				}
				var d net.Dialer
				return d.DialContext(ctx, network, addr)
			},
			MaxResponseHeaderBytes: 1 << 20,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	t.Cleanup(e.client.CloseIdleConnections)
	return e
}

// result is what came back for one hostile request.
type result struct {
	status int
	header http.Header
	body   []byte
}

func (e *env) do(req *http.Request) (result, error) {
	e.sigs.addReq(req)
	res, err := e.client.Do(req)
	if err != nil {
		return result{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	return result{res.StatusCode, res.Header, b}, err
}

// raw sends bytes over a fresh connection (for what http.Client refuses to
// send) and reads one response. halfClose ends the request stream so that a
// short body hits EOF.
func (e *env) raw(b []byte, halfClose bool) (result, error) {
	e.sigs.addFrom(string(b))
	conn, err := net.DialTimeout("tcp", e.host, 5*time.Second)
	if err != nil {
		return result{}, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write(b); err != nil {
		return result{}, err
	}
	if halfClose {
		_ = conn.(*net.TCPConn).CloseWrite()
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return result{}, err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	return result{res.StatusCode, res.Header, body}, nil
}

// forbiddenStrings is what must never appear in anything the gateway emits.
func (e *env) forbiddenStrings() []string {
	out := []string{appSecretOld, appSecret, openSecret, onceSecret, namedSecret, injectedAuth, injectedAPIKey, routeInjected,
		"injected-token-51ab", "X-Injected"}
	return append(out, e.sigs.list()...)
}
