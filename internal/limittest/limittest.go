// Package limittest holds the expectations every signet.RateLimiter and
// usage recorder in Signet must meet, written once and run against each
// implementation (ratelimit.Memory and redis.RateLimiter; usage.Memory and
// redis.Usage), so that their answers are identical: rate limits to the
// microsecond, usage totals to the byte.
package limittest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signet-dev/signet"
)

// Start is the fake clock's initial time: ten seconds into a UTC minute.
var Start = time.Date(2024, 1, 2, 3, 4, 10, 0, time.UTC)

// Clock is a fake clock safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a Clock set to t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Factory returns a fresh limiter (no key has used any budget) whose clock
// is now.
type Factory func(t *testing.T, now func() time.Time) signet.RateLimiter

// Step is one operation of a Case.
type Step struct {
	Advance time.Duration // the clock moves by this first
	Key     string        // key id; "" means "k"
	Add     int64         // when not 0, AddBytes(Add) instead of Allow
	// Want is Allow's expected RetryAfter; 0 means allowed.
	Want time.Duration
}

// Case is a sequence of steps against a fresh limiter.
type Case struct {
	Name  string
	Limit signet.RateLimit
	Start time.Time // zero means Start
	Steps []Step
}

const us = time.Microsecond

// allow returns n steps that must be allowed.
func allow(n int) []Step { return make([]Step, n) }

// Cases are the shared expectations. RetryAfter values are exact: both
// limiters count in whole microseconds.
var Cases = []Case{
	{
		Name:  "burst then one per interval",
		Limit: signet.RateLimit{RequestsPerSecond: 1, Burst: 3},
		Steps: cat(allow(3),
			[]Step{
				{Want: time.Second},
				{Want: time.Second}, // a refused request costs nothing
				{Advance: 250 * time.Millisecond, Want: 750 * time.Millisecond},
				{Advance: 750 * time.Millisecond},
				{Want: time.Second},
				{Advance: 10 * time.Second}, {}, {},
				{Want: time.Second},
			}),
	},
	{
		Name:  "default burst is rps",
		Limit: signet.RateLimit{RequestsPerSecond: 2},
		Steps: []Step{{}, {}, {Want: 500 * time.Millisecond}, {Advance: 499 * time.Millisecond, Want: time.Millisecond}, {Advance: time.Millisecond}},
	},
	{
		Name:  "fractional rate, burst 1",
		Limit: signet.RateLimit{RequestsPerSecond: 0.5},
		Steps: []Step{{}, {Want: 2 * time.Second}, {Advance: time.Second, Want: time.Second}, {Advance: time.Second}, {Want: 2 * time.Second}},
	},
	{
		Name:  "interval rounds to microseconds",
		Limit: signet.RateLimit{RequestsPerSecond: 3},
		Steps: cat(allow(3), []Step{{Want: 333333 * us}, {Advance: 333332 * us, Want: us}, {Advance: us}, {Want: 333333 * us}}),
	},
	{
		Name:  "burst larger than rate",
		Limit: signet.RateLimit{RequestsPerSecond: 10, Burst: 50},
		Steps: cat(allow(50), []Step{{Want: 100 * time.Millisecond}, {Advance: time.Second}}, allow(9), []Step{{Want: 100 * time.Millisecond}}),
	},
	{
		Name:  "keys are independent",
		Limit: signet.RateLimit{RequestsPerSecond: 1},
		Steps: []Step{{Key: "a"}, {Key: "a", Want: time.Second}, {Key: "b"}, {Key: "b", Want: time.Second}, {Key: "a:1"}},
	},
	{
		Name:  "no limit",
		Limit: signet.RateLimit{},
		Steps: cat(allow(100), []Step{{Add: 1 << 40}}, allow(1)),
	},
	{
		Name:  "bytes per minute",
		Limit: signet.RateLimit{BytesPerMinute: 1000},
		Steps: []Step{
			{}, {Add: 600}, {}, {Add: 399}, {}, {Add: 1},
			{Want: 50 * time.Second}, // until the next UTC minute
			{Advance: 49 * time.Second, Want: time.Second},
			{Advance: 999 * time.Millisecond, Want: time.Millisecond},
			{Advance: time.Millisecond}, // a new minute: a new budget
			{Add: 5000}, {Want: time.Minute},
			{Add: -10}, {Want: time.Minute}, // nothing is refunded
			{Advance: time.Minute},
		},
	},
	{
		Name:  "bytes charged before the limit was reached pass",
		Limit: signet.RateLimit{BytesPerMinute: 10},
		Steps: []Step{{Add: 9}, {}, {Add: 9}, {Want: 50 * time.Second}, {Key: "other"}},
	},
	{
		Name:  "requests and bytes: the longer wait wins",
		Limit: signet.RateLimit{RequestsPerSecond: 1, BytesPerMinute: 100},
		Steps: []Step{
			{}, {Add: 100}, {Want: 50 * time.Second},
			{Advance: 50 * time.Second}, {Want: time.Second},
			{Add: 100}, {Advance: time.Second, Want: 59 * time.Second},
		},
	},
	{
		Name:  "request wait longer than the byte wait",
		Limit: signet.RateLimit{RequestsPerSecond: 1.0 / 120, BytesPerMinute: 1},
		Steps: []Step{{}, {Add: 1}, {Want: 120 * time.Second}, {Advance: 61 * time.Second, Want: 59 * time.Second}},
	},
	{
		Name:  "minute boundary",
		Limit: signet.RateLimit{BytesPerMinute: 1},
		Start: time.Date(2024, 1, 2, 3, 4, 59, 999_999_000, time.UTC),
		Steps: []Step{{Add: 1}, {Want: us}, {Advance: us}},
	},
	{
		Name:  "idle key gets its whole burst back",
		Limit: signet.RateLimit{RequestsPerSecond: 100, Burst: 5},
		Steps: cat(allow(5), []Step{{Want: 10 * time.Millisecond}, {Advance: time.Hour}}, allow(4), []Step{{Want: 10 * time.Millisecond}}),
	},
}

func cat(parts ...[]Step) []Step {
	var out []Step
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// Run checks every Case against limiters made by f, each case as a subtest.
func Run(t *testing.T, f Factory) {
	for _, c := range Cases {
		t.Run(c.Name, func(t *testing.T) {
			start := c.Start
			if start.IsZero() {
				start = Start
			}
			clock := NewClock(start)
			l := f(t, clock.Now)
			ctx := context.Background()
			for i, s := range c.Steps {
				clock.Advance(s.Advance)
				key := s.Key
				if key == "" {
					key = "k"
				}
				if s.Add != 0 {
					if err := l.AddBytes(ctx, key, c.Limit, s.Add); err != nil {
						t.Fatalf("step %d: AddBytes(%d): %v", i, s.Add, err)
					}
					continue
				}
				err := l.Allow(ctx, key, c.Limit)
				if got := RetryAfter(t, err); got != s.Want {
					t.Fatalf("step %d at +%v: Allow: got RetryAfter %v (err %v), want %v",
						i, clock.Now().Sub(start), got, err, s.Want)
				}
			}
		})
	}
}

// RetryAfter returns 0 when err is nil and the RetryAfter of a
// *signet.RateLimitError; any other error fails the test.
func RetryAfter(t testing.TB, err error) time.Duration {
	t.Helper()
	if err == nil {
		return 0
	}
	var rl *signet.RateLimitError
	if !errors.As(err, &rl) || !errors.Is(err, signet.ErrRateLimited) {
		t.Fatalf("got %v (%T), want a *signet.RateLimitError", err, err)
	}
	if signet.Status(err) != 429 || signet.Code(err) != "rate_limited" {
		t.Fatalf("%v: status %d code %q, want 429 rate_limited", err, signet.Status(err), signet.Code(err))
	}
	if rl.RetryAfter <= 0 {
		t.Fatalf("%v: RetryAfter %v, want > 0", err, rl.RetryAfter)
	}
	return rl.RetryAfter
}

// Concurrent sends 100 requests at one instant from 100 goroutines, spread
// over limiters (several replicas sharing one budget, or one limiter), and
// checks that exactly the burst (10) is allowed in total.
func Concurrent(t *testing.T, limiters []signet.RateLimiter) {
	const n, burst = 100, 10
	lim := signet.RateLimit{RequestsPerSecond: 1, Burst: burst}
	var allowed, refused atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			err := limiters[i%len(limiters)].Allow(context.Background(), "concurrent", lim)
			var rl *signet.RateLimitError
			switch {
			case err == nil:
				allowed.Add(1)
			case errors.As(err, &rl):
				refused.Add(1)
			default:
				errs <- fmt.Errorf("goroutine %d: %w", i, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if allowed.Load() != burst || refused.Load() != n-burst {
		t.Errorf("allowed %d, refused %d; want %d and %d", allowed.Load(), refused.Load(), burst, n-burst)
	}
}
