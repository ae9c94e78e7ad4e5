package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signet-dev/signet"
	"github.com/signet-dev/signet/config"
	"github.com/signet-dev/signet/reqsig"
	"github.com/signet-dev/signet/sw1"
	"github.com/signet-dev/signet/usage"
)

// errDown is what a failing fake store returns.
var errDown = &signet.Error{Err: signet.ErrStoreUnavailable, Detail: "redis: connection refused"}

// fakeReplay records every Use; down makes it fail.
type fakeReplay struct {
	mu   sync.Mutex
	seen map[string]time.Time
	down bool
}

func (f *fakeReplay) Use(_ context.Context, id string, expires time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return errDown
	}
	if f.seen == nil {
		f.seen = map[string]time.Time{}
	}
	if _, ok := f.seen[id]; ok {
		return &signet.Error{Err: signet.ErrReplay, Detail: "already used"}
	}
	f.seen[id] = expires
	return nil
}

func (f *fakeReplay) setDown(d bool) { f.mu.Lock(); f.down = d; f.mu.Unlock() }

func (f *fakeReplay) expiries() []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []time.Time
	for _, e := range f.seen {
		out = append(out, e)
	}
	return out
}

// fakeLimiter allows `allow` requests, then refuses; it records AddBytes.
type fakeLimiter struct {
	mu    sync.Mutex
	allow int
	bytes map[string]int64
	down  bool
}

func (f *fakeLimiter) Allow(_ context.Context, keyID string, _ signet.RateLimit) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return errDown
	}
	if f.allow <= 0 {
		return &signet.RateLimitError{RetryAfter: 1500 * time.Millisecond, Detail: "key over its request rate"}
	}
	f.allow--
	return nil
}

func (f *fakeLimiter) AddBytes(_ context.Context, keyID string, _ signet.RateLimit, n int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.bytes == nil {
		f.bytes = map[string]int64{}
	}
	f.bytes[keyID] += n
	return nil
}

func (f *fakeLimiter) charged(id string) int64 { f.mu.Lock(); defer f.mu.Unlock(); return f.bytes[id] }

type fakeUsage struct {
	mu  sync.Mutex
	got []signet.Usage
}

func (f *fakeUsage) Record(_ context.Context, u signet.Usage) error {
	f.mu.Lock()
	f.got = append(f.got, u)
	f.mu.Unlock()
	return nil
}

func (f *fakeUsage) records() []signet.Usage {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]signet.Usage(nil), f.got...)
}

// startWith is startGateway with the stores set before the first Reload.
func startWith(t *testing.T, cfg *config.Config, set func(g *Gateway)) *testGateway {
	t.Helper()
	var tg *testGateway
	func() {
		// startGateway reloads at once; set the fields on a config-less
		// gateway first by reloading twice.
		tg = startGateway(t, cfg)
		set(tg.Gateway)
		if err := tg.Reload(cfg); err != nil {
			t.Fatal(err)
		}
	}()
	return tg
}

func getURL(t *testing.T, u string) (*http.Response, []byte) {
	t.Helper()
	return do(t, newRequest(t, "GET", u, nil))
}

func TestKeysFromStore(t *testing.T) {
	up := echoUpstream(t)
	other := echoUpstream(t)
	cfg := config.Default()
	cfg.KeysExternal = true
	var mu sync.Mutex
	key := &signet.Key{ID: testKey, Secrets: []string{testSecret},
		Upstreams: []signet.Upstream{{Origin: up.URL, Headers: map[string]string{"authorization": "Bearer from-store"}}}}
	store := signet.KeyStoreFunc(func(_ context.Context, id string) (*signet.Key, error) {
		mu.Lock()
		defer mu.Unlock()
		if id == testKey && key != nil {
			return key, nil
		}
		return nil, signet.ErrUnknownKey
	})
	gw := startWith(t, cfg, func(g *Gateway) { g.Keys = store })

	res, b := getURL(t, presign(t, gw.URL, up.URL+"/a", "GET", nil, nil))
	if res.StatusCode != 200 {
		t.Fatalf("store key: %d %s", res.StatusCode, b)
	}
	// The loopback upstream is dialed only because the store key lists it.
	if got := decodeEcho(t, b).Header.Get("Authorization"); got != "Bearer from-store" {
		t.Errorf("injected Authorization = %q, want the store key's", got)
	}
	res, b = getURL(t, presign(t, gw.URL, other.URL+"/a", "GET", nil, nil))
	wantError(t, res, b, 403, "forbidden_upstream")

	// A changed key (a new *Key, as stores hand out) changes the policy.
	mu.Lock()
	key = &signet.Key{ID: testKey, Secrets: []string{testSecret}, Upstreams: []signet.Upstream{{Origin: other.URL}}}
	mu.Unlock()
	res, b = getURL(t, presign(t, gw.URL, other.URL+"/a", "GET", nil, nil))
	if res.StatusCode != 200 {
		t.Fatalf("after change: %d %s", res.StatusCode, b)
	}
	if got := decodeEcho(t, b).Header.Get("Authorization"); got != "" {
		t.Errorf("Authorization = %q, want none", got)
	}
	res, b = getURL(t, presign(t, gw.URL, up.URL+"/a", "GET", nil, nil))
	wantError(t, res, b, 403, "forbidden_upstream")

	// Revoked: unknown.
	mu.Lock()
	key = nil
	mu.Unlock()
	res, b = getURL(t, presign(t, gw.URL, other.URL+"/a", "GET", nil, nil))
	wantError(t, res, b, 401, "unknown_key")
}

func TestStoreKeyPolicyOfLoopbackNeedsListing(t *testing.T) {
	// A store key without upstreams follows allow_origins; with none, a
	// loopback target is refused at the dialer.
	up := echoUpstream(t)
	cfg := config.Default()
	cfg.KeysExternal = true
	store := signet.StaticKeys{testKey: {ID: testKey, Secrets: []string{testSecret}}}
	gw := startWith(t, cfg, func(g *Gateway) { g.Keys = store })
	res, b := getURL(t, presign(t, gw.URL, up.URL+"/a", "GET", nil, nil))
	wantError(t, res, b, 403, "forbidden_upstream")
}

func TestSingleUse(t *testing.T) {
	up := echoUpstream(t)
	cfg := baseConfig(up.URL)
	cfg.Keys[0].SingleUse = true
	cfg.Keys = append(cfg.Keys, config.Key{ID: "open", Secrets: []string{"open-secret"}, SingleUse: true, FailOpen: true,
		Upstreams: []config.Upstream{{Origin: up.URL}}})
	gw := startGateway(t, cfg) // the in-memory default store

	u := presign(t, gw.URL, up.URL+"/once", "GET", nil, nil)
	if res, b := getURL(t, u); res.StatusCode != 200 {
		t.Fatalf("first use: %d %s", res.StatusCode, b)
	}
	res, b := getURL(t, u)
	wantError(t, res, b, http.StatusConflict, "replayed")
	// Another signature of the same key is fresh.
	u2 := presign(t, gw.URL, up.URL+"/twice", "GET", nil, nil)
	if res, b := getURL(t, u2); res.StatusCode != 200 {
		t.Fatalf("other URL: %d %s", res.StatusCode, b)
	}

	// A failing store: 503 unless the key fails open.
	fr := &fakeReplay{down: true}
	gw.Replay = fr
	res, b = getURL(t, presign(t, gw.URL, up.URL+"/down", "GET", nil, nil))
	wantError(t, res, b, http.StatusServiceUnavailable, "store_unavailable")
	if strings.Contains(string(b), "connection refused") {
		t.Errorf("store error details leak to the client: %s", b)
	}
	open := presign(t, gw.URL, up.URL+"/down", "GET", nil, func(o *sw1.PresignOptions) { o.KeyID, o.Secret = "open", "open-secret" })
	if res, b := getURL(t, open); res.StatusCode != 200 {
		t.Fatalf("fail-open key while the store is down: %d %s", res.StatusCode, b)
	}
	// Back up: the store remembers until the URL's expiry.
	fr.setDown(false)
	u3 := presign(t, gw.URL, up.URL+"/back", "GET", nil, nil)
	if res, b := getURL(t, u3); res.StatusCode != 200 {
		t.Fatalf("store back: %d %s", res.StatusCode, b)
	}
	if got, want := fr.expiries(), t0.Add(-time.Minute).Add(sw1.DefaultExpires); len(got) != 1 || !got[0].Equal(want) {
		t.Errorf("replay expiry = %v, want [%v] (the URL's X-Sw-Expires)", got, want)
	}
	res, b = getURL(t, u3)
	wantError(t, res, b, http.StatusConflict, "replayed")

	m := scrape(t, gw.URL)
	for _, want := range []string{
		`signet_requests_total{key_id="app",outcome="replayed",scheme="sw1"} 2`,
		`signet_requests_total{key_id="app",outcome="store_unavailable",scheme="sw1"} 1`,
		`signet_store_errors_total{action="fail_open",store="replay"} 1`,
		`signet_store_errors_total{action="refused",store="replay"} 1`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// nonceVerifier verifies requests carrying X-Fake, with the nonce and times
// the test sets.
type nonceVerifier struct {
	key        *signet.Key
	signedAt   time.Time
	expiresAt  time.Time
	scheme     string
	withoutKey bool
}

func (v nonceVerifier) Verify(_ context.Context, r *http.Request, _ signet.KeyStore) (*signet.Verified, error) {
	if r.Header.Get("X-Fake") == "" {
		return nil, signet.NewError("fake", "", signet.ErrNoSignature, "none")
	}
	n := r.Header.Get("X-Nonce")
	ver := &signet.Verified{Scheme: v.scheme, KeyID: v.key.ID, Key: v.key, SecretIndex: 0, Nonce: n,
		SignedAt: v.signedAt, ExpiresAt: v.expiresAt, Signature: r.Header.Get("X-Fake")}
	if n != "" {
		ver.ReplayID = signet.NonceReplayID(v.scheme, v.key.ID, n)
	}
	if v.withoutKey {
		ver.Key = nil
	}
	return ver, nil
}

func TestNonceReplayAndExpiry(t *testing.T) {
	up := echoUpstream(t)
	tests := []struct {
		name       string
		scheme     string
		singleUse  bool
		signedAt   time.Time
		expiresAt  time.Time
		nonce      string
		wantExpiry time.Time // zero: no replay record expected
		wantStatus int
	}{
		{"nonce, expires given", signet.SchemeRFC9421, false, t0, t0.Add(time.Minute), "n1", t0.Add(time.Minute), 200},
		{"nonce, rfc9421 window", signet.SchemeRFC9421, false, t0, time.Time{}, "n2", t0.Add(5 * time.Minute), 200},
		{"single use, reqsig window", signet.SchemeReqSig, true, t0, time.Time{}, "", t0.Add(reqsig.DefaultMaxSkew), 200},
		{"single use, cavage window", signet.SchemeCavage, true, t0, time.Time{}, "", t0.Add(5 * time.Minute), 200},
		{"single use, sigv4 window", signet.SchemeSigV4, true, t0, time.Time{}, "", t0.Add(5 * time.Minute), 200},
		{"no replay protection", signet.SchemeCavage, false, t0, time.Time{}, "", time.Time{}, 200},
		{"single use without any time", signet.SchemeCavage, true, time.Time{}, time.Time{}, "", time.Time{}, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := &signet.Key{ID: testKey, Secrets: []string{testSecret}, SingleUse: tt.singleUse}
			cfg := routeConfig(up.URL)
			fr := &fakeReplay{}
			g := &Gateway{Replay: fr, NewVerifier: func(string, *config.Config, *config.Route) (signet.Verifier, error) {
				return nonceVerifier{key: key, signedAt: tt.signedAt, expiresAt: tt.expiresAt, scheme: tt.scheme}, nil
			}}
			if err := g.Reload(cfg); err != nil {
				t.Fatal(err)
			}
			send := func() (*http.Response, []byte) {
				rec := newRecorderRequest(g, "/internal/x", map[string]string{"X-Fake": "sig", "X-Nonce": tt.nonce})
				return rec.res, rec.body
			}
			res, b := send()
			if res.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tt.wantStatus, b)
			}
			got := fr.expiries()
			if tt.wantExpiry.IsZero() {
				if len(got) != 0 {
					t.Errorf("replay records %v, want none", got)
				}
				return
			}
			if len(got) != 1 || !got[0].Equal(tt.wantExpiry) {
				t.Fatalf("replay expiry %v, want %v", got, tt.wantExpiry)
			}
			res, b = send()
			if res.StatusCode != http.StatusConflict {
				t.Errorf("replay: %d %s, want 409", res.StatusCode, b)
			}
		})
	}
}

func TestVerifierWithoutKeyGetsKeyPolicies(t *testing.T) {
	up := echoUpstream(t)
	cfg := routeConfig(up.URL)
	cfg.Keys[0].SingleUse = true
	g := &Gateway{Now: func() time.Time { return t0 }, NewVerifier: func(string, *config.Config, *config.Route) (signet.Verifier, error) {
		return nonceVerifier{key: &signet.Key{ID: testKey}, signedAt: t0, scheme: "fake", withoutKey: true}, nil
	}}
	if err := g.Reload(cfg); err != nil {
		t.Fatal(err)
	}
	for i, want := range []int{200, 409} {
		rec := newRecorderRequest(g, "/internal/x", map[string]string{"X-Fake": "sig"})
		if rec.res.StatusCode != want {
			t.Errorf("request %d: %d, want %d (%s)", i, rec.res.StatusCode, want, rec.body)
		}
	}
}

type recorded struct {
	res  *http.Response
	body []byte
}

// newRecorderRequest serves one GET through g without a network front end
// (the upstream is still real).
func newRecorderRequest(g *Gateway, path string, headers map[string]string) recorded {
	front := &responseRecorder{header: http.Header{}}
	req, _ := http.NewRequest("GET", "http://gateway.test"+path, nil)
	for k, v := range headers {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	g.ServeHTTP(front, req)
	res := &http.Response{StatusCode: front.status, Header: front.header}
	if res.StatusCode == 0 {
		res.StatusCode = 200
	}
	return recorded{res, []byte(front.body.String())}
}

type responseRecorder struct {
	header http.Header
	status int
	body   strings.Builder
}

func (r *responseRecorder) Header() http.Header { return r.header }
func (r *responseRecorder) WriteHeader(c int) {
	if r.status == 0 {
		r.status = c
	}
}
func (r *responseRecorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = 200
	}
	return r.body.Write(p)
}

func (r recorded) String() string { return string(r.body) }

func TestRateLimit(t *testing.T) {
	up := echoUpstream(t)
	cfg := baseConfig(up.URL)
	cfg.Keys[0].RateLimit = config.RateLimit{RequestsPerSecond: 0.01, Burst: 2}
	gw := startGateway(t, cfg) // the in-memory default limiter
	for i := range 2 {
		if res, b := getURL(t, presign(t, gw.URL, up.URL+"/r", "GET", nil, nil)); res.StatusCode != 200 {
			t.Fatalf("request %d within burst: %d %s", i, res.StatusCode, b)
		}
	}
	res, b := getURL(t, presign(t, gw.URL, up.URL+"/r", "GET", nil, nil))
	wantError(t, res, b, http.StatusTooManyRequests, "rate_limited")
	if ra := res.Header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Errorf("Retry-After = %q", ra)
	}
	if logs := gw.logText(); strings.Contains(logs, "verification error") {
		t.Errorf("a rate limit is logged as an internal error:\n%s", logs)
	}
}

func TestRateLimitStoreAndBytes(t *testing.T) {
	up := echoUpstream(t)
	cfg := baseConfig(up.URL)
	cfg.Keys[0].RateLimit = config.RateLimit{RequestsPerSecond: 10, BytesPerMinute: 1 << 20}
	cfg.Keys = append(cfg.Keys, config.Key{ID: "open", Secrets: []string{"open-secret"}, FailOpen: true,
		RateLimit: config.RateLimit{RequestsPerSecond: 1}, Upstreams: []config.Upstream{{Origin: up.URL}}})
	cfg.Keys = append(cfg.Keys, config.Key{ID: "free", Secrets: []string{"free-secret"}, Upstreams: []config.Upstream{{Origin: up.URL}}})
	fl := &fakeLimiter{allow: 1}
	fu := &fakeUsage{}
	gw := startWith(t, cfg, func(g *Gateway) { g.Limiter, g.Usage = fl, fu })

	body := strings.Repeat("x", 1000)
	req := newRequest(t, "POST", presign(t, gw.URL, up.URL+"/b", "POST", nil, nil), strings.NewReader(body))
	res, b := do(t, req)
	if res.StatusCode != 200 {
		t.Fatalf("%d %s", res.StatusCode, b)
	}
	waitFor(t, func() bool { return fl.charged(testKey) > 0 })
	if got, want := fl.charged(testKey), int64(len(body)+len(b)); got != want {
		t.Errorf("bytes charged = %d, want %d (in + out)", got, want)
	}
	waitFor(t, func() bool { return len(fu.records()) > 0 })
	u := fu.records()[0]
	if u.KeyID != testKey || u.Requests != 1 || u.BytesIn != int64(len(body)) || u.BytesOut != int64(len(b)) {
		t.Errorf("usage = %+v", u)
	}

	res, b = getURL(t, presign(t, gw.URL, up.URL+"/b", "GET", nil, nil))
	wantError(t, res, b, 429, "rate_limited")
	if res.Header.Get("Retry-After") != "2" {
		t.Errorf("Retry-After = %q, want 2 (1.5 s rounded up)", res.Header.Get("Retry-After"))
	}

	fl.mu.Lock()
	fl.down = true
	fl.mu.Unlock()
	res, b = getURL(t, presign(t, gw.URL, up.URL+"/b", "GET", nil, nil))
	wantError(t, res, b, 503, "store_unavailable")
	open := presign(t, gw.URL, up.URL+"/b", "GET", nil, func(o *sw1.PresignOptions) { o.KeyID, o.Secret = "open", "open-secret" })
	if res, b := getURL(t, open); res.StatusCode != 200 {
		t.Errorf("fail-open key: %d %s", res.StatusCode, b)
	}
	free := presign(t, gw.URL, up.URL+"/b", "GET", nil, func(o *sw1.PresignOptions) { o.KeyID, o.Secret = "free", "free-secret" })
	if res, b := getURL(t, free); res.StatusCode != 200 {
		t.Errorf("key without limits while the limiter is down: %d %s", res.StatusCode, b)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func scrape(t *testing.T, base string) string {
	t.Helper()
	res, err := client.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

func TestSecretUsedMetric(t *testing.T) {
	up := echoUpstream(t)
	gw := startGateway(t, baseConfig(up.URL)) // secrets: old-secret, app-secret
	getURL(t, presign(t, gw.URL, up.URL+"/m", "GET", nil, nil))
	getURL(t, presign(t, gw.URL, up.URL+"/m", "GET", nil, func(o *sw1.PresignOptions) { o.Secret = "old-secret" }))
	getURL(t, presign(t, gw.URL, up.URL+"/m", "GET", nil, func(o *sw1.PresignOptions) { o.Secret = "old-secret" }))
	m := scrape(t, gw.URL)
	for _, want := range []string{
		`signet_secret_used_total{key_id="app",secret_index="1"} 1`,
		`signet_secret_used_total{key_id="app",secret_index="0"} 2`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestReadyzChecks(t *testing.T) {
	up := echoUpstream(t)
	var mu sync.Mutex
	redisDown := true
	gw := startWith(t, baseConfig(up.URL), func(g *Gateway) {
		g.Checks = []Check{
			{Name: "postgres", Check: func(context.Context) error { return nil }},
			{Name: "redis", Check: func(context.Context) error {
				mu.Lock()
				defer mu.Unlock()
				if redisDown {
					return errors.New("dial tcp 10.0.0.1:6379: connection refused")
				}
				return nil
			}},
		}
	})
	get := func() (int, readyBody, string) {
		res, b := getURL(t, gw.URL+"/readyz")
		var rb readyBody
		if err := json.Unmarshal(b, &rb); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		return res.StatusCode, rb, string(b)
	}
	code, rb, raw := get()
	if code != 503 || rb.Status != "unavailable" || len(rb.Failed) != 1 || rb.Failed[0] != "redis" || rb.Stores["postgres"] != "ok" {
		t.Errorf("redis down: %d %s", code, raw)
	}
	if strings.Contains(raw, "10.0.0.1") {
		t.Errorf("readyz leaks the store's error: %s", raw)
	}
	mu.Lock()
	redisDown = false
	mu.Unlock()
	if code, rb, raw := get(); code != 200 || rb.Status != "ready" || rb.Stores["redis"] != "ok" {
		t.Errorf("redis up: %d %s", code, raw)
	}
}

func TestDefaultUsageIsReadable(t *testing.T) {
	up := echoUpstream(t)
	gw := startGateway(t, baseConfig(up.URL))
	for range 2 {
		if res, b := getURL(t, presign(t, gw.URL, up.URL+"/u", "GET", nil, nil)); res.StatusCode != 200 {
			t.Fatalf("%d %s", res.StatusCode, b)
		}
	}
	r, ok := gw.UsageRecorder().(usage.Reader)
	if !ok {
		t.Fatalf("default recorder %T is not a usage.Reader", gw.UsageRecorder())
	}
	waitFor(t, func() bool {
		tot, err := r.Get(context.Background(), testKey, usage.Day(t0))
		return err == nil && tot.Requests == 2 && tot.BytesOut > 0
	})
}
