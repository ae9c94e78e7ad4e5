package ratelimit_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/signet-dev/signet"
	"github.com/signet-dev/signet/internal/limittest"
	"github.com/signet-dev/signet/ratelimit"
)

func TestMemory(t *testing.T) {
	limittest.Run(t, func(t *testing.T, now func() time.Time) signet.RateLimiter {
		return &ratelimit.Memory{Now: now}
	})
}

func TestMemoryConcurrent(t *testing.T) {
	clock := limittest.NewClock(limittest.Start)
	limittest.Concurrent(t, []signet.RateLimiter{&ratelimit.Memory{Now: clock.Now}})
}

func TestParams(t *testing.T) {
	tests := []struct {
		name                string
		limit               signet.RateLimit
		interval, tolerance int64
	}{
		{"zero", signet.RateLimit{}, 0, 0},
		{"bytes only", signet.RateLimit{BytesPerMinute: 10}, 0, 0},
		{"negative", signet.RateLimit{RequestsPerSecond: -1}, 0, 0},
		{"NaN", signet.RateLimit{RequestsPerSecond: math.NaN()}, 0, 0},
		{"one", signet.RateLimit{RequestsPerSecond: 1}, 1e6, 1e6},
		{"default burst floors", signet.RateLimit{RequestsPerSecond: 2.9}, 344828, 2 * 344828},
		{"explicit burst", signet.RateLimit{RequestsPerSecond: 4, Burst: 10}, 250000, 2500000},
		{"negative burst is the default", signet.RateLimit{RequestsPerSecond: 4, Burst: -3}, 250000, 1e6},
		{"very fast", signet.RateLimit{RequestsPerSecond: 1e9}, 1, ratelimit.MaxBurst},
		{"infinite", signet.RateLimit{RequestsPerSecond: math.Inf(1)}, 1, ratelimit.MaxBurst},
		{"very slow", signet.RateLimit{RequestsPerSecond: 1e-9}, ratelimit.MaxInterval, ratelimit.MaxInterval},
		{"huge burst", signet.RateLimit{RequestsPerSecond: 1, Burst: math.MaxInt}, 1e6, 1e6 * ratelimit.MaxBurst},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iv, tol := ratelimit.Params(tt.limit)
			if iv != tt.interval || tol != tt.tolerance {
				t.Errorf("got (%d, %d), want (%d, %d)", iv, tol, tt.interval, tt.tolerance)
			}
			if tol >= 1<<53-(1<<51) {
				t.Errorf("tolerance %d risks losing precision in Lua", tol)
			}
		})
	}
}

func TestMinute(t *testing.T) {
	tests := []struct{ us, minute, until int64 }{
		{0, 0, 60e6},
		{1, 0, 60e6 - 1},
		{60e6 - 1, 0, 1},
		{60e6, 1, 60e6},
		{-1, -1, 1},
		{-60e6, -1, 60e6},
	}
	for _, tt := range tests {
		m, u := ratelimit.Minute(tt.us)
		if m != tt.minute || u != tt.until {
			t.Errorf("Minute(%d) = %d, %d; want %d, %d", tt.us, m, u, tt.minute, tt.until)
		}
	}
}

// Idle keys are forgotten when the table has doubled since the last sweep
// (1024, 2048, 4096, 8192, ...); busy ones are kept.
func TestMemoryEvictsIdleKeys(t *testing.T) {
	clock := limittest.NewClock(limittest.Start)
	m := &ratelimit.Memory{Now: clock.Now}
	ctx := context.Background()
	lim := signet.RateLimit{RequestsPerSecond: 1}
	for i := range 5000 {
		if err := m.Allow(ctx, fmt.Sprint("idle", i), lim); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(time.Second) // every key has its budget back
	if err := m.Allow(ctx, "busy", signet.RateLimit{RequestsPerSecond: 1, Burst: 1}); err != nil {
		t.Fatal(err)
	}
	for i := range 4000 { // crosses 8192 entries: a sweep
		if err := m.Allow(ctx, fmt.Sprint("new", i), lim); err != nil {
			t.Fatal(err)
		}
	}
	if n := m.Len(); n != 4001 {
		t.Errorf("Len = %d after the idle keys expired, want 4001 (busy and new)", n)
	}
	if err := m.Allow(ctx, "busy", signet.RateLimit{RequestsPerSecond: 1, Burst: 1}); err == nil {
		t.Error("a busy key lost its state in a sweep")
	}
}

func TestMemoryFull(t *testing.T) {
	clock := limittest.NewClock(limittest.Start)
	m := &ratelimit.Memory{Now: clock.Now, MaxKeys: 3}
	ctx := context.Background()
	lim := signet.RateLimit{RequestsPerSecond: 1}
	for i := range 3 {
		if err := m.Allow(ctx, fmt.Sprint(i), lim); err != nil {
			t.Fatal(err)
		}
	}
	err := m.Allow(ctx, "3", lim)
	if !errors.Is(err, ratelimit.ErrFull) || signet.Status(err) != 503 {
		t.Fatalf("over MaxKeys with busy keys: got %v, want ErrFull (503)", err)
	}
	if err := m.AddBytes(ctx, "3", signet.RateLimit{BytesPerMinute: 1}, 1); !errors.Is(err, signet.ErrStoreUnavailable) {
		t.Fatalf("AddBytes over MaxKeys: got %v, want ErrStoreUnavailable", err)
	}
	clock.Advance(time.Second)
	if err := m.Allow(ctx, "3", lim); err != nil {
		t.Fatalf("after the keys went idle: %v", err)
	}
	// Full again: within a second of the last sweep, refusals do not scan
	// the table; a second later, the sweep finds the keys idle.
	for _, id := range []string{"4", "5"} {
		if err := m.Allow(ctx, id, lim); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Allow(ctx, "6", lim); !errors.Is(err, ratelimit.ErrFull) {
		t.Fatalf("full: %v", err)
	}
	clock.Advance(999 * time.Millisecond)
	if err := m.Allow(ctx, "6", lim); !errors.Is(err, ratelimit.ErrFull) {
		t.Fatalf("full, swept 999 ms ago: %v", err)
	}
	clock.Advance(time.Millisecond)
	if err := m.Allow(ctx, "6", lim); err != nil {
		t.Fatalf("full, swept a second ago, idle keys: %v", err)
	}
	if err := m.Allow(ctx, "0", lim); err != nil {
		t.Fatalf("a forgotten idle key has its whole budget: %v", err)
	}
}

func ExampleMemory() {
	now := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	m := &ratelimit.Memory{Now: func() time.Time { return now }}
	lim := signet.RateLimit{RequestsPerSecond: 2, Burst: 2}
	for range 3 {
		err := m.Allow(context.Background(), "key1", lim)
		var rl *signet.RateLimitError
		if errors.As(err, &rl) {
			fmt.Println("refused, retry after", rl.RetryAfter)
			continue
		}
		fmt.Println("allowed")
	}
	// Output:
	// allowed
	// allowed
	// refused, retry after 500ms
}

func BenchmarkVerifyRateLimitMemory(b *testing.B) {
	t := limittest.Start
	// Each call one millisecond later: always within the budget.
	m := &ratelimit.Memory{Now: func() time.Time { t = t.Add(time.Millisecond); return t }}
	ctx := context.Background()
	lim := signet.RateLimit{RequestsPerSecond: 1000, BytesPerMinute: 1 << 60}
	b.ReportAllocs()
	for b.Loop() {
		if err := m.Allow(ctx, "bench", lim); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRateLimitAllowMemoryParallel(b *testing.B) {
	m := &ratelimit.Memory{}
	lim := signet.RateLimit{RequestsPerSecond: 1e9, Burst: 1e6}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			_ = m.Allow(ctx, "bench", lim)
		}
	})
}
