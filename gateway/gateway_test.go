package gateway

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/signet-dev/signet"
	"github.com/signet-dev/signet/cavage"
	"github.com/signet-dev/signet/config"
	"github.com/signet-dev/signet/reqsig"
	"github.com/signet-dev/signet/sw1"
)

func TestPresignedForwarding(t *testing.T) {
	up := echoUpstream(t)
	gw := startGateway(t, baseConfig(up.URL))
	u := presign(t, gw.URL, up.URL+"/v1/chat?model=x&n=1", "POST", nil, func(o *sw1.PresignOptions) {
		o.Header = http.Header{"X-Custom": {"yes"}}
	})
	req := newRequest(t, "POST", u+"&unsigned=1", strings.NewReader(`{"stream":true}`))
	req.Header.Set("X-Custom", "yes")
	req.Header.Set("Authorization", "Bearer client-copy")
	req.Header.Set("X-Request-Id", "req-123")
	req.Header.Set("X-Forwarded-For", "6.6.6.6")
	req.Header.Set("Connection", "X-Hop")
	req.Header.Set("X-Hop", "drop me")
	res, body := do(t, req)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, body %s", res.StatusCode, body)
	}
	e := decodeEcho(t, body)
	upURL, _ := url.Parse(up.URL)
	checks := []struct{ name, got, want string }{
		{"method", e.Method, "POST"},
		{"host", e.Host, upURL.Host},
		{"path", e.Path, "/v1/chat"},
		{"query (target's own, X-Sw-* and unsigned params gone)", e.Query, "model=x&n=1"},
		{"injected Authorization (client copy dropped)", strings.Join(e.Header["Authorization"], "|"), "Bearer injected"},
		{"signed header passes", e.Header.Get("X-Custom"), "yes"},
		{"request id propagated", e.Header.Get("X-Request-Id"), "req-123"},
		{"X-Forwarded-For replaced", e.Header.Get("X-Forwarded-For"), "127.0.0.1"},
		{"hop-by-hop dropped", e.Header.Get("X-Hop"), ""},
		{"body streamed", e.Body, `{"stream":true}`},
		{"response request id", res.Header.Get("X-Request-Id"), "req-123"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, c.got, c.want)
		}
	}
	if strings.Contains(e.Query, "X-Sw") {
		t.Errorf("signing params leaked upstream: %q", e.Query)
	}
	logs := gw.waitLog(t, `"request_id":"req-123"`)
	for _, secret := range []string{testSecret, "Bearer injected", "X-Sw-Signature"} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain %q:\n%s", secret, logs)
		}
	}
	if !strings.Contains(logs, `"key_id":"app"`) || !strings.Contains(logs, `"request_id":"req-123"`) {
		t.Errorf("request log line lacks key id or request id:\n%s", logs)
	}
}

func TestPresignedFailures(t *testing.T) {
	up := echoUpstream(t)
	cfg := baseConfig(up.URL)
	cfg.Keys[0].MaxExpires = config.Duration(time.Hour)
	gw := startGateway(t, cfg)
	target := up.URL + "/x"
	flipSig := func(u string) string {
		i := strings.Index(u, "X-Sw-Signature=") + len("X-Sw-Signature=")
		c := byte('0')
		if u[i] == '0' {
			c = '1'
		}
		return u[:i] + string(c) + u[i+1:]
	}
	tests := []struct {
		name   string
		url    func() string
		method string
		status int
		code   string
	}{
		{"tampered signature", func() string { return flipSig(presign(t, gw.URL, target, "GET", nil, nil)) }, "GET", 401, "signature_mismatch"},
		{"tampered method", func() string { return presign(t, gw.URL, target, "GET", nil, nil) }, "DELETE", 401, "signature_mismatch"},
		{"tampered proxy", func() string {
			return strings.Replace(presign(t, gw.URL, target, "GET", nil, nil), "%2Fx", "%2Fy", 1)
		}, "GET", 401, "signature_mismatch"},
		{"expired", func() string {
			return presign(t, gw.URL, target, "GET", nil, func(o *sw1.PresignOptions) { o.Time = t0.Add(-time.Hour) })
		}, "GET", 401, "expired"},
		{"not yet valid", func() string {
			return presign(t, gw.URL, target, "GET", nil, func(o *sw1.PresignOptions) { o.Time = t0.Add(time.Hour) })
		}, "GET", 401, "not_yet_valid"},
		{"expires too long for the key", func() string {
			return presign(t, gw.URL, target, "GET", nil, func(o *sw1.PresignOptions) { o.Expires = 2 * time.Hour })
		}, "GET", 401, "expires_too_long"},
		{"unknown key", func() string {
			return presign(t, gw.URL, target, "GET", nil, func(o *sw1.PresignOptions) { o.KeyID = "nobody" })
		}, "GET", 401, "unknown_key"},
		{"wrong secret", func() string {
			return presign(t, gw.URL, target, "GET", nil, func(o *sw1.PresignOptions) { o.Secret = "guess" })
		}, "GET", 401, "signature_mismatch"},
		{"missing parameter", func() string { return gw.URL + "/?X-Sw-Proxy=" + url.QueryEscape(target) }, "GET", 400, "malformed"},
		{"forbidden origin", func() string { return presign(t, gw.URL, "http://127.0.0.2:9/x", "GET", nil, nil) }, "GET", 403, "forbidden_upstream"},
		{"userinfo in target", func() string {
			return presign(t, gw.URL, strings.Replace(target, "http://", "http://user:pw@", 1), "GET", nil, nil)
		}, "GET", 400, "malformed"},
		{"no route", func() string { return gw.URL + "/nothing/here" }, "GET", 404, "no_route"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := newRequest(t, tt.method, tt.url(), nil)
			req.Header.Set("Origin", "https://page.example")
			res, body := do(t, req)
			wantError(t, res, body, tt.status, tt.code)
			// Browsers must be able to read the error.
			if got := res.Header.Get("Access-Control-Allow-Origin"); got != "*" {
				t.Errorf("Access-Control-Allow-Origin = %q on an error", got)
			}
			if tt.status == 401 && res.Header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
	if n := len(gw.dials.list()); n != 0 {
		t.Errorf("%d upstream dials for refused requests", n)
	}
}

func TestSecretRotation(t *testing.T) {
	up := echoUpstream(t)
	gw := startGateway(t, baseConfig(up.URL))
	for _, secret := range []string{"old-secret", testSecret} {
		u := presign(t, gw.URL, up.URL, "GET", nil, func(o *sw1.PresignOptions) { o.Secret = secret })
		res, body := do(t, newRequest(t, "GET", u, nil))
		if res.StatusCode != 200 {
			t.Errorf("secret %q: status %d %s", secret, res.StatusCode, body)
		}
	}
}

// With no allowlist, a loopback or private target is refused at the dialer
// (judged on the address dialed), while a public one is dialed.
func TestDialGuard(t *testing.T) {
	up := echoUpstream(t)
	cfg := baseConfig() // no upstreams, no allow_origins: any public origin
	gw := startGateway(t, cfg)
	if got := gw.PublicOriginsAllowed(); len(got) != 1 || got[0] != testKey {
		t.Errorf("PublicOriginsAllowed = %q", got)
	}
	for _, target := range []string{up.URL + "/", "http://10.1.2.3/", "http://169.254.169.254/latest/meta-data", "http://[::1]:9/", "http://0.0.0.0:9/", "http://[::ffff:127.0.0.1]:9/"} {
		t.Run(target, func(t *testing.T) {
			res, body := do(t, newRequest(t, "GET", presign(t, gw.URL, target, "GET", nil, nil), nil))
			wantError(t, res, body, 403, "forbidden_upstream")
		})
	}
	if d := gw.dials.list(); len(d) != 0 {
		t.Errorf("guarded addresses reached the dial hook: %q", d)
	}
	// A public address passes the guard; the test hook refuses it, so no
	// packet leaves the machine, and the answer is 502.
	res, body := do(t, newRequest(t, "GET", presign(t, gw.URL, "http://93.184.216.34:81/", "GET", nil, nil), nil))
	wantError(t, res, body, 502, "upstream_unreachable")
	if d := gw.dials.list(); len(d) != 1 || d[0] != "93.184.216.34:81" {
		t.Errorf("dials = %q, want the public address once", d)
	}

	// Listed explicitly (top level), the loopback origin is allowed.
	cfg.AllowOrigins = []string{up.URL}
	if err := gw.Reload(cfg); err != nil {
		t.Fatal(err)
	}
	res, body = do(t, newRequest(t, "GET", presign(t, gw.URL, up.URL+"/ok", "GET", nil, nil), nil))
	if res.StatusCode != 200 {
		t.Errorf("explicit loopback origin: %d %s", res.StatusCode, body)
	}
	// ...and now other origins are forbidden before any dial.
	res, body = do(t, newRequest(t, "GET", presign(t, gw.URL, "http://93.184.216.34/", "GET", nil, nil), nil))
	wantError(t, res, body, 403, "forbidden_upstream")
}

func TestCheckAddress(t *testing.T) {
	tests := []struct {
		addr string
		ok   bool
	}{
		{"93.184.216.34:443", true}, {"[2606:2800:220:1:248:1893:25c8:1946]:443", true}, {"1.1.1.1:80", true},
		{"127.0.0.1:80", false}, {"127.8.9.1:80", false}, {"10.0.0.1:80", false}, {"172.16.5.4:80", false},
		{"192.168.1.1:80", false}, {"169.254.169.254:80", false}, {"100.64.0.1:80", false}, {"0.0.0.0:80", false},
		{"224.0.0.1:80", false}, {"255.255.255.255:80", false}, {"[::1]:80", false}, {"[::]:80", false},
		{"[fe80::1%eth0]:80", false}, {"[fd00:ec2::254]:80", false}, {"[::ffff:10.0.0.1]:80", false},
		{"[64:ff9b::a00:1]:80", false}, {"[ff02::1]:80", false}, {"example.com:80", false},
	}
	for _, tt := range tests {
		err := checkAddress(tt.addr)
		if (err == nil) != tt.ok {
			t.Errorf("checkAddress(%q) = %v, want ok=%v", tt.addr, err, tt.ok)
		}
		if err != nil && !errors.Is(err, errForbiddenAddress) {
			t.Errorf("checkAddress(%q) = %v, not errForbiddenAddress", tt.addr, err)
		}
	}
}

func routeConfig(upstream string) *config.Config {
	cfg := baseConfig()
	cfg.Keys[0].Upstreams = []config.Upstream{{Origin: upstream, Headers: map[string]string{"X-Key-Header": "per-key"}}}
	cfg.Keys = append(cfg.Keys, config.Key{ID: "other", Secrets: []string{"other-secret"}})
	cfg.Routes = []config.Route{
		{Path: "/internal/", Upstream: upstream + "/base/", Headers: map[string]string{"X-Api-Key": "route-key"}},
		{Path: "/internal/strict", Upstream: upstream + "/strict", Schemes: []string{"cavage"},
			RequireHeaders: []string{"(request-target)", "host", "date", "digest"}, Keys: []string{testKey},
			Headers: map[string]string{"x-api-key": "route-key"}},
	}
	return cfg
}

func TestRoutes(t *testing.T) {
	up := echoUpstream(t)
	gw := startGateway(t, routeConfig(up.URL))
	now := func() time.Time { return t0 }
	reqsigSign := func(r *http.Request) {
		s := &reqsig.Signer{KeyID: testKey, Secret: testSecret, Now: now}
		if err := s.SignRequest(r); err != nil {
			t.Fatal(err)
		}
	}
	cavageSign := func(header string) func(r *http.Request) {
		return func(r *http.Request) {
			s := &cavage.Signer{KeyID: testKey, Secret: testSecret, Now: now, HeaderName: header}
			if err := s.SignRequest(r); err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		name   string
		method string
		path   string
		body   string
		sign   func(*http.Request)
		after  func(*http.Request) // tampering after signing
		status int
		code   string
		path2  string // upstream path on success
	}{
		{name: "reqsig", method: "GET", path: "/internal/users/7?x=1&X-Sw-Extra=2", sign: reqsigSign, status: 200, path2: "/base/users/7"},
		{name: "cavage Authorization", method: "POST", path: "/internal/a", body: "hello", sign: cavageSign(""), status: 200, path2: "/base/a"},
		{name: "cavage Signature header", method: "GET", path: "/internal/b", sign: cavageSign("Signature"), status: 200, path2: "/base/b"},
		{name: "strict route with digest", method: "PUT", path: "/internal/strict/x", body: "data", sign: cavageSign(""), status: 200, path2: "/strict/x"},
		{name: "strict route refuses reqsig", method: "GET", path: "/internal/strict", sign: reqsigSign, status: 401, code: "no_signature"},
		{name: "no signature", method: "GET", path: "/internal/c", sign: func(*http.Request) {}, status: 401, code: "no_signature"},
		{name: "reqsig tampered path", method: "GET", path: "/internal/c", sign: reqsigSign, after: func(r *http.Request) { r.URL.Path = "/internal/d" }, status: 401, code: "signature_mismatch"},
		{name: "cavage tampered date", method: "GET", path: "/internal/c", sign: cavageSign(""), after: func(r *http.Request) {
			r.Header.Set("Date", t0.Add(time.Second).Format(http.TimeFormat))
		}, status: 401, code: "signature_mismatch"},
		{name: "reqsig expired", method: "GET", path: "/internal/c", sign: func(r *http.Request) {
			s := &reqsig.Signer{KeyID: testKey, Secret: testSecret, Now: func() time.Time { return t0.Add(-time.Hour) }}
			_ = s.SignRequest(r)
		}, status: 401, code: "expired"},
		{name: "cavage expired date", method: "GET", path: "/internal/c", sign: func(r *http.Request) {
			s := &cavage.Signer{KeyID: testKey, Secret: testSecret, Now: func() time.Time { return t0.Add(-time.Hour) }}
			_ = s.SignRequest(r)
		}, status: 401, code: "expired"},
		{name: "cavage unknown key", method: "GET", path: "/internal/c", sign: func(r *http.Request) {
			s := &cavage.Signer{KeyID: "ghost", Secret: "x", Now: now}
			_ = s.SignRequest(r)
		}, status: 401, code: "unknown_key"},
		{name: "unknown key", method: "GET", path: "/internal/c", sign: func(r *http.Request) {
			s := &reqsig.Signer{KeyID: "ghost", Secret: "x", Now: now}
			_ = s.SignRequest(r)
		}, status: 401, code: "unknown_key"},
		{name: "route refuses key", method: "PUT", path: "/internal/strict", sign: func(r *http.Request) {
			s := &cavage.Signer{KeyID: "other", Secret: "other-secret", Now: now}
			_ = s.SignRequest(r)
		}, status: 403, code: "forbidden_upstream"},
		{name: "dot segments", method: "GET", path: "/internal/%2e%2e/admin", sign: reqsigSign, status: 400, code: "bad_path"},
		{name: "no route", method: "GET", path: "/elsewhere", sign: reqsigSign, status: 404, code: "no_route"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			req := newRequest(t, tt.method, gw.URL+tt.path, body)
			req.Header.Set("X-Api-Key", "client-copy")
			tt.sign(req)
			if tt.after != nil {
				tt.after(req)
			}
			res, b := do(t, req)
			if tt.code != "" {
				wantError(t, res, b, tt.status, tt.code)
				return
			}
			if res.StatusCode != tt.status {
				t.Fatalf("status = %d, body %s", res.StatusCode, b)
			}
			e := decodeEcho(t, b)
			if e.Path != tt.path2 {
				t.Errorf("upstream path = %q, want %q", e.Path, tt.path2)
			}
			if got := strings.Join(e.Header["X-Api-Key"], "|"); got != "route-key" {
				t.Errorf("X-Api-Key = %q, want the injected one only", got)
			}
			if e.Header.Get("X-Key-Header") != "per-key" {
				t.Errorf("per-key header for the route's origin missing")
			}
			for _, h := range []string{"Authorization", "Signature"} {
				if v := e.Header.Get(h); v != "" {
					t.Errorf("signature header %s forwarded: %q", h, v)
				}
			}
			if strings.Contains(e.Query, "X-Sw") {
				t.Errorf("query = %q", e.Query)
			}
			if e.Body != tt.body {
				t.Errorf("body = %q, want %q", e.Body, tt.body)
			}
		})
	}
}

// A digest that does not match the streamed body aborts the upstream
// request (the upstream never sees a complete body) and the client gets 401.
func TestDigestMismatchAbortsUpstream(t *testing.T) {
	upstreamErr := make(chan error, 1)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		upstreamErr <- err
		if err == nil {
			_, _ = io.WriteString(w, "processed")
		}
	}))
	defer up.Close()
	gw := startGateway(t, routeConfig(up.URL))
	body := strings.Repeat("a", 100<<10)
	req := newRequest(t, "POST", gw.URL+"/internal/strict/upload", strings.NewReader(body))
	sum := sha256.Sum256([]byte(strings.Repeat("b", 100<<10)))
	req.Header.Set("Digest", "SHA-256="+base64.StdEncoding.EncodeToString(sum[:]))
	s := &cavage.Signer{KeyID: testKey, Secret: testSecret, Now: func() time.Time { return t0 }}
	if err := s.SignRequest(req); err != nil {
		t.Fatal(err)
	}
	res, b := do(t, req)
	wantError(t, res, b, 401, "digest_mismatch")
	select {
	case err := <-upstreamErr:
		if err == nil {
			t.Error("the upstream read a complete body although the digest failed")
		}
	case <-time.After(5 * time.Second):
		t.Error("upstream never saw the request")
	}
}

func TestSignedBodyTooLarge(t *testing.T) {
	up := echoUpstream(t)
	cfg := routeConfig(up.URL)
	cfg.Limits.MaxSignedBody = 1 << 10
	gw := startGateway(t, cfg)
	big := strings.Repeat("x", 4<<10)

	t.Run("sw1", func(t *testing.T) {
		u := presign(t, gw.URL, up.URL, "POST", []byte(big), nil)
		res, b := do(t, newRequest(t, "POST", u, strings.NewReader(big)))
		wantError(t, res, b, 413, "body_too_large")
	})
	t.Run("cavage digest", func(t *testing.T) {
		req := newRequest(t, "POST", gw.URL+"/internal/strict/x", strings.NewReader(big))
		s := &cavage.Signer{KeyID: testKey, Secret: testSecret, Now: func() time.Time { return t0 }}
		if err := s.SignRequest(req); err != nil {
			t.Fatal(err)
		}
		res, b := do(t, req)
		wantError(t, res, b, 413, "body_too_large")
	})
}

// The first SSE event reaches the client while the upstream is still
// sending: the response is streamed, not buffered.
func TestSSEStreaming(t *testing.T) {
	release := make(chan struct{})
	done := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(done)
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: first\n\n")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-time.After(10 * time.Second):
		}
		_, _ = io.WriteString(w, "data: second\n\n")
	}))
	defer up.Close()
	gw := startGateway(t, baseConfig(up.URL))
	res, err := client.Do(newRequest(t, "GET", presign(t, gw.URL, up.URL+"/events", "GET", nil, nil), nil))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	br := bufio.NewReader(res.Body)
	line, err := br.ReadString('\n')
	if err != nil || line != "data: first\n" {
		t.Fatalf("first line = %q, %v", line, err)
	}
	select {
	case <-done:
		t.Fatal("upstream finished before the first event arrived")
	default:
	}
	close(release)
	rest, _ := io.ReadAll(br)
	if !strings.Contains(string(rest), "data: second") {
		t.Errorf("rest = %q", rest)
	}
}

func TestUpstreamFailures(t *testing.T) {
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	defer slow.Close()
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close()
	cfg := baseConfig(slow.URL, downURL)
	cfg.Limits.UpstreamResponseHeaderTimeout = config.Duration(100 * time.Millisecond)
	gw := startGateway(t, cfg)

	res, b := do(t, newRequest(t, "GET", presign(t, gw.URL, slow.URL, "GET", nil, nil), nil))
	wantError(t, res, b, 504, "upstream_timeout")
	res, b = do(t, newRequest(t, "GET", presign(t, gw.URL, downURL, "GET", nil, nil), nil))
	wantError(t, res, b, 502, "upstream_unreachable")
}

func TestCORS(t *testing.T) {
	up := echoUpstream(t)
	gw := startGateway(t, baseConfig(up.URL))
	u := presign(t, gw.URL, up.URL, "POST", nil, nil)

	t.Run("preflight without signature", func(t *testing.T) {
		req := newRequest(t, "OPTIONS", gw.URL+"/anything", nil)
		req.Header.Set("Origin", "https://page.example")
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type, x-custom, authorization")
		res, _ := do(t, req)
		if res.StatusCode != 204 {
			t.Errorf("status = %d", res.StatusCode)
		}
		for h, want := range map[string]string{
			"Access-Control-Allow-Origin":  "*",
			"Access-Control-Allow-Methods": "POST",
			"Access-Control-Allow-Headers": "content-type, x-custom, authorization",
			"Access-Control-Max-Age":       "600",
		} {
			if got := res.Header.Get(h); got != want {
				t.Errorf("%s = %q, want %q", h, got, want)
			}
		}
	})
	t.Run("actual request: the gateway's policy only", func(t *testing.T) {
		req := newRequest(t, "POST", u, nil)
		req.Header.Set("Origin", "https://page.example")
		res, _ := do(t, req)
		if got := res.Header.Values("Access-Control-Allow-Origin"); len(got) != 1 || got[0] != "*" {
			t.Errorf("Access-Control-Allow-Origin = %q", got)
		}
	})
	t.Run("narrowed", func(t *testing.T) {
		cfg := baseConfig(up.URL)
		cfg.CORS.AllowOrigins = []string{"https://app.example.com"}
		cfg.CORS.AllowMethods = []string{"GET", "POST"}
		cfg.CORS.AllowHeaders = []string{"content-type"}
		cfg.CORS.ExposeHeaders = []string{"x-request-id"}
		gw := startGateway(t, cfg)
		req := newRequest(t, "OPTIONS", gw.URL+"/", nil)
		req.Header.Set("Origin", "https://app.example.com")
		req.Header.Set("Access-Control-Request-Method", "PUT")
		res, _ := do(t, req)
		if got := res.Header.Get("Access-Control-Allow-Origin"); got != "https://app.example.com" {
			t.Errorf("allowed origin: %q", got)
		}
		if got := res.Header.Get("Access-Control-Allow-Methods"); got != "GET, POST" {
			t.Errorf("methods: %q", got)
		}
		req.Header.Set("Origin", "https://evil.example")
		res, _ = do(t, req)
		if got := res.Header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("other origin allowed: %q", got)
		}
		req = newRequest(t, "GET", presign(t, gw.URL, up.URL, "GET", nil, nil), nil)
		req.Header.Set("Origin", "https://app.example.com")
		res, _ = do(t, req)
		if got := res.Header.Get("Access-Control-Expose-Headers"); got != "x-request-id" {
			t.Errorf("expose: %q", got)
		}
	})
}

func TestOperations(t *testing.T) {
	up := echoUpstream(t)
	gw := startGateway(t, baseConfig(up.URL))
	do(t, newRequest(t, "GET", presign(t, gw.URL, up.URL, "GET", nil, nil), nil))
	do(t, newRequest(t, "GET", gw.URL+"/?X-Sw-Proxy=x", nil))
	for path, want := range map[string]string{"/healthz": `"ok"`, "/readyz": `"ready"`} {
		res, b := do(t, newRequest(t, "GET", gw.URL+path, nil))
		if res.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Errorf("%s: %d %s", path, res.StatusCode, b)
		}
	}
	res, b := do(t, newRequest(t, "GET", gw.URL+"/metrics", nil))
	for _, want := range []string{
		`signet_requests_total{key_id="app",outcome="ok",scheme="sw1"} 1`,
		`signet_requests_total{key_id="",outcome="malformed",scheme="sw1"} 1`,
		`signet_response_bytes_total{key_id="app"}`,
		`signet_upstream_response_header_seconds_count{scheme="sw1"} 1`,
		`signet_request_duration_seconds_bucket`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("/metrics (%d) lacks %s", res.StatusCode, want)
		}
	}
}

func TestZeroGateway(t *testing.T) {
	var g Gateway
	for path, status := range map[string]int{"/healthz": 200, "/readyz": 503, "/x": 404} {
		rec := httptest.NewRecorder()
		g.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != status {
			t.Errorf("%s: %d, want %d", path, rec.Code, status)
		}
	}
}

func TestReloadKeepsOldOnError(t *testing.T) {
	up := echoUpstream(t)
	gw := startGateway(t, baseConfig(up.URL))
	bad := baseConfig(up.URL)
	bad.Keys[0].Secrets = nil
	if err := gw.Reload(bad); err == nil {
		t.Fatal("bad config accepted")
	}
	res, b := do(t, newRequest(t, "GET", presign(t, gw.URL, up.URL, "GET", nil, nil), nil))
	if res.StatusCode != 200 {
		t.Errorf("old config lost: %d %s", res.StatusCode, b)
	}
	if _, err := New(bad, nil); err == nil {
		t.Error("New accepted a bad config")
	}
}

// fakeVerifier lets tests drive the gateway without a real scheme.
type fakeVerifier struct{ ver *signet.Verified }

func (f fakeVerifier) Verify(_ context.Context, r *http.Request, _ signet.KeyStore) (*signet.Verified, error) {
	if r.Header.Get("X-Fake") != "ok" {
		return nil, signet.NewError("fake", "", signet.ErrNoSignature, "no fake signature")
	}
	return f.ver, nil
}

func TestNewVerifierHook(t *testing.T) {
	up := echoUpstream(t)
	cfg := routeConfig(up.URL)
	g := &Gateway{NewVerifier: func(scheme string, _ *config.Config, rc *config.Route) (signet.Verifier, error) {
		return fakeVerifier{&signet.Verified{Scheme: "fake", KeyID: testKey}}, nil
	}}
	if err := g.Reload(cfg); err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(g)
	defer front.Close()
	req := newRequest(t, "GET", front.URL+"/internal/z", nil)
	req.Header.Set("X-Fake", "ok")
	req.Header.Set("Authorization", "Bearer kept")
	res, b := do(t, req)
	if res.StatusCode != 200 {
		t.Fatalf("%d %s", res.StatusCode, b)
	}
	// Authorization did not carry this signature: it is passed on.
	if got := decodeEcho(t, b).Header.Get("Authorization"); got != "Bearer kept" {
		t.Errorf("Authorization = %q", got)
	}
}

func TestStripSwParams(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"a=1&X-Sw-Date=2&b=3", "a=1&b=3"},
		{"x-sw-foo=1", ""},
		{"X%2DSw-Proxy=1&c", "c"},
		{"a=%20&b", "a=%20&b"},
	}
	for _, tt := range tests {
		if got := stripSwParams(tt.in); got != tt.want {
			t.Errorf("stripSwParams(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzQueryParsers(f *testing.F) {
	f.Add("X-Sw-Algorithm=SW1-HMAC-SHA256&X-Sw-Proxy=https%3A%2F%2Fx&X-Sw-Signature=00")
	f.Add("a=1&&b&X%2dSw-Proxy=%zz")
	f.Fuzz(func(t *testing.T, q string) {
		out := stripSwParams(q)
		if isPresigned(out) {
			t.Errorf("stripSwParams(%q) = %q still names a pre-signed URL", q, out)
		}
		if strings.Contains(strings.ToLower(out), "x-sw-") {
			for kv := range strings.SplitSeq(out, "&") {
				k, _, _ := strings.Cut(kv, "=")
				if uk, err := url.QueryUnescape(k); err == nil && hasPrefixFold(uk, "X-Sw-") {
					t.Errorf("X-Sw-* left in %q", out)
				}
			}
		}
	})
}

func FuzzRouteRest(f *testing.F) {
	f.Add("/internal/a/b")
	f.Add("/internal/%2e%2e/x")
	f.Add("/internal/a%2f..%2fb")
	rt := &route{prefix: "/internal"}
	f.Fuzz(func(t *testing.T, p string) {
		if !rt.matches("", p) {
			return
		}
		rest, ok := rt.rest(p)
		if !ok {
			return
		}
		dec, err := url.PathUnescape(rest)
		if err != nil {
			t.Fatalf("accepted undecodable %q", rest)
		}
		for part := range strings.SplitSeq(strings.ReplaceAll(dec, "\\", "/"), "/") {
			if part == ".." {
				t.Fatalf("accepted traversal %q", p)
			}
		}
	})
}

// Whatever a client sends, the gateway never answers 5xx by itself: no
// request here can carry a valid signature, so none reaches an upstream.
func FuzzGatewayNo5xx(f *testing.F) {
	f.Add("GET", "/?X-Sw-Algorithm=SW1-HMAC-SHA256&X-Sw-Credential=app%2F20260314&X-Sw-Date=20260314T150926Z&X-Sw-Expires=600&X-Sw-Proxy=http%3A%2F%2F127.0.0.1%3A1%2F&X-Sw-SignedHeaders=&X-Sw-Body=false&X-Sw-Signature=00", "", "")
	f.Add("POST", "/internal/x?y", `REQUEST-SIGNATURE ApiKey=app,ApiVersion=v1,SignedHost=true,Timestamp=1,Signature=AA`, "")
	f.Add("PUT", "/internal/strict/x", `Signature keyId="app",algorithm="hmac-sha256",headers="(request-target) digest",signature="AA=="`, "SHA-256=xx")
	f.Add("OPTIONS", "/x", "", "")
	g := &Gateway{Now: func() time.Time { return t0 }}
	g.dialControl = func(network, address string, _ syscall.RawConn) error {
		return errors.New("fuzz: no dialing")
	}
	if err := g.Reload(routeConfig("http://127.0.0.1:1")); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, method, target, auth, digest string) {
		if !validMethod(method) || !strings.HasPrefix(target, "/") {
			return
		}
		u, err := url.ParseRequestURI(target)
		if err != nil {
			return
		}
		r := httptest.NewRequest(http.MethodGet, "/", strings.NewReader("body"))
		r.Method, r.URL, r.RequestURI = method, u, target
		r.Header.Set("Authorization", auth)
		r.Header.Set("Digest", digest)
		r.Header.Set("Date", t0.Format(http.TimeFormat))
		rec := httptest.NewRecorder()
		g.ServeHTTP(rec, r)
		if rec.Code >= 500 {
			t.Errorf("%s %q: status %d %s", method, target, rec.Code, rec.Body)
		}
	})
}

func validMethod(m string) bool {
	if m == "" || len(m) > 16 {
		return false
	}
	for i := 0; i < len(m); i++ {
		if !validTokenByte(m[i]) {
			return false
		}
	}
	return true
}
