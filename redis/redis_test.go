package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/signet-dev/signet"
	"github.com/signet-dev/signet/internal/limittest"
)

// quietLogger drops go-redis's log lines; the outage tests cause many.
type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}

func TestMain(m *testing.M) {
	goredis.SetLogger(quietLogger{})
	os.Exit(m.Run())
}

// redisURL returns SIGNET_REDIS_URL or skips the test. When it is set,
// Redis must answer: an unreachable server fails the test.
func redisURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("SIGNET_REDIS_URL")
	if u == "" {
		t.Skip("set SIGNET_REDIS_URL to run the Redis tests")
	}
	return u
}

// testClient opens a client to SIGNET_REDIS_URL, closed at the end of t.
func testClient(t testing.TB) *Client {
	t.Helper()
	return openURL(t, redisURL(t))
}

// contendedClient is testClient with 5 s timeouts, for the tests that check
// atomicity under contention rather than latency: under the race detector
// a burst of 100 commands on a cold pool takes 200-350 ms (10 ms without),
// longer than DefaultTimeout.
func contendedClient(t testing.TB) *Client {
	t.Helper()
	u, err := url.Parse(redisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	for _, p := range []string{"dial_timeout", "read_timeout", "write_timeout", "pool_timeout"} {
		q.Set(p, "5s")
	}
	u.RawQuery = q.Encode()
	return openURL(t, u.String())
}

func openURL(t testing.TB, u string) *Client {
	t.Helper()
	c, err := Open(u)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Ping(context.Background()); err != nil {
		t.Fatalf("Redis at SIGNET_REDIS_URL is unreachable: %v", err)
	}
	return c
}

// testPrefix returns a fresh key prefix for t and deletes its keys when t
// ends, so tests never see each other's state.
func testPrefix(t testing.TB, c *Client) string {
	t.Helper()
	b := make([]byte, 8)
	rand.Read(b)
	prefix := "signet-test:" + hex.EncodeToString(b) + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		iter := c.rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if err := iter.Err(); err != nil {
			t.Errorf("cleanup: %v", err)
		}
		if len(keys) > 0 {
			if err := c.rdb.Del(ctx, keys...).Err(); err != nil {
				t.Errorf("cleanup: %v", err)
			}
		}
	})
	return prefix
}

func TestReplayOnce(t *testing.T) {
	c := testClient(t)
	s := &ReplayStore{Client: c, Prefix: testPrefix(t, c)}
	ctx := context.Background()
	exp := time.Now().Add(time.Minute)
	if err := s.Use(ctx, "a", exp); err != nil {
		t.Fatalf("first use: %v", err)
	}
	err := s.Use(ctx, "a", exp)
	if !errors.Is(err, signet.ErrReplay) || signet.Code(err) != "replayed" || signet.Status(err) != 409 {
		t.Fatalf("second use: got %v, want ErrReplay (409 replayed)", err)
	}
	if err := s.Use(ctx, "b", exp); err != nil {
		t.Fatalf("other id: %v", err)
	}
	other := &ReplayStore{Client: c, Prefix: testPrefix(t, c)}
	if err := other.Use(ctx, "a", exp); err != nil {
		t.Fatalf("same id under another prefix: %v", err)
	}
	// The documented key layout.
	if n, err := c.rdb.Exists(ctx, s.Prefix+"replay:a").Result(); err != nil || n != 1 {
		t.Errorf("key %sreplay:a: exists=%d, %v", s.Prefix, n, err)
	}
}

func TestReplayDefaultPrefix(t *testing.T) {
	c := testClient(t)
	s := &ReplayStore{Client: c}
	id := "signet-test-default-prefix-" + testPrefix(t, c)
	t.Cleanup(func() { c.rdb.Del(context.Background(), DefaultPrefix+"replay:"+id) })
	if err := s.Use(context.Background(), id, time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if n, _ := c.rdb.Exists(context.Background(), "signet:replay:"+id).Result(); n != 1 {
		t.Error("the default prefix is not signet:")
	}
}

func TestReplayExpiry(t *testing.T) {
	c := testClient(t)
	s := &ReplayStore{Client: c, Prefix: testPrefix(t, c)}
	ctx := context.Background()

	t.Run("past expiry records nothing", func(t *testing.T) {
		past := time.Now().Add(-time.Second)
		for range 2 {
			if err := s.Use(ctx, "past", past); err != nil {
				t.Fatalf("expiry in the past: got %v, want nil (like replay.Memory)", err)
			}
		}
		if n, _ := c.rdb.Exists(ctx, s.Prefix+"replay:past").Result(); n != 0 {
			t.Error("an already expired id was kept")
		}
	})

	t.Run("expiry rounds up to the millisecond", func(t *testing.T) {
		exp := time.UnixMilli(time.Now().Add(time.Hour).UnixMilli()).Add(300 * time.Microsecond)
		if err := s.Use(ctx, "round", exp); err != nil {
			t.Fatal(err)
		}
		got, err := c.rdb.Do(ctx, "pexpiretime", s.Prefix+"replay:round").Int64()
		if err != nil {
			t.Fatal(err)
		}
		if want := exp.UnixMilli() + 1; got != want {
			t.Errorf("PEXPIRETIME = %d, want %d", got, want)
		}
	})

	t.Run("forgotten after expiry", func(t *testing.T) {
		exp := time.Now().Add(150 * time.Millisecond)
		if err := s.Use(ctx, "soon", exp); err != nil {
			t.Fatal(err)
		}
		if err := s.Use(ctx, "soon", exp); !errors.Is(err, signet.ErrReplay) {
			t.Fatalf("before expiry: got %v, want ErrReplay", err)
		}
		// Redis expires keys on access with millisecond precision.
		time.Sleep(time.Until(exp) + 20*time.Millisecond)
		if err := s.Use(ctx, "soon", time.Now().Add(time.Minute)); err != nil {
			t.Fatalf("after expiry: got %v, want the id usable again", err)
		}
	})
}

// 100 goroutines on two clients (two replicas) race for one id: one wins.
func TestReplayConcurrentSingleWinner(t *testing.T) {
	c1, c2 := contendedClient(t), contendedClient(t)
	prefix := testPrefix(t, c1)
	stores := []*ReplayStore{{Client: c1, Prefix: prefix}, {Client: c2, Prefix: prefix}}
	var wins, replays atomic.Int32
	var wg sync.WaitGroup
	exp := time.Now().Add(time.Minute)
	for i := range 100 {
		wg.Go(func() {
			err := stores[i%2].Use(context.Background(), "same", exp)
			switch {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, signet.ErrReplay):
				replays.Add(1)
			default:
				t.Errorf("goroutine %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 || replays.Load() != 99 {
		t.Errorf("%d wins and %d replays, want 1 and 99", wins.Load(), replays.Load())
	}
}

func TestRateLimiter(t *testing.T) {
	c := testClient(t)
	limittest.Run(t, func(t *testing.T, now func() time.Time) signet.RateLimiter {
		return &RateLimiter{Client: c, Prefix: testPrefix(t, c), Now: now}
	})
}

// Two clients (two replicas) share one budget: the total holds.
func TestRateLimiterAcrossReplicas(t *testing.T) {
	c1, c2 := contendedClient(t), contendedClient(t)
	prefix := testPrefix(t, c1)
	clock := limittest.NewClock(limittest.Start)
	limittest.Concurrent(t, []signet.RateLimiter{
		&RateLimiter{Client: c1, Prefix: prefix, Now: clock.Now},
		&RateLimiter{Client: c2, Prefix: prefix, Now: clock.Now},
	})
}

// Its keys expire, a little after they stop mattering.
func TestRateLimiterKeysExpire(t *testing.T) {
	c := testClient(t)
	clock := limittest.NewClock(limittest.Start) // 10 s into a minute
	r := &RateLimiter{Client: c, Prefix: testPrefix(t, c), Now: clock.Now}
	ctx := context.Background()
	lim := signet.RateLimit{RequestsPerSecond: 1, Burst: 3, BytesPerMinute: 100}
	for range 3 {
		if err := r.Allow(ctx, "k", lim); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.AddBytes(ctx, "k", lim, 10); err != nil {
		t.Fatal(err)
	}
	minute := limittest.Start.Unix() / 60
	for _, tt := range []struct {
		key      string
		min, max time.Duration
	}{
		{r.Prefix + "rate:req:k", 62 * time.Second, 63 * time.Second},                             // 3 s of TAT + slack
		{r.Prefix + fmt.Sprintf("rate:bytes:%d:k", minute), 109 * time.Second, 110 * time.Second}, // 50 s + slack
	} {
		ttl, err := c.rdb.PTTL(ctx, tt.key).Result()
		if err != nil || ttl < tt.min || ttl > tt.max {
			t.Errorf("PTTL %s = %v, %v; want in [%v, %v]", tt.key, ttl, err, tt.min, tt.max)
		}
	}
	// A refused request writes nothing.
	before, _ := c.rdb.Get(ctx, r.Prefix+"rate:req:k").Result()
	if err := r.Allow(ctx, "k", lim); err == nil {
		t.Fatal("fourth request allowed")
	}
	if after, _ := c.rdb.Get(ctx, r.Prefix+"rate:req:k").Result(); after != before {
		t.Errorf("a refused request moved the TAT from %s to %s", before, after)
	}
	if before != fmt.Sprint(limittest.Start.UnixMicro()+3_000_000) {
		t.Errorf("TAT = %s, want %d (unix µs, no exponent)", before, limittest.Start.UnixMicro()+3_000_000)
	}
}

// Once Redis's script cache is flushed, the next call loads it again.
func TestRateLimiterScriptFlushed(t *testing.T) {
	c := testClient(t)
	r := &RateLimiter{Client: c, Prefix: testPrefix(t, c)}
	ctx := context.Background()
	lim := signet.RateLimit{RequestsPerSecond: 100}
	if err := r.Allow(ctx, "k", lim); err != nil {
		t.Fatal(err)
	}
	if err := c.rdb.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if err := r.Allow(ctx, "k", lim); err != nil {
		t.Fatalf("after SCRIPT FLUSH: %v", err)
	}
}

func TestUsage(t *testing.T) {
	c := contendedClient(t)
	limittest.RunUsage(t, func(t *testing.T) limittest.UsageStore {
		return &Usage{Client: c, Prefix: testPrefix(t, c)}
	})
}

func TestUsageLayoutAndExpiry(t *testing.T) {
	c := testClient(t)
	s := &Usage{Client: c, Prefix: testPrefix(t, c)}
	ctx := context.Background()
	at := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := s.Record(ctx, signet.Usage{KeyID: "k1", At: at, Requests: 1, BytesIn: 2, BytesOut: 3}); err != nil {
		t.Fatal(err)
	}
	h, err := c.rdb.HGetAll(ctx, s.Prefix+"usage:2024-01-02:key:k1").Result()
	if err != nil || h["requests"] != "1" || h["bytes_in"] != "2" || h["bytes_out"] != "3" {
		t.Errorf("hash usage:2024-01-02:key:k1 = %v, %v", h, err)
	}
	if m, err := c.rdb.SMembers(ctx, s.Prefix+"usage:2024-01-02:keys").Result(); err != nil || len(m) != 1 || m[0] != "k1" {
		t.Errorf("set usage:2024-01-02:keys = %v, %v", m, err)
	}
	for _, key := range []string{"usage:2024-01-02:key:k1", "usage:2024-01-02:keys"} {
		ttl, err := c.rdb.TTL(ctx, s.Prefix+key).Result()
		if err != nil || ttl < 399*24*time.Hour || ttl > 400*24*time.Hour {
			t.Errorf("TTL %s = %v, %v; want 400 days", key, ttl, err)
		}
	}
}

// An error reply that is a bug, not an outage, is not ErrStoreUnavailable.
func TestUsageWrongType(t *testing.T) {
	c := testClient(t)
	s := &Usage{Client: c, Prefix: testPrefix(t, c)}
	ctx := context.Background()
	c.rdb.Set(ctx, s.Prefix+"usage:2024-01-02:key:k1", "not a hash", time.Minute)
	err := s.Record(ctx, signet.Usage{KeyID: "k1", At: time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC), Requests: 1})
	if err == nil || errors.Is(err, signet.ErrStoreUnavailable) || !strings.Contains(err.Error(), "WRONGTYPE") {
		t.Errorf("got %v, want a WRONGTYPE error that is not ErrStoreUnavailable", err)
	}
}

// checkUnavailable asserts err is a 503 store_unavailable whose client
// message does not leak the cause.
func checkUnavailable(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, signet.ErrStoreUnavailable) || signet.Status(err) != 503 || signet.Code(err) != "store_unavailable" {
		t.Errorf("%s: got %v, want ErrStoreUnavailable (503 store_unavailable)", what, err)
		return
	}
	var se *signet.Error
	if !errors.As(err, &se) || se.Error() != "shared store unavailable: redis unavailable" {
		t.Errorf("%s: client message %q", what, se)
	}
}

// allOps runs every store operation against c and returns their errors.
func allOps(c *Client, prefix string) map[string]error {
	ctx := context.Background()
	lim := signet.RateLimit{RequestsPerSecond: 10, BytesPerMinute: 1000}
	r := &RateLimiter{Client: c, Prefix: prefix}
	u := &Usage{Client: c, Prefix: prefix}
	_, getErr := u.Get(ctx, "k", "2024-01-02")
	_, listErr := u.List(ctx, "2024-01-02")
	return map[string]error{
		"Ping":     c.Ping(ctx),
		"Use":      (&ReplayStore{Client: c, Prefix: prefix}).Use(ctx, "id", time.Now().Add(time.Minute)),
		"Allow":    r.Allow(ctx, "k", lim),
		"AddBytes": r.AddBytes(ctx, "k", lim, 10),
		"Record":   u.Record(ctx, signet.Usage{KeyID: "k", At: time.Now(), Requests: 1}),
		"Get":      getErr,
		"List":     listErr,
	}
}

// A client pointed at a closed port fails fast with 503s; keys without
// limits never reach Redis and keep working.
func TestClosedPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c, err := Open("redis://" + addr + "/0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	for op, err := range allOps(c, "signet-test:") {
		checkUnavailable(t, op, err)
		if err != nil && !strings.Contains(err.Error(), addr) {
			t.Errorf("%s: log message %q does not say what failed", op, err)
		}
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("7 operations against a closed port took %v", d)
	}
	r := &RateLimiter{Client: c}
	if err := r.Allow(context.Background(), "k", signet.RateLimit{}); err != nil {
		t.Errorf("unlimited key while Redis is down: %v", err)
	}
	if err := r.AddBytes(context.Background(), "k", signet.RateLimit{RequestsPerSecond: 1}, 10); err != nil {
		t.Errorf("AddBytes without a byte budget while Redis is down: %v", err)
	}
}

// A server that accepts connections but never answers costs one timeout.
func TestTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(io.Discard, conn); conn.Close() }()
		}
	}()
	c, err := Open("redis://" + ln.Addr().String() + "/0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	err = (&ReplayStore{Client: c}).Use(context.Background(), "id", time.Now().Add(time.Minute))
	checkUnavailable(t, "Use", err)
	if d := time.Since(start); d > time.Second {
		t.Errorf("a silent server held the request for %v, want about %v", d, DefaultTimeout)
	}
}

// The caller's cancellation is not an outage.
func TestCanceled(t *testing.T) {
	c := testClient(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := (&ReplayStore{Client: c, Prefix: testPrefix(t, c)}).Use(ctx, "id", time.Now().Add(time.Minute))
	if !errors.Is(err, context.Canceled) || errors.Is(err, signet.ErrStoreUnavailable) {
		t.Errorf("got %v, want context.Canceled, not ErrStoreUnavailable", err)
	}
}

// proxy forwards TCP connections to Redis; stopping it is an outage the
// client sees exactly as a Redis restart.
type proxy struct {
	target string
	addr   string
	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]bool
}

func (p *proxy) start(t *testing.T) {
	t.Helper()
	addr := p.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var ln net.Listener
	var err error
	for range 50 { // the port may linger briefly after stop
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	if p.conns == nil {
		p.conns = make(map[net.Conn]bool)
	}
	p.mu.Unlock()
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", p.target)
			if err != nil {
				in.Close()
				continue
			}
			p.mu.Lock()
			p.conns[in], p.conns[out] = true, true
			p.mu.Unlock()
			go func() { io.Copy(out, in); out.Close() }()
			go func() { io.Copy(in, out); in.Close() }()
		}
	}()
}

func (p *proxy) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
	}
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// The client recovers by itself when Redis comes back.
func TestReconnects(t *testing.T) {
	raw := redisURL(t)
	opt, err := goredis.ParseURL(raw)
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{target: opt.Addr}
	p.start(t)
	defer p.stop()
	u, _ := url.Parse(raw)
	u.Host = p.addr
	c := openURL(t, u.String())
	prefix := testPrefix(t, testClient(t))

	for op, err := range allOps(c, prefix) {
		if err != nil {
			t.Fatalf("before the outage: %s: %v", op, err)
		}
	}

	p.stop()
	// Enough failed dials to trip go-redis's breaker (PoolSize of them),
	// after which it probes Redis once a second in the background.
	for range 2 * c.rdb.Options().PoolSize / 7 {
		for op, err := range allOps(c, prefix) {
			checkUnavailable(t, "during the outage: "+op, err)
		}
	}

	p.start(t)
	back := time.Now()
	deadline := back.Add(5 * time.Second)
	for {
		err := c.Ping(context.Background())
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not reconnected 5 s after Redis came back: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("reconnected %v after Redis came back", time.Since(back).Round(time.Millisecond))
	for op, err := range allOps(c, prefix) {
		if op == "Use" && errors.Is(err, signet.ErrReplay) {
			continue // recorded before the outage
		}
		if err != nil {
			t.Errorf("after the outage: %s: %v", op, err)
		}
	}
}

func TestOpen(t *testing.T) {
	tests := []struct {
		name, url string
		ok        bool
	}{
		{"tcp", "redis://127.0.0.1:6379/0", true},
		{"password", "redis://user:pw@127.0.0.1:6379/1", true},
		{"tls", "rediss://127.0.0.1:6379", true},
		{"unix", "unix:///run/redis.sock?db=2", true},
		{"scheme", "http://user:s3cret@127.0.0.1", false},
		{"bad URL", "redis://user:s3cret@[::1/0", false},
		{"bad db", "redis://user:s3cret@127.0.0.1/x", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Open(tt.url)
			if (err == nil) != tt.ok {
				t.Fatalf("Open(%q) error %v, want ok=%v", tt.url, err, tt.ok)
			}
			if err != nil {
				if strings.Contains(err.Error(), "s3cret") {
					t.Errorf("error %q reveals the password", err)
				}
				return
			}
			defer c.Close()
			o := c.rdb.Options()
			if o.DialTimeout != DefaultTimeout || o.ReadTimeout != DefaultTimeout ||
				o.WriteTimeout != DefaultTimeout || o.PoolTimeout != DefaultTimeout {
				t.Errorf("timeouts dial %v read %v write %v pool %v, want %v",
					o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout, DefaultTimeout)
			}
			if o.MaxRetries != 0 || !o.ContextTimeoutEnabled {
				t.Errorf("MaxRetries %d, ContextTimeoutEnabled %v; want 0 (none), true", o.MaxRetries, o.ContextTimeoutEnabled)
			}
		})
	}
	c, err := Open("redis://127.0.0.1/0?dial_timeout=2s")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := c.rdb.Options().DialTimeout; got != 2*time.Second {
		t.Errorf("dial_timeout=2s in the URL gave %v", got)
	}
}

// replyError is an error reply as the server sends it.
type replyError string

func (e replyError) Error() string { return string(e) }
func (replyError) RedisError()     {}

func TestStoreError(t *testing.T) {
	tests := []struct {
		name        string
		err         error
		unavailable bool
	}{
		{"refused", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}, true},
		{"EOF", io.EOF, true},
		{"deadline", os.ErrDeadlineExceeded, true},
		{"context deadline", context.DeadlineExceeded, true},
		{"pool timeout", goredis.ErrPoolTimeout, true},
		{"closed", goredis.ErrClosed, true},
		{"loading", replyError("LOADING Redis is loading the dataset in memory"), true},
		{"readonly", replyError("READONLY You can't write against a read only replica."), true},
		{"oom", replyError("OOM command not allowed when used memory > 'maxmemory'."), true},
		{"busy", replyError("BUSY Redis is busy running a script."), true},
		{"noauth", replyError("NOAUTH Authentication required."), true},
		{"max clients", replyError("ERR max number of clients reached"), true},
		{"canceled", context.Canceled, false},
		{"wrongtype", replyError("WRONGTYPE Operation against a key holding the wrong kind of value"), false},
		{"syntax", replyError("ERR syntax error"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := storeError("op", tt.err)
			if got := errors.Is(err, signet.ErrStoreUnavailable); got != tt.unavailable {
				t.Errorf("storeError(%v) = %v; unavailable %v, want %v", tt.err, err, got, tt.unavailable)
			}
			if !errors.Is(err, tt.err) {
				t.Errorf("storeError(%v) = %v does not wrap its cause", tt.err, err)
			}
			if !strings.HasPrefix(err.Error(), "redis: op: ") {
				t.Errorf("message %q lacks the package and operation", err)
			}
		})
	}
	if storeError("op", nil) != nil {
		t.Error("storeError(nil) != nil")
	}
}

func BenchmarkReplayUse(b *testing.B) {
	c := testClient(b)
	s := &ReplayStore{Client: c, Prefix: testPrefix(b, c)}
	ctx := context.Background()
	exp := time.Now().Add(time.Minute)
	var i atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := s.Use(ctx, fmt.Sprint(i.Add(1)), exp); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkRateLimitAllow(b *testing.B) {
	c := testClient(b)
	r := &RateLimiter{Client: c, Prefix: testPrefix(b, c)}
	ctx := context.Background()
	lim := signet.RateLimit{RequestsPerSecond: 1e6, Burst: 1e6, BytesPerMinute: 1 << 50}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			err := r.Allow(ctx, "bench", lim)
			var rl *signet.RateLimitError
			if err != nil && !errors.As(err, &rl) {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkUsageRecord(b *testing.B) {
	c := testClient(b)
	s := &Usage{Client: c, Prefix: testPrefix(b, c)}
	ctx := context.Background()
	u := signet.Usage{KeyID: "bench", At: time.Now(), Requests: 1, BytesIn: 100, BytesOut: 1000}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := s.Record(ctx, u); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
