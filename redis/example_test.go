package redis_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/signet-dev/signet"
	"github.com/signet-dev/signet/redis"
)

// While Redis cannot be reached, the stores answer 503 store_unavailable
// after at most redis.DefaultTimeout; the gateway then fails closed, or
// open for keys with FailOpen.
func ExampleOpen() {
	c, err := redis.Open("redis://127.0.0.1:1/0") // nothing listens there
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	err = (&redis.ReplayStore{Client: c}).Use(context.Background(), "id", time.Now().Add(time.Minute))
	var se *signet.Error
	errors.As(err, &se)
	fmt.Println(signet.Status(err), signet.Code(err))
	fmt.Println(se) // what the client is told; err itself also says why, for logs
	// Output:
	// 503 store_unavailable
	// shared store unavailable: redis unavailable
}

// It needs a Redis server, so it is compiled but not run.
func ExampleReplayStore() {
	c, err := redis.Open("redis://127.0.0.1:6379/0")
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	store := &redis.ReplayStore{Client: c} // keys start with "signet:"
	ctx := context.Background()
	id := signet.NonceReplayID(signet.SchemeRFC9421, "key1", "nonce-1")
	expires := time.Now().Add(5 * time.Minute)
	fmt.Println(store.Use(ctx, id, expires))                              // on one replica
	fmt.Println(errors.Is(store.Use(ctx, id, expires), signet.ErrReplay)) // on any other
}

// It needs a Redis server, so it is compiled but not run.
func ExampleRateLimiter() {
	c, err := redis.Open("redis://127.0.0.1:6379/0")
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	limiter := &redis.RateLimiter{Client: c}
	lim := signet.RateLimit{RequestsPerSecond: 10, Burst: 20, BytesPerMinute: 10 << 20}
	ctx := context.Background()
	var rl *signet.RateLimitError
	switch err := limiter.Allow(ctx, "key1", lim); {
	case errors.As(err, &rl):
		fmt.Println("429, Retry-After", rl.RetryAfter)
	case err != nil:
		fmt.Println("503:", err) // Redis unreachable
	default:
		// ... proxy the request, then charge what it transferred:
		_ = limiter.AddBytes(ctx, "key1", lim, 4096)
	}
}

// It needs a Redis server, so it is compiled but not run.
func ExampleUsage() {
	c, err := redis.Open("redis://127.0.0.1:6379/0")
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	meter := &redis.Usage{Client: c}
	ctx := context.Background()
	at := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	_ = meter.Record(ctx, signet.Usage{KeyID: "key1", At: at, Requests: 1, BytesIn: 120, BytesOut: 4096})
	totals, err := meter.List(ctx, "2024-01-02")
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range totals {
		fmt.Println(t.KeyID, t.Requests, t.BytesIn, t.BytesOut)
	}
}
